"""Sustained direct intake: ``POST /orders`` from concurrent clients against the orders app.

Runs the real app (relay to a real broker, SQLite or PostgreSQL) either in-process (ASGI) or as a
uvicorn process, seeds a customer and a price list, then lets ``--clients`` clients post orders
for ``--seconds`` and prints orders/s and the latency percentiles; finally waits for the relay to
publish every event. Returns the figures as a dict (``main()``).

    python services/orders/bench/bench_orders.py [--seconds 10] [--clients 16]
        [--group-commit | --no-group-commit] [--server inprocess|uvicorn] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from orders.config import Settings
from orders.main import SPEC, create_app
from salesflow import broker as brokers
from salesflow.messaging.tables import OutboxRow
from salesflow.testing.helpers import bearer, free_port, running
from salesflow.testing.plugin import migrate
from salesflow.testing.processes import ServiceProcess

DESK = bearer("bench-desk", ["order_desk"])
ORDER = {
    "customer_id": "bench-customer",
    "customer_po_number": "PO-BENCH",
    "lines": [
        {"sku": "WIDGET", "quantity": "3"},
        {"sku": "SETUP", "quantity": "2"},
    ],
}


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _seed(client: httpx.AsyncClient) -> None:
    customer = {
        "company": {"name": "Bench GmbH", "country": "DE"},
        "bill_to": {"street": "Weg 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "ship_to": {"street": "Weg 2", "postal_code": "10115", "city": "Berlin", "country": "DE"},
    }
    resp = await client.put("/customers/bench-customer", json=customer, headers=DESK)
    assert resp.status_code in (200, 201), resp.text
    for sku, price, unit, kind in (
        ("WIDGET", "50.00", "C62", "goods"),
        ("SETUP", "120.00", "HUR", "service"),
    ):
        body = {"currency": "EUR", "name": sku.title(), "unit": unit, "kind": kind,
                "unit_price": price, "tax_rate": "19"}  # fmt: skip
        resp = await client.put(f"/price-list/{sku}", json=body, headers=DESK)
        assert resp.status_code in (200, 201), resp.text


async def _drive(
    client: httpx.AsyncClient, clients: int, seconds: float, warmup: float, keyed: bool
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    counter = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def worker(n: int) -> None:
        nonlocal counter
        while True:
            t0 = loop.time()
            if t0 >= stop_at:
                return
            counter += 1
            headers = {**DESK, "Idempotency-Key": f"bench-{n}-{counter}"} if keyed else DESK
            resp = await client.post("/orders", json=ORDER, headers=headers)
            t1 = loop.time()
            if resp.status_code != 201:
                errors[resp.status_code] = errors.get(resp.status_code, 0) + 1
            elif t0 >= measure_from:
                latencies.append(t1 - t0)

    await asyncio.gather(*(worker(n) for n in range(clients)))
    return {
        "orders": len(latencies),
        "orders_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "errors": errors,
    }


async def _outbox_drained(db_url: str, timeout: float = 60) -> float | None:
    """Seconds until every outbox row is published (None: not within timeout)."""
    from sqlalchemy import func, select

    from salesflow.db import Database

    db = Database(db_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            async with db.session() as session:
                pending = (
                    await session.execute(
                        select(func.count())
                        .select_from(OutboxRow)
                        .where(OutboxRow.published_at.is_(None))
                    )
                ).scalar_one()
            if pending == 0:
                return round(time.perf_counter() - started, 2)
            await asyncio.sleep(0.1)
        return None
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def _server(
    kind: str, settings: Settings, env: dict[str, str], workdir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    if kind == "inprocess":
        app = create_app(settings)
        async with running(app) as client:
            client.batcher = app.state.intake  # type: ignore[attr-defined]
            yield client
        return
    port = free_port()
    proc = ServiceProcess(
        "orders.main:create_app", port, env, workdir / "orders.log", cwd=workdir
    ).start()
    try:
        await asyncio.to_thread(proc.wait_ready, 60)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=proc.url, limits=limits, timeout=30) as client:
            yield client
    finally:
        proc.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    db_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'orders.db'}"
    handle = None
    bootstrap = args.bootstrap
    if not bootstrap:
        handle = brokers.start_embedded(port=free_port(), log_path=workdir / "broker.log")
        bootstrap = handle.bootstrap
    try:
        await migrate(SPEC.migrations_dir, db_url)
        prefix = f"bench{int(time.time())}."
        values = {
            "database_url": db_url,
            "kafka_bootstrap_servers": bootstrap,
            "topic_prefix": prefix,
            "intake_group_commit": args.group_commit,
            "relay_enabled": args.relay,
            "log_level": "WARNING",
            "log_json": False,
        }
        env = {f"SALESFLOW_ORDERS_{k.upper()}": str(v) for k, v in values.items()}
        settings = Settings(**values)
        async with _server(args.server, settings, env, workdir) as client:
            await _seed(client)
            figures = await _drive(client, args.clients, args.seconds, args.warmup, args.keyed)
            batcher = getattr(client, "batcher", None)
            if batcher is not None and batcher.batches:
                figures["mean_batch"] = round(batcher.orders / batcher.batches, 1)
            if args.relay:
                figures["outbox_drain_s"] = await _outbox_drained(db_url)
        figures.update(
            clients=args.clients,
            seconds=args.seconds,
            server=args.server,
            group_commit=args.group_commit,
            relay=args.relay,
            idempotency_keys=args.keyed,
            database="postgresql" if "postgresql" in db_url else "sqlite",
            broker="external" if args.bootstrap else "embedded",
        )
        return figures
    finally:
        if handle is not None:
            handle.stop()


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--server", choices=("inprocess", "uvicorn"), default="inprocess")
    p.add_argument("--group-commit", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--keyed", action=argparse.BooleanOptionalAction, default=True,
                   help="send an Idempotency-Key with every order")  # fmt: skip
    p.add_argument("--relay", action=argparse.BooleanOptionalAction, default=True,
                   help="publish the outbox while the intake runs (off: intake alone)")  # fmt: skip
    p.add_argument("--database-url", default=os.environ.get("BENCH_ORDERS_DATABASE_URL"))
    p.add_argument("--bootstrap", default=os.environ.get("BENCH_KAFKA_BOOTSTRAP"))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    figures = asyncio.run(run(args))
    _out(
        f"orders intake ({figures['server']}, {figures['database']}, "
        f"{'group commit' if figures['group_commit'] else 'one transaction per request'}, "
        f"{figures['clients']} clients, {figures['seconds']:.0f} s): "
        f"{figures['orders_per_s']} orders/s, p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, errors {figures['errors']}, "
        f"outbox drained {figures.get('outbox_drain_s', 'n/a (relay off)')} s after the run"
    )
    _out(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
