"""The local platform as processes: broker, migrations, seven services on their ports.
Used by ``salesflow dev`` and by the end-to-end and chaos tests.

With ``replicas=N`` every service runs as N processes (instances ``leads``, ``leads-2``, …) on
ports ``port + k*10``, sharing the service's database and consumer group: the scale-out of a
deployment, on one machine. That needs PostgreSQL: SQLite is one process per database file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from salesflow import registry

console = Console()

REPLICA_PORT_STEP = 10  # replica k of a service listens on its port + k*10: 8101, 8111, …


def instance_name(service: str, k: int) -> str:
    """Replica ``k`` (0-based) of ``service``: the first keeps the service's name."""
    return service if k == 0 else f"{service}-{k + 1}"


def stack_ports(replicas: int = 1) -> list[int]:
    """Every port a stack with ``replicas`` per service listens on (before its offset)."""
    return [p + k * REPLICA_PORT_STEP for p in registry.PORTS.values() for k in range(replicas)]


class DevStack:
    """The processes ``salesflow dev`` owns; stops every one of them, whatever happens."""

    def __init__(
        self,
        data_dir: Path,
        port_offset: int = 0,
        extra_env: dict[str, str] | None = None,
        replicas: int = 1,
    ) -> None:
        self.data_dir = data_dir
        self.port_offset = port_offset
        self.extra_env = extra_env or {}  # e.g. topic prefix, database URLs (tests)
        self.bootstrap = ""
        self.broker = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}  # by instance name
        self.reported: set[str] = set()
        if replicas < 1:
            raise ValueError("replicas must be at least 1")
        self.replicas = replicas
        self._instances = {
            instance_name(s, k): (s, k) for s in registry.SERVICES for k in range(replicas)
        }
        if replicas > 1:
            from salesflow.db import is_sqlite

            on_sqlite = [s for s in registry.SERVICES if is_sqlite(self.db_url(s))]
            if on_sqlite:
                raise ValueError(
                    f"{replicas} replicas per service need PostgreSQL (replicas share the "
                    f"service's database; SQLite is one process per file): {', '.join(on_sqlite)} "
                    "on SQLite; set SALESFLOW_<SERVICE>_DATABASE_URL"
                )

    def instances(self, service: str | None = None) -> list[str]:
        """Process names: every replica of ``service``, or of every service (in registry order,
        each service's replicas together)."""
        return [i for i, (s, _) in self._instances.items() if service in (None, s)]

    def service_of(self, name: str) -> str:
        """The service an instance (or a service name) belongs to."""
        return self._instances[name][0]

    def port(self, name: str) -> int:
        service, k = self._instances[name]
        return registry.PORTS[service] + self.port_offset + k * REPLICA_PORT_STEP

    def db_url(self, name: str) -> str:
        service = name if name in registry.PORTS else self.service_of(name)
        key = f"SALESFLOW_{service.upper()}_DATABASE_URL"
        default = f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.db').resolve()}"
        return self.extra_env.get(key) or os.environ.get(key) or default

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}"

    def env(self, name: str, bootstrap: str) -> dict[str, str]:
        service = self.service_of(name)
        env = {**os.environ, **self.extra_env}
        env[f"SALESFLOW_{service.upper()}_DATABASE_URL"] = self.db_url(service)
        env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
        return env

    def start_broker(self, kind: str, port: int) -> str:
        from salesflow import broker as brokers

        if kind == "kafka":
            console.print("starting Apache Kafka (first start fetches its jars) …")
            self.broker = brokers.start_kafka(
                port=port,
                data_dir=self.data_dir / "kafka",
                log_path=self.data_dir / "logs" / "kafka.log",
            )
        else:
            self.broker = brokers.start_embedded(
                port=port, log_path=self.data_dir / "logs" / "broker.log"
            )
        return self.broker.bootstrap

    def migrate(self) -> None:
        from salesflow.migrations import upgrade

        def one(name: str) -> None:
            module = registry.load(name)
            assert module.spec.migrations_dir is not None
            upgrade(module.spec.migrations_dir, self.db_url(name))

        for name in registry.SERVICES:  # alembic's context is process-global: one at a time
            one(name)

    def start_services(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        for name in self.instances():
            self.start_service(name)

    def start_service(self, name: str) -> None:
        """Start one instance (a service's name is its first replica)."""
        service = self.service_of(name)
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"{service}.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port(name)),
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "15",
            ],
            env=self.env(name, self.bootstrap),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
        )
        log.close()
        self.reported.discard(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Crash one instance (chaos tests); ``start_service`` brings it back."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(sig)
            if sig == signal.SIGKILL:
                proc.wait(10)

    def wait_ready(self, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        pending = set(self.instances())
        with httpx.Client(timeout=1.0) as client:
            while pending and time.monotonic() < deadline:
                for name in sorted(pending):
                    if self.procs[name].poll() is not None:
                        raise RuntimeError(self.died_message(name))
                    try:
                        url = f"http://127.0.0.1:{self.port(name)}/readyz"
                        if client.get(url).status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                time.sleep(0.1)
        return sorted(pending)

    def died_message(self, name: str) -> str:
        code = self.procs[name].returncode
        log = self.data_dir / "logs" / f"{name}.log"
        tail = log.read_text(errors="replace").splitlines()[-8:] if log.exists() else []
        return f"{name} exited with code {code}; last lines of {log}:\n" + "\n".join(tail)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None and name not in self.reported:
                self.reported.add(name)
                console.print(f"[bold red]service died:[/bold red] {self.died_message(name)}")
        if self.broker is not None and not self.broker.alive() and "broker" not in self.reported:
            self.reported.add("broker")
            console.print("[bold red]the broker died[/bold red]; see .data/logs")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self.broker is not None:
            self.broker.stop()

    def table(self, bootstrap: str) -> Table:
        table = Table(title="Salesflow is running", show_lines=False)
        table.add_column("service")
        table.add_column("URL")
        table.add_column("API docs")
        for name in self.instances():
            url = f"http://127.0.0.1:{self.port(name)}"
            table.add_row(name, url, f"{url}/docs")
        table.caption = (
            f"broker {bootstrap} · data and logs in {self.data_dir} · "
            "token: salesflow token --sub alice --roles sales_rep · Ctrl-C stops everything"
        )
        return table
