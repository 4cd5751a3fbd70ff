"""`salesflow dev` brings the whole platform up from nothing and takes it down again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from salesflow import registry
from salesflow.broker import port_free
from salesflow.testing.helpers import free_port, free_port_block
from salesflow.testing.plugin import test_broker_kind

pytestmark = pytest.mark.slow


def _free_offset() -> int:
    return free_port_block(list(registry.PORTS.values()))


def test_dev_starts_and_stops_everything(tmp_path: Path) -> None:
    offset = _free_offset()
    broker_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALESFLOW_", "KAFKA_"))}
    cmd = [
        str(Path(sys.executable).with_name("salesflow")),
        "dev",
        "--broker",
        test_broker_kind(),
        "--broker-port",
        str(broker_port),
        "--data-dir",
        str(tmp_path / "data"),
        "--port-offset",
        str(offset),
    ]
    out = tmp_path / "dev.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while "all seven services ready" not in out.read_text(errors="replace"):
            assert proc.poll() is None, out.read_text(errors="replace")
            assert time.monotonic() < deadline, out.read_text(errors="replace")
            time.sleep(0.2)
        for name, port in registry.PORTS.items():
            resp = httpx.get(f"http://127.0.0.1:{port + offset}/readyz", timeout=5)
            assert resp.status_code == 200, (name, resp.text)
            assert resp.json()["checks"] == {"database": "ok", "broker": "ok"}
        for name in registry.SERVICES:
            assert (tmp_path / "data" / f"{name}.db").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, out.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text(errors="replace")
    assert "stopped" in text
    for port in [*registry.PORTS.values()]:
        assert port_free("127.0.0.1", port + offset), f"port {port + offset} still taken"
    assert port_free("127.0.0.1", broker_port), "broker still running"


def test_dev_reports_a_taken_broker_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("salesflow")),
                "dev",
                "--broker-port",
                str(port),
                "--data-dir",
                str(tmp_path),
                "--port-offset",
                str(_free_offset()),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")},
        )
    assert result.returncode != 0
    assert str(port) in result.stdout + result.stderr
