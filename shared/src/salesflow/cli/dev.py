"""``salesflow dev``: broker, migrations and all seven services on this machine."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from salesflow import registry
from salesflow.stack import DevStack

console = Console()

# The embedded broker (Tansu) holds a new group's first JoinGroup for half the session timeout:
# with the default 10 s every service became ready 5 s after it was up. 4 s (heartbeat 1 s)
# still rides out a stalled event loop on a busy laptop; set the variables to choose otherwise.
EMBEDDED_SERVICE_ENV = {
    "SALESFLOW_KAFKA_SESSION_TIMEOUT_MS": "4000",
    "SALESFLOW_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
    # longer fetch waits in the lulls between bursts: the embedded broker works for every
    # empty fetch (see FetchPacer)
    "SALESFLOW_KAFKA_FETCH_LULL_WAIT_MS": "40",
}


def dev_service_env(embedded: bool = True) -> dict[str, str]:
    """Settings ``salesflow dev`` gives its services beyond their defaults (the environment
    wins; also used by ``make bench`` to run the services as ``salesflow dev`` does)."""
    if not embedded:
        return {}
    return {k: v for k, v in EMBEDDED_SERVICE_ENV.items() if k not in os.environ}


def migrate_and_start(stack: DevStack, bootstrap: str) -> float:
    """Migrate one service, start it, migrate the next: the started services import and connect
    on the other core while the later ones migrate (one at a time: alembic's context is
    process-global). Returns the seconds spent migrating."""
    from salesflow.migrations import migrations_dir_of, upgrade

    stack.bootstrap = bootstrap
    migrating = 0.0
    for name in registry.SERVICES:
        began = time.monotonic()
        migrations = migrations_dir_of(name) or registry.load(name).spec.migrations_dir
        assert migrations is not None, f"{name} has no migrations"
        upgrade(migrations, stack.db_url(name))
        migrating += time.monotonic() - began
        instances = getattr(stack, "instances", None)
        for instance in instances(name) if instances else [name]:
            stack.start_service(instance)
    return migrating


def dev(
    broker: Annotated[
        str, typer.Option(help="embedded | kafka (ignored when KAFKA_BOOTSTRAP_SERVERS is set)")
    ] = "embedded",
    broker_port: Annotated[int, typer.Option(help="port of the broker this command starts")] = 9092,
    data_dir: Annotated[Path, typer.Option(help="SQLite files, logs, Kafka data")] = Path(".data"),
    port_offset: Annotated[int, typer.Option(help="added to every service port (8101–8107)")] = 0,
    ready_timeout: Annotated[float, typer.Option(help="seconds to wait for every /readyz")] = 60.0,
) -> None:
    """Start the broker (unless KAFKA_BOOTSTRAP_SERVERS is set), migrate, run all seven services,
    and stop everything on Ctrl-C or SIGTERM."""
    if broker not in ("embedded", "kafka"):
        raise typer.BadParameter("--broker is embedded or kafka")
    data_dir.mkdir(parents=True, exist_ok=True)
    external = bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    stack = DevStack(
        data_dir, port_offset, extra_env=dev_service_env(not external and broker == "embedded")
    )
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    try:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or stack.start_broker(
            broker, broker_port
        )
        broker_s = time.monotonic() - started
        migrations_s = migrate_and_start(stack, bootstrap)
        missing = stack.wait_ready(ready_timeout)
        if missing:
            console.print(f"[red]not ready after {ready_timeout:.0f}s:[/red] {', '.join(missing)}")
            raise typer.Exit(1)
        console.print(stack.table(bootstrap))
        console.print(
            f"all seven services ready in {time.monotonic() - started:.1f}s "
            f"(broker {broker_s:.1f}s, migrations {migrations_s:.1f}s while services start)"
        )
        while not stopping:
            stack.check_alive()
            time.sleep(0.5)
        console.print("stopping …")
    except RuntimeError as exc:  # a service or the broker could not start
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        stack.stop()
    console.print("stopped")


def register(app: typer.Typer) -> None:
    app.command()(dev)
