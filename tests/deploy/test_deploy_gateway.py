"""The nginx gateway: the committed config passes `nginx -t`, and the same routes, pointed at a
real service process, serve /api/<service>/… on one origin with problem+json errors."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from deploy_support import DEPLOY, TOOLS_HINT, ServiceUnderTest, closed_port, tool

from salesflow.testing.helpers import free_port


def _nginx() -> str:
    nginx = tool("nginx")
    if nginx is None:
        pytest.skip(f"nginx not installed: {TOOLS_HINT}")
    return nginx


def _main_conf(tmp: Path, include: Path, *, port: int | None = None) -> Path:
    """What the nginx image wraps conf.d/default.conf in: an http block. Temp paths in tmp."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    text = (
        include.read_text()
        if port is None
        else include.read_text().replace("listen 80;", f"listen 127.0.0.1:{port};")
    )
    (tmp / "site.conf").write_text(text)
    conf.write_text(
        f"""daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    )
    return conf


def test_committed_gateway_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _nginx()
    conf = _main_conf(tmp_path, DEPLOY / "gateway/salesflow.conf")
    done = subprocess.run(
        [nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


@pytest.fixture
def gateway(
    tmp_path: Path, generator: ModuleType, controlling_service: ServiceUnderTest
) -> Iterator[str]:
    """The generated routes with controlling at its real process and every other service at a
    closed port (a service that is down)."""
    nginx = _nginx()
    services, _ = generator.load_model()
    down = closed_port()
    ports = {s.name: down for s in services}
    ports["controlling"] = controlling_service.port
    site = tmp_path / "routes.conf"
    text = generator.render_gateway(services, upstream="127.0.0.1:{service}", resolver=None)
    for name, port in ports.items():
        text = text.replace(f"127.0.0.1:{name};", f"127.0.0.1:{port};")
    site.write_text(text)
    port = free_port()
    conf = _main_conf(tmp_path, site, port=port)
    log = open(tmp_path / "nginx.log", "wb")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [nginx, "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, (tmp_path / "nginx.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.mark.slow
def test_gateway_routes_to_the_service_and_strips_the_prefix(gateway: str) -> None:
    resp = httpx.get(f"{gateway}/api/controlling/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "service": "controlling"}
    # the query string and the service's own problem+json answers pass through
    resp = httpx.get(f"{gateway}/api/controlling/funnel?from=2026-01-01T00:00:00Z")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    resp = httpx.get(f"{gateway}/api/controlling/openapi.json")
    assert resp.status_code == 200 and "/funnel" in resp.json()["paths"]
    resp = httpx.get(f"{gateway}/api/controlling", follow_redirects=False)
    assert resp.status_code == 308 and resp.headers["location"].endswith("/api/controlling/")


@pytest.mark.slow
def test_gateway_docs_load_the_prefixed_openapi(gateway: str) -> None:
    html = httpx.get(f"{gateway}/api/controlling/docs").text
    assert "url: '/api/controlling/openapi.json'" in html
    assert "url: '/openapi.json'" not in html


@pytest.mark.slow
def test_gateway_answers_problem_json_for_what_it_cannot_serve(gateway: str) -> None:
    resp = httpx.get(f"{gateway}/api/leads/healthz")  # leads is down
    assert resp.status_code == 503
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["status"] == 503
    resp = httpx.get(f"{gateway}/nowhere")
    assert resp.status_code == 404 and resp.json()["title"] == "Not Found"
    resp = httpx.post(
        f"{gateway}/api/controlling/funnel",
        content=b"x" * (3 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 413 and resp.json()["status"] == 413
    assert httpx.get(f"{gateway}/healthz").json() == {"status": "ok", "service": "gateway"}


@pytest.mark.slow
def test_gateway_passes_forwarding_headers_and_the_correlation_id(gateway: str) -> None:
    resp = httpx.get(
        f"{gateway}/api/controlling/healthz", headers={"X-Correlation-Id": "journey-42"}
    )
    assert resp.headers["x-correlation-id"] == "journey-42"
