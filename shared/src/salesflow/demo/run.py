"""``salesflow demo``: against a running platform (``make run``), load a small sample universe,
run a few complete journeys with the logistics simulator, print each journey's trace and the
funnel."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from salesflow import registry

if TYPE_CHECKING:  # imported when the demo runs: ``salesflow`` starts without the HTTP stack
    from salesflow.demo.journey import Journey

console = Console()
NACE = ("28.41", "24.10", "25.11", "28.22", "29.32")


def _universe(run: str, n: int) -> list[dict[str, str]]:
    companies = []
    for i in range(n):
        name = f"Demo Werk {run}-{i}"
        companies.append(
            {
                "name": name,
                "country": "DE" if i % 2 == 0 else "AT",
                "postal_code": f"{70100 + i}",
                "city": "Stuttgart" if i % 2 == 0 else "Graz",
                "nace": NACE[i % len(NACE)],
                "employees": str(60 + 20 * i),
                "website": f"https://demo-werk-{run}-{i}.example.com",
            }
        )
    # a few that the segment leaves out: small software houses
    for i in range(3):
        companies.append(
            {
                "name": f"Demo Code {run}-{i}",
                "country": "DE",
                "postal_code": f"{10115 + i}",
                "city": "Berlin",
                "nace": "62.10",
                "employees": "8",
                "website": f"https://demo-code-{run}-{i}.example.com",
            }
        )
    return companies


def _trace_table(journey: Journey, trace: dict) -> Table:
    table = Table(title=f"journey {journey.name} · correlation id {journey.correlation_id}")
    table.add_column("time (UTC)")
    table.add_column("event")
    table.add_column("from")
    table.add_column("+s", justify="right")
    for step in trace["steps"]:
        gap = step.get("since_previous_s")
        table.add_row(
            step["occurred_at"][11:23],
            step["type"],
            step["source"].rsplit("/", 1)[-1],
            "" if gap is None else f"{gap:.3f}",
        )
    return table


def _funnel_table(funnel: dict) -> Table:
    table = Table(title="funnel (controlling)")
    table.add_column("stage")
    table.add_column("count", justify="right")
    for stage in funnel["stages"]:
        table.add_row(stage["stage"], "—" if stage["count"] is None else str(stage["count"]))
    return table


async def _demo(journeys: int, port_offset: int, bootstrap: str) -> int:
    from fulfillment.simulator import run_simulator
    from salesflow.demo.journey import Driver, Journey, StepFailed

    urls = {name: f"http://127.0.0.1:{port + port_offset}" for name, port in registry.PORTS.items()}
    async with httpx.AsyncClient(timeout=3) as client:
        for name, url in urls.items():
            try:
                ready = (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.HTTPError:
                ready = False
            if not ready:
                console.print(
                    f"[red]{name} is not running at {url}[/red]: start it with `make run`"
                )
                return 1
    run = uuid.uuid4().hex[:4]
    driver = Driver(urls)
    stop = asyncio.Event()
    simulator = asyncio.create_task(
        run_simulator(
            bootstrap,
            os.environ.get("SALESFLOW_TOPIC_PREFIX", ""),
            delay_s=0.2,
            partial_ratio=0.3,
            failure_ratio=0.0,
            seed=int(run, 16),
            stop_event=stop,
            max_age_s=600,
        )
    )
    failures = 0
    try:
        await driver.configure()
        imported = await driver.import_universe(_universe(run, journeys))
        console.print(
            f"imported {imported['accepted']} companies "
            f"({imported['updated']} updated, {imported['rejected']} rejected)"
        )
        segment = await driver.materialize_segment()
        console.print(f"segment 'DACH manufacturing': {segment.get('added')} new prospects")
        for i in range(journeys):
            journey = Journey(f"{run}-{i}")
            started = time.monotonic()
            try:
                await driver.lead_to_opportunity(
                    journey,
                    f"demo-werk-{run}-{i}.example.com",
                    f"buyer@demo-werk-{run}-{i}.example.com",
                )
                await driver.offer_to_acceptance(journey)
                await driver.order_to_delivery(journey)
                await driver.aftersales(journey)
                trace = await driver.trace(journey, must_include=("account.onboarded.v1",))
            except StepFailed as exc:
                failures += 1
                console.print(f"[red]journey {journey.name} stopped:[/red] {exc}")
                continue
            console.print(_trace_table(journey, trace))
            console.print(
                f"journey {journey.name}: {len(journey.steps)} steps in "
                f"{time.monotonic() - started:.1f}s\n"
            )
        console.print(_funnel_table(await driver.funnel()))
    finally:
        stop.set()
        await asyncio.wait_for(simulator, 30)
        await driver.close()
    return 1 if failures else 0


def demo(
    journeys: Annotated[int, typer.Option(min=1, max=20, help="complete journeys to run")] = 3,
    port_offset: Annotated[int, typer.Option(help="as given to `salesflow dev`")] = 0,
) -> None:
    """Show Salesflow at work against a running platform (start it with `make run`)."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    raise typer.Exit(asyncio.run(_demo(journeys, port_offset, bootstrap)))
