"""Time from ``salesflow dev`` start to all seven /readyz ready.

The real command as a subprocess: embedded broker on a free port, fresh data dir in a temp dir,
services on a free port block (never 8101–8107, which ``make run`` may hold), no
KAFKA_BOOTSTRAP_SERVERS (so it starts its own broker). This process polls every /readyz every
50 ms from the moment it spawned the command; the command's own line
("ready in … (broker …, migrations …)") gives the split, and the rest before it is the CLI's
import time."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from salesflow import registry
from salesflow.testing.helpers import free_port, free_port_block

TARGET_S = 10.0
LINE = re.compile(
    r"ready in (?P<total>[\d.]+)s(?: \(broker (?P<broker>[\d.]+)s, migrations (?P<mig>[\d.]+)s)?"
)


def measure_once(timeout: float = 120.0) -> dict[str, float | None]:
    workdir = Path(tempfile.mkdtemp(prefix="salesflow-bench-dev-"))
    offset = free_port_block(list(registry.PORTS.values()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALESFLOW_", "KAFKA_"))}
    command = [str(Path(sys.executable).with_name("salesflow")), "dev", "--broker", "embedded"]
    command += ["--broker-port", str(free_port()), "--data-dir", str(workdir / "data")]
    command += ["--port-offset", str(offset)]
    out = workdir / "dev.out"
    pending = {name: registry.PORTS[name] + offset for name in registry.SERVICES}
    with open(out, "wb") as sink:
        began = time.monotonic()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        with httpx.Client(timeout=0.5) as client:
            while pending:
                if proc.poll() is not None:
                    raise RuntimeError(f"salesflow dev exited: {out.read_text()[-800:]}")
                if time.monotonic() - began > timeout:
                    raise RuntimeError(
                        f"not ready after {timeout:.0f}s: {sorted(pending)}; see {workdir}"
                    )
                for name, port in list(pending.items()):
                    try:
                        if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                time.sleep(0.05)
        ready_s = time.monotonic() - began
        said = None
        while said is None and time.monotonic() - began < ready_s + 10:
            said = LINE.search(out.read_text(errors="replace"))
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)  # kept when it failed (raised above)
    figures: dict[str, float | None] = {"dev_ready_s": round(ready_s, 2)}
    if said is not None:
        own = float(said["total"])
        figures["cli_import_s"] = round(max(0.0, ready_s - own), 2)
        if said["broker"] is not None:
            figures["broker_start_s"] = float(said["broker"])
            figures["migrations_s"] = float(said["mig"])
            figures["services_up_after_migrations_s"] = round(
                own - float(said["broker"]) - float(said["mig"]), 2
            )
    return figures


def main(runs: int = 1) -> dict[str, float | None]:
    figures = [measure_once() for _ in range(runs)]
    best = min(figures, key=lambda f: f["dev_ready_s"] or 0.0)
    if runs > 1:
        best = {**best, "dev_ready_runs_s": [f["dev_ready_s"] for f in figures]}  # type: ignore[dict-item]
    return best
