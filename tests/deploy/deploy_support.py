"""Helpers and fixtures of the deployment tests: the repository's deployment files, parsed,
and what the code says they must match (services, topics, settings classes)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

from salesflow import registry
from salesflow.contracts.catalog import all_topics, dlq_topic
from salesflow.service import DEFAULT_PARTITIONS
from salesflow.settings import ServiceSettings
from salesflow.testing.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TOOLS_BIN = Path(os.environ.get("SALESFLOW_DEPLOY_TOOLS", ROOT / ".cache/deploy-tools")) / "bin"
TOOLS_HINT = "run deploy/scripts/deploy-tools.sh (installs nginx and kustomize for these tests)"

# Environment variables the deployment sets that are not ServiceSettings fields, and who reads them.
NON_SETTINGS_ENV = {
    "SALESFLOW_SERVICE": "the image's entrypoint and health check",
    "SALESFLOW_SERVICE_FILE": "the image's entrypoint and health check",
    "PORT": "the image's entrypoint (listen port)",
    "HOST": "the image's entrypoint (listen address)",
    "FORWARDED_ALLOW_IPS": "uvicorn (trust X-Forwarded-* from the gateway)",
}


def tool(name: str) -> str | None:
    """A tool installed by deploy/scripts/deploy-tools.sh, else one on PATH."""
    local = TOOLS_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "salesflow_deploy_generate", DEPLOY / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    return load_generator()


@pytest.fixture(scope="session")
def services() -> tuple[str, ...]:
    return registry.SERVICES


@pytest.fixture(scope="session")
def expected_topics() -> dict[str, int]:
    """Every topic the system needs, with its partitions: the catalog's plus each DLQ (which a
    service creates with DEFAULT_PARTITIONS)."""
    # a test process may have registered topics of its own (the probe service's): not ours
    topics = {
        name: spec.partitions
        for name, spec in all_topics().items()
        if spec.producer in registry.SERVICES or spec.external
    }
    topics.update({dlq_topic(s): DEFAULT_PARTITIONS for s in registry.SERVICES})
    return topics


@pytest.fixture(scope="session")
def settings_classes() -> dict[str, type[ServiceSettings]]:
    return {s: importlib.import_module(f"{s}.config").Settings for s in registry.SERVICES}


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def manifest_files() -> list[Path]:
    return sorted((DEPLOY / "k8s").rglob("*.yaml"))


@pytest.fixture(scope="session")
def manifests() -> list[tuple[Path, dict[str, Any]]]:
    """(file, document) for every YAML document under deploy/k8s."""
    docs = []
    for path in manifest_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((path, doc))
    return docs


def setting_field(name: str, service: str, cls: type[ServiceSettings]) -> str | None:
    """The Settings field an environment variable sets, by the rule of salesflow.settings:
    ``SALESFLOW_<SERVICE>_<FIELD>``, then ``SALESFLOW_<FIELD>``; plus un-prefixed
    ``KAFKA_BOOTSTRAP_SERVERS``. None when it sets nothing."""
    upper = name.upper()
    if upper == "KAFKA_BOOTSTRAP_SERVERS":
        return "kafka_bootstrap_servers"
    for prefix in (f"SALESFLOW_{service.upper()}_", "SALESFLOW_"):
        if upper.startswith(prefix):
            field = upper[len(prefix) :].lower()
            if field in cls.model_fields:
                return field
    return None


def unknown_env(env: dict[str, str], service: str, cls: type[ServiceSettings]) -> list[str]:
    return sorted(
        name
        for name in env
        if name not in NON_SETTINGS_ENV and setting_field(name, service, cls) is None
    )


def interpolate(value: str, variables: dict[str, str]) -> str:
    """docker compose interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        current = variables.get(name, "")
        if op == ":-":
            return current or arg
        if op == ":?":
            if not current:
                raise KeyError(f"{name} is required: {arg}")
            return current
        return current

    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-?])([^}]*))?\}", one, value)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SALESFLOW_*/KAFKA_* variables of the test process leak into Settings()."""
    for name in list(os.environ):
        if name.upper().startswith(("SALESFLOW_", "KAFKA_")):
            monkeypatch.delenv(name)
    return monkeypatch


# -- a real service process (controlling on SQLite; no broker needed for /healthz, /docs) ------


class ServiceUnderTest:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path, env: dict[str, str]):
        self.proc = proc
        self.port = port
        self.log = log
        self.env = env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


def start_via_entrypoint(
    tmp_path: Path,
    service: str = "controlling",
    *args: str,
    extra_env: dict[str, str] | None = None,
) -> ServiceUnderTest:
    """Runs deploy/docker/entrypoint.sh as the image would (``<image> <service>``), with the
    venv's commands on PATH and the service's database migrated first."""
    port = free_port()
    db = tmp_path / f"{service}.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SALESFLOW_", "KAFKA_"))},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        f"SALESFLOW_{service.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SALESFLOW_SERVICE_FILE": str(tmp_path / "salesflow-service"),
        "SALESFLOW_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    entrypoint = str(DEPLOY / "docker/entrypoint.sh")
    migrated = subprocess.run(
        ["sh", entrypoint, "migrate", service], env=env, capture_output=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr.decode()[-2000:]
    log = tmp_path / f"{service}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["sh", entrypoint, *(args or (service,))],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    svc = ServiceUnderTest(proc, port, log, env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"service exited with {proc.returncode}:\n{svc.tail()}")
        try:
            if httpx.get(f"{svc.url}/healthz", timeout=1).status_code == 200:
                return svc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(svc)
    raise AssertionError(f"no /healthz within 60 s:\n{svc.tail()}")


def stop(svc: ServiceUnderTest, timeout: float = 30) -> int:
    if svc.proc.poll() is None:
        svc.proc.send_signal(signal.SIGTERM)
        try:
            svc.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            svc.proc.kill()
            svc.proc.wait(10)
    return svc.proc.returncode


@pytest.fixture(scope="module")
def controlling_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    """The controlling service started by the image's entrypoint, shared by a module's tests."""
    svc = start_via_entrypoint(tmp_path_factory.mktemp("controlling"))
    try:
        yield svc
    finally:
        stop(svc)
