"""``salesflow dev``: broker, migrations and all seven services on this machine."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from salesflow.stack import DevStack

console = Console()


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
    stack = DevStack(data_dir, port_offset)
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
        stack.migrate()
        stack.start_services(bootstrap)
        missing = stack.wait_ready(ready_timeout)
        if missing:
            console.print(f"[red]not ready after {ready_timeout:.0f}s:[/red] {', '.join(missing)}")
            raise typer.Exit(1)
        console.print(stack.table(bootstrap))
        console.print(f"all seven services ready in {time.monotonic() - started:.1f}s")
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
