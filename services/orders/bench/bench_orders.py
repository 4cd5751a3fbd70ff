"""Sustained direct intake end-to-end: ``POST /orders`` → ``order.confirmed`` → ``fulfillment.planned``.

Starts an embedded broker and the real orders and fulfillment apps as uvicorn processes (one
worker each, SQLite files in a temp dir, relays and consumers on, as in production), seeds a
customer and a price list, warms up, then lets ``--clients`` keep-alive clients (the lean
``salesflow.testing.loadclient``) post ``--orders`` orders as fast as the service answers and
waits until fulfillment has planned every one of them. Prints and returns (``main()``) a dict of figures:

- ``orders_per_s``: end-to-end, measured orders / (last order planned − first request sent);
  ``intake_orders_per_s``: the same orders / time until the last ``201``;
- per-hop p50/p99 in ms, from the client's clock and the two databases' timestamps (one machine,
  one clock): ``intake`` request sent → ``201`` (``order.confirmed`` is committed in the outbox
  before the answer); ``relay`` ``order.confirmed`` created → marked published in the orders
  outbox (the relay marks a batch when it takes the next one: an upper bound);
  ``confirmed_to_planned`` ``order.confirmed`` created → ``fulfillment.planned`` created in
  fulfillment's handler; ``end_to_end`` request sent → ``fulfillment.planned`` created;
- ``cpu_ms_per_order`` of each process (user + system CPU during the measured phase / orders):
  less noisy than wall time on a shared machine;
- ``reference``: the same clients and orders against a plain FastAPI + SQLModel insert endpoint
  (``bench_reference.py``, alone on the machine after the services stopped): requests/s and its
  CPU per request; ``orders_per_s_of_reference`` the end-to-end figure as a share of it.

    python services/orders/bench/bench_orders.py [--orders 3000] [--clients 16]
        [--group-commit | --no-group-commit] [--keyed | --no-keyed] [--[no-]reference] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from fulfillment.main import SPEC as FULFILLMENT
from orders.main import SPEC as ORDERS
from salesflow import broker as brokers
from salesflow.testing.helpers import bearer, free_port
from salesflow.testing.loadclient import LoadClient
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
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def _hop(values: list[float]) -> dict[str, float | None]:
    return {"p50_ms": _percentile(values, 0.50), "p99_ms": _percentile(values, 0.99)}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc, Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _ts(value: str | None) -> float | None:
    """A timestamp as SQLAlchemy stores it in SQLite (naive UTC text) → epoch seconds."""
    if value is None:
        return None
    return datetime.fromisoformat(value + ("" if "+" in value else "+00:00")).timestamp()


def _query(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


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


async def _post_orders(
    port: int, clients: int, total: int, keyed: bool, tag: str
) -> tuple[dict[str, tuple[float, float]], dict[int, int]]:
    """``total`` orders from ``clients`` concurrent keep-alive connections; order id → (sent,
    answered). The lean client keeps the load generator's CPU off the services' two cores."""
    sent: dict[str, tuple[float, float]] = {}
    errors: dict[int, int] = {}
    remaining = total

    async def worker(n: int) -> None:
        nonlocal remaining
        i = 0
        async with LoadClient("127.0.0.1", port, DESK) as client:
            unkeyed = client.encode("POST", "/orders", json_body=ORDER)
            while remaining > 0:
                remaining -= 1
                i += 1
                request = (
                    client.encode(
                        "POST", "/orders", json_body=ORDER,
                        headers={"Idempotency-Key": f"{tag}-{n}-{i}"},
                    )
                    if keyed
                    else unkeyed
                )  # fmt: skip
                t0 = time.time()
                answer = await client.send(request)
                t1 = time.time()
                body = answer.json() if answer.status_code == 201 else None
                if body is None or body["status"] != "confirmed":
                    errors[answer.status_code] = errors.get(answer.status_code, 0) + 1
                else:
                    sent[body["id"]] = (t0, t1)

    await asyncio.gather(*(worker(n) for n in range(clients)))
    return sent, errors


async def _all_planned(db: Path, count: int, timeout: float) -> float | None:
    """Wall time when fulfillment holds ``count`` plans (polled every 20 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [(planned,)] = await asyncio.to_thread(_query, db, "SELECT count(*) FROM fulfillments")
        if planned >= count:
            return time.time()
        await asyncio.sleep(0.02)
    return None


def _hops(
    orders_db: Path, fulfillment_db: Path, sent: dict[str, tuple[float, float]]
) -> dict[str, Any]:
    confirmed = {
        key: (_ts(created), _ts(published))
        for key, created, published in _query(
            orders_db,
            "SELECT key, created_at, published_at FROM outbox WHERE type = 'order.confirmed.v1'",
        )
    }
    planned = {
        order_id: _ts(created)
        for order_id, created in _query(
            fulfillment_db,
            "SELECT f.order_id, o.created_at FROM outbox o JOIN fulfillments f ON f.id = o.key "
            "WHERE o.type = 'fulfillment.planned.v1'",
        )
    }
    intake, relay, hop2, e2e = [], [], [], []
    for order_id, (t0, t1) in sent.items():
        intake.append(t1 - t0)
        created, published = confirmed.get(order_id, (None, None))
        done = planned.get(order_id)
        if created is not None and published is not None:
            relay.append(published - created)
        if created is not None and done is not None:
            hop2.append(done - created)
        if done is not None:
            e2e.append(done - t0)
    return {
        "intake": _hop(intake),
        "relay": _hop(relay),
        "confirmed_to_planned": _hop(hop2),
        "end_to_end": _hop(e2e),
    }


def _process(
    factory: str, service: str, values: dict[str, Any], workdir: Path, profile: Path | None
) -> ServiceProcess:
    env = {f"SALESFLOW_{service.upper()}_{k.upper()}": str(v) for k, v in values.items()}
    pythonpath: list[Path] = []
    if profile is not None:  # the same app under cProfile, written at exit (bench_profiled.py)
        env["BENCH_PROFILE_OUT"] = str(profile / f"{service}.prof")
        env["BENCH_PROFILE_FACTORY"] = factory
        pythonpath = [Path(__file__).parent]
        factory = "bench_profiled:create_app"
    log = workdir / f"{service}.log"
    proc = ServiceProcess(factory, free_port(), env, log, cwd=workdir, pythonpath=pythonpath)
    return proc.start()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    orders_db, fulfillment_db = workdir / "orders.db", workdir / "fulfillment.db"
    handle = brokers.start_embedded(port=free_port(), log_path=workdir / "broker.log")
    procs: list[ServiceProcess] = []
    ok = False
    try:
        for spec, db in ((ORDERS, orders_db), (FULFILLMENT, fulfillment_db)):
            await migrate(spec.migrations_dir, f"sqlite+aiosqlite:///{db}")
        common = {
            "kafka_bootstrap_servers": handle.bootstrap,
            "topic_prefix": f"bench{int(time.time())}.",
            "log_level": "WARNING",
            "log_json": "false",
            # join the group quickly; the processes run for a minute, not for months
            "kafka_session_timeout_ms": 6000,
            "kafka_heartbeat_interval_ms": 1000,
        }
        orders_env = {**common, "database_url": f"sqlite+aiosqlite:///{orders_db}"}
        if args.group_commit is not None:
            orders_env["intake_group_commit"] = str(args.group_commit).lower()
        orders_env.update(kv.split("=", 1) for kv in args.orders_setting)
        fulfillment_env = {**common, "database_url": f"sqlite+aiosqlite:///{fulfillment_db}"}
        profile = args.profile
        orders = _process("orders.main:create_app", "orders", orders_env, workdir, profile)
        procs.append(orders)
        fulfillment = _process(
            "fulfillment.main:create_app", "fulfillment", fulfillment_env, workdir, profile
        )
        procs.append(fulfillment)
        for proc in procs:
            await asyncio.to_thread(proc.wait_ready, 60)
        async with httpx.AsyncClient(base_url=orders.url, timeout=60) as client:
            await _seed(client)
            warm, warm_errors = await _post_orders(
                orders.port, args.clients, args.warmup, args.keyed, "w"
            )
            if await _all_planned(fulfillment_db, len(warm), 120) is None:
                raise RuntimeError(f"warm-up orders were not planned: {fulfillment.tail()}")
            pids = {"orders": orders.proc.pid, "fulfillment": fulfillment.proc.pid,
                    "broker": handle.pid}  # fmt: skip
            cpu0 = {name: _cpu_seconds(pid) for name, pid in pids.items()}
            bench0 = time.process_time()
            started = time.time()
            sent, errors = await _post_orders(
                orders.port, args.clients, args.orders, args.keyed, "m"
            )
            answered = time.time()
            finished = await _all_planned(fulfillment_db, len(warm) + len(sent), args.timeout)
            cpu = {name: _cpu_seconds(pid) - cpu0[name] for name, pid in pids.items()}
            cpu["bench_clients"] = time.process_time() - bench0
        n = len(sent)
        figures: dict[str, Any] = {
            "orders": n,
            "orders_per_s": round(n / (finished - started), 1) if finished and n else None,
            "intake_orders_per_s": round(n / (answered - started), 1) if n else None,
            "seconds": round((finished or answered) - started, 2),
            "errors": {**warm_errors, **errors},
            **_hops(orders_db, fulfillment_db, sent),
            "cpu_ms_per_order": {k: round(v * 1000 / n, 3) for k, v in cpu.items()} if n else {},
            "clients": args.clients,
            "group_commit": args.group_commit,
            "idempotency_keys": args.keyed,
            "load_average": os.getloadavg()[0],
        }
        if finished is None:
            figures["not_planned_in_time"] = True
        for proc in reversed(procs):  # the reference gets the machine to itself
            proc.stop()
        if args.reference:
            reference = await _reference(args, workdir)
            figures["reference"] = reference
            if figures["orders_per_s"]:
                figures["orders_per_s_of_reference"] = round(
                    figures["orders_per_s"] / reference["requests_per_s"], 2
                )
        ok = True
        return figures
    finally:
        for proc in reversed(procs):
            proc.stop()
        handle.stop()
        if ok:  # keep databases and logs of a failed run for a look
            shutil.rmtree(workdir, ignore_errors=True)


async def _reference(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The same clients and orders against a plain FastAPI + SQLModel insert endpoint
    (``bench_reference.py``): requests/s and the server's CPU per request."""
    env = {"BENCH_REFERENCE_DB": str(workdir / "reference.db")}
    proc = ServiceProcess(
        "bench_reference:create_app", free_port(), env, workdir / "reference.log",
        cwd=workdir, pythonpath=[Path(__file__).parent],
    ).start()  # fmt: skip
    try:
        await asyncio.to_thread(proc.wait_ready, 60)
        await _post_orders(proc.port, args.clients, args.warmup, False, "rw")
        assert proc.proc is not None
        cpu0, started = _cpu_seconds(proc.proc.pid), time.time()
        sent, errors = await _post_orders(proc.port, args.clients, args.orders, False, "rm")
        elapsed, cpu = time.time() - started, _cpu_seconds(proc.proc.pid) - cpu0
    finally:
        proc.stop()
    if errors or not sent:
        raise RuntimeError(f"reference endpoint failed: {errors} {proc.tail()}")
    return {
        "requests_per_s": round(len(sent) / elapsed, 1),
        "cpu_ms_per_request": round(cpu * 1000 / len(sent), 3),
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--orders", type=int, default=3000, help="measured orders")
    p.add_argument("--warmup", type=int, default=300, help="orders before the measurement")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--group-commit", action=argparse.BooleanOptionalAction, default=None,
                   help="force the orders setting intake_group_commit (default: the service's)")  # fmt: skip
    p.add_argument("--keyed", action=argparse.BooleanOptionalAction, default=True,
                   help="send an Idempotency-Key with every order")  # fmt: skip
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for planning")
    p.add_argument("--orders-setting", action="append", default=[], metavar="FIELD=VALUE",
                   help="another orders setting, e.g. consumers_enabled=false")  # fmt: skip
    p.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                   help="also measure a plain FastAPI + SQLModel insert endpoint (same clients)")  # fmt: skip
    p.add_argument("--profile", default=None, help="cProfile both services into this dir")
    args = p.parse_args(argv)
    if args.profile:
        args.profile = Path(args.profile).absolute()
        args.profile.mkdir(parents=True, exist_ok=True)
    return args


def _summary(f: dict[str, Any]) -> str:
    hops = ", ".join(
        f"{h} p50 {f[h]['p50_ms']} / p99 {f[h]['p99_ms']} ms"
        for h in ("intake", "relay", "confirmed_to_planned", "end_to_end")
    )
    cpu = ", ".join(f"{k} {v}" for k, v in f["cpu_ms_per_order"].items())
    return (
        f"orders end-to-end ({f['clients']} clients, {f['orders']} orders, SQLite, uvicorn): "
        f"{f['orders_per_s']} orders/s planned (intake {f['intake_orders_per_s']}/s); {hops}; "
        f"CPU ms/order: {cpu}; errors {f['errors']}; load {f['load_average']:.1f}"
        + _reference_line(f)
    )


def _reference_line(f: dict[str, Any]) -> str:
    ref = f.get("reference")
    if not ref:
        return ""
    return (
        f"\nsame-run reference, a plain FastAPI + SQLModel insert endpoint (same clients, no "
        f"auth, outbox or broker): {ref['requests_per_s']} requests/s, "
        f"{ref['cpu_ms_per_request']} ms CPU/request; orders end-to-end = "
        f"{f.get('orders_per_s_of_reference')} × the reference (the target, 1,000 orders/s, = "
        f"{round(1000 / ref['requests_per_s'], 2)} ×)"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    figures = asyncio.run(run(parse(argv)))
    _out(_summary(figures))
    _out(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
