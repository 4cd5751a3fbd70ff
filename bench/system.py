"""The whole system under load: complete flows per second, handoff latencies, memory, CPU.

The seven services run as processes (``DevStack``, as ``salesflow dev`` starts them, with the
settings ``salesflow dev`` gives them) on their own embedded broker and fresh SQLite files in a
temp dir; the logistics simulator runs as ``salesflow simulate logistics`` (no delays, no
partial or failed deliveries: the flow measures Salesflow, not a carrier).

One flow: offer created, sent, accepted (HTTP, as a sales rep) → order confirmed → fulfilment
planned → dispatched and delivered by the simulator → fulfilment completed. Each of ``clients``
closed-loop clients opens the opportunity of its next flow first (not timed apart: it is part of
the loop), so that offers has it by the time the offer is created.

Measured from the events themselves: every record of every topic is read (headers only) by a
plain consumer in this process. A flow is complete when its ``fulfillment.completed`` is on the
topic; flows/s = flows whose ``fulfillment.completed`` ce_time lies in the measured window ÷ the
window. A handoff's latency is, per event of the handoff's types published in the window, the
ce_time of the consumer's first event caused by it (ce_causationid) minus the event's ce_time —
split at the record's timestamp (the relay's send) into relay and consumer parts —
what controlling's ``GET /handoffs`` reports, restricted to the window (its own figures, which
include the warm-up, are kept beside ours as a cross-check). A flow's latency runs from the
client's offer POST to ``fulfillment.completed``; it splits into the client's requests (offer
POST to the accept's answer) and accepted → completed (ce_time to ce_time, events only).
Memory: VmRSS of every process 2 s after all are ready (idle) and its peak, sampled every
0.5 s, from the window's start to the end of the drain (under load). CPU: user + system time of
every process (the bench's own clients and event log too) over the window, per completed flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench import references
from bench.stats import cpu_s, ms, percentile, rss_mb
from salesflow import registry
from salesflow.contracts.catalog import all_topics
from salesflow.contracts.events import consumed_types
from salesflow.testing.helpers import bearer, free_port, free_port_block
from salesflow.testing.loadclient import Answer, LoadClient

REP = bearer("alice", ["sales_rep"], team="north")
MANAGER = bearer("bob", ["sales_manager"], team="north")
ANALYST = bearer("ana", ["analyst"])
ADDRESS = {"street": "Werkstraße 5", "postal_code": "70173", "city": "Stuttgart", "country": "DE"}
TERMS = {"payment_terms": "30 days net", "payment_days": 30, "incoterms": "DAP"}
SKU = "PRESS-800"
SIMULATOR = "logistics"
# the flow's handoffs first, in the order a flow passes them
FLOW_HANDOFFS = (
    "opportunities->offers",
    "offers->orders",
    "orders->logistics",
    "orders->fulfillment",
    "logistics->fulfillment",
    "fulfillment->orders",
    "fulfillment->aftersales",
    "offers->opportunities",
)
TARGET_FLOWS_PER_S = 200
TARGET_HANDOFF_P99_MS = 50


# ----------------------------------------------------------------------------- the event log


@dataclass(frozen=True)
class Seen:
    """One event as read from its topic (headers only: ids, type, producer, time)."""

    id: str
    type: str
    producer: str
    time: float  # ce_time, epoch seconds
    cause: str | None
    correlation: str | None
    subject: str | None
    topic: str
    published: float | None = None  # the record's timestamp (CreateTime: the producer's send)


def producer_of(source: str) -> str:
    """``/salesflow/orders`` → orders; ``/logistics/simulator`` → logistics."""
    parts = [p for p in source.split("/") if p]
    if len(parts) >= 2 and parts[0] == "salesflow":
        return parts[1]
    return parts[0] if parts else source


def parse(topic: str, headers: Any, timestamp_ms: int | None = None) -> Seen | None:
    h = {k: v.decode() for k, v in headers or () if v is not None}
    if "ce_id" not in h or "ce_time" not in h:
        return None
    return Seen(
        id=h["ce_id"],
        type=h.get("ce_type", ""),
        producer=producer_of(h.get("ce_source", "")),
        time=datetime.fromisoformat(h["ce_time"]).timestamp(),
        cause=h.get("ce_causationid") or None,
        correlation=h.get("ce_correlationid") or None,
        subject=h.get("ce_subject") or None,
        topic=topic,
        published=timestamp_ms / 1000 if timestamp_ms and timestamp_ms > 0 else None,
    )


class EventLog:
    """Every record of the catalog's topics, read from the beginning by an unassigned consumer
    (no group: no rebalance, nothing committed)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.events: dict[str, Seen] = {}  # by ce_id: redeliveries count once
        self.first_effect: dict[tuple[str, str], float] = {}  # (cause id, producer) → ce_time
        self.completed: dict[str, float] = {}  # correlation → fulfillment.completed ce_time
        self.accepted: dict[str, str] = {}  # offer id (subject) → correlation
        self.accepted_time: dict[str, float] = {}  # offer id → offer.accepted ce_time
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
        )
        await self._consumer.start()
        self._consumer.assign(
            [TopicPartition(n, p) for n, s in all_topics().items() for p in range(s.partitions)]
        )
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    seen = parse(tp.topic, record.headers, record.timestamp)
                    if seen is not None:
                        self._add(seen)

    def _add(self, e: Seen) -> None:
        if e.id in self.events:
            return  # a redelivery: the first record counts
        self.events[e.id] = e
        if e.cause is not None:
            key = (e.cause, e.producer)
            if key not in self.first_effect or e.time < self.first_effect[key]:
                self.first_effect[key] = e.time
        if e.type == "fulfillment.completed.v1" and e.correlation:
            self.completed.setdefault(e.correlation, e.time)
        elif e.type == "offer.accepted.v1" and e.subject:
            self.accepted[e.subject] = e.correlation or ""
            self.accepted_time[e.subject] = e.time

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    def traffic(self, since: float, until: float) -> tuple[int, int]:
        """Events published in [since, until) and their deliveries: every consumer of a topic
        (services, the simulator, controlling) reads every record of it."""
        readers = {name: len(spec.consumers) for name, spec in all_topics().items()}
        events = [e for e in self.events.values() if since <= e.time < until]
        return len(events), sum(readers.get(e.topic, 0) for e in events)

    def handoffs(self, since: float, until: float) -> dict[str, dict[str, Any]]:
        """Per handoff: causes published in [since, until), how many got a reaction, p50/p99."""
        types_by_handoff: dict[str, tuple[str, str, set[str]]] = {}
        for topic, spec in all_topics().items():
            for consumer in spec.consumers:
                if consumer == "controlling":
                    continue  # read models: no reaction events
                types = set(consumed_types(topic, consumer))
                types_by_handoff[f"{spec.producer}->{consumer}"] = (topic, consumer, types)
        latencies: dict[str, list[float]] = defaultdict(list)
        relayed: dict[str, list[float]] = defaultdict(list)  # ce_time → record timestamp
        consumed: dict[str, list[float]] = defaultdict(list)  # record timestamp → reaction
        published: dict[str, int] = defaultdict(int)
        for e in self.events.values():
            if not since <= e.time < until:
                continue
            for name, (topic, consumer, types) in types_by_handoff.items():
                if e.topic == topic and e.type in types:
                    published[name] += 1
                    reaction = self.first_effect.get((e.id, consumer))
                    if reaction is not None:
                        latencies[name].append(reaction - e.time)
                        if e.published is not None:
                            relayed[name].append(e.published - e.time)
                            consumed[name].append(reaction - e.published)
        out = {}
        for name in sorted(types_by_handoff, key=_handoff_rank):
            values = latencies.get(name, [])
            if not published.get(name):
                continue
            out[name] = {
                "published": published[name],
                "reacted": len(values),
                "p50_ms": ms(percentile(values, 50)),
                "p99_ms": ms(percentile(values, 99)),
                # the split: producer's commit → relay's send, send → consumer's reaction
                "relay_p50_ms": ms(percentile(relayed.get(name, []), 50)),
                "consumer_p50_ms": ms(percentile(consumed.get(name, []), 50)),
            }
        return out


def _handoff_rank(name: str) -> tuple[int, str]:
    return (FLOW_HANDOFFS.index(name) if name in FLOW_HANDOFFS else len(FLOW_HANDOFFS), name)


# ---------------------------------------------------------------------------------- clients


@dataclass
class Driver:
    """``clients`` closed-loop sales reps, each driving flows one after another."""

    urls: dict[str, str]
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    started: dict[str, float] = field(default_factory=dict)  # offer id → offer POST began
    accepted_at: dict[str, float] = field(default_factory=dict)  # offer id → accept answered
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    _seq: int = 0

    def next_name(self) -> str:
        self._seq += 1
        return f"{self.run}-{self._seq}"

    async def catalog(self, http: dict[str, httpx.AsyncClient]) -> None:
        product = {"sku": SKU, "name": "Hydraulic press 800 t", "unit": "C62", "kind": "goods"}
        _ok(await http["offers"].post("/products", json=product, headers=MANAGER), 201)
        book = {
            "name": "EUR list",
            "currency": "EUR",
            "valid_from": (date.today() - timedelta(days=1)).isoformat(),
            "entries": [{"sku": SKU, "unit_price": "185000.00"}],
        }
        _ok(await http["offers"].post("/price-books", json=book, headers=MANAGER), 201)

    async def opportunity(self, http: dict[str, LoadClient]) -> str:
        name = self.next_name()
        body = {
            "account_id": f"acct-{name}",
            "account": {
                "company_id": f"co-{name}",
                "name": f"Bench {name} GmbH",
                "country": "DE",
                "city": "Stuttgart",
                "postal_code": "70173",
            },
            "currency": "EUR",
        }
        headers = {**REP, "Idempotency-Key": f"opp-{name}"}
        resp = await http["opportunities"].request(
            "POST", "/opportunities", json_body=body, headers=headers
        )
        return _ok(resp, 201, what="POST /opportunities")["id"]

    async def flow(self, http: dict[str, LoadClient], opportunity_id: str) -> None:
        offer = {
            "opportunity_id": opportunity_id,
            "lines": [{"sku": SKU, "quantity": "1"}],
            "terms": TERMS,
            "bill_to": ADDRESS,
            "ship_to": ADDRESS,
        }
        headers = {**REP, "Idempotency-Key": f"offer-{opportunity_id}"}
        began = time.time()
        while True:  # 404 until offers has consumed opportunity.opened
            resp = await http["offers"].request("POST", "/offers", json_body=offer, headers=headers)
            if resp.status_code != 404:
                break
            self.retries += 1
            await asyncio.sleep(0.01)
        offer_id = _ok(resp, 201, what="POST /offers")["id"]
        self.started[offer_id] = began
        sent = await http["offers"].request("POST", f"/offers/{offer_id}/send", headers=REP)
        _ok(sent, what="POST /offers/{id}/send")
        acceptance = {
            "customer_po_number": f"PO-{offer_id[:12]}",
            "accepted_by": "Eva Ek",
            "accepted_on": date.today().isoformat(),
        }
        accepted = await http["offers"].request(
            "POST", f"/offers/{offer_id}/accept", json_body=acceptance, headers=REP
        )
        _ok(accepted, what="POST /offers/{id}/accept")
        self.accepted_at[offer_id] = time.time()

    async def client(self, stop: asyncio.Event) -> None:
        async with contextlib.AsyncExitStack() as stack:
            # the lean client: the bench's CPU stays off the cores the services run on
            http = {
                name: await stack.enter_async_context(LoadClient(*_host_port(url)))
                for name, url in self.urls.items()
            }
            upcoming = await self.opportunity(http)
            while not stop.is_set():
                current, upcoming = upcoming, await self.opportunity(http)
                try:
                    await self.flow(http, current)
                except (AssertionError, OSError, asyncio.IncompleteReadError) as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    await asyncio.sleep(0.1)


def _ok(resp: httpx.Response | Answer, *statuses: int, what: str = "") -> Any:
    if resp.status_code not in (statuses or (200,)):
        if isinstance(resp, httpx.Response):
            what = f"{resp.request.method} {resp.request.url.path}"
        raise AssertionError(f"{what}: {resp.status_code} {resp.text[:200]}")
    return resp.json()


def _host_port(url: str) -> tuple[str, int]:
    parsed = urlsplit(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


# ------------------------------------------------------------------------------ the platform


def dev_env() -> dict[str, str]:
    """The settings ``salesflow dev`` gives its services (none beyond the defaults if that
    command does not say)."""
    try:
        from salesflow.cli.dev import dev_service_env
    except ImportError:
        return {}
    return dev_service_env()


class ResourceUse:
    """VmRSS of every process, idle and peak while sampled; CPU used over the measured window."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.idle: dict[str, float | None] = {}
        self.peak: dict[str, float] = {}
        self.cpu_at_start: dict[str, float | None] = {}
        self.cpu_used: dict[str, float | None] = {}

    def cpu_window_start(self) -> None:
        self.cpu_at_start = {name: cpu_s(pid) for name, pid in self.pids.items()}

    def cpu_window_end(self) -> None:
        for name, pid in self.pids.items():
            began, now = self.cpu_at_start.get(name), cpu_s(pid)
            self.cpu_used[name] = None if began is None or now is None else now - began

    def sample_idle(self) -> None:
        self.idle = {name: rss_mb(pid) for name, pid in self.pids.items()}

    async def sample_peaks(self, stop: asyncio.Event, every_s: float = 0.5) -> None:
        while not stop.is_set():
            for name, pid in self.pids.items():
                value = rss_mb(pid)
                if value is not None:
                    self.peak[name] = max(self.peak.get(name, 0.0), value)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)


async def drive(
    stack: Any, *, clients: int, warmup_s: float, duration_s: float, usage: ResourceUse
) -> dict[str, Any]:
    urls = {name: stack.url(name) for name in ("opportunities", "offers")}
    log = EventLog(stack.bootstrap)
    driver = Driver(urls)
    async with httpx.AsyncClient(base_url=urls["offers"], timeout=30) as offers:
        await driver.catalog({"offers": offers})
    await log.start()
    stop_clients, stop_sampling = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(driver.client(stop_clients)) for _ in range(clients)]
    try:
        # warm-up: at least warmup_s and a few complete flows (simulator joined, caches warm)
        began = time.monotonic()
        while time.monotonic() - began < warmup_s or len(log.completed) < 2 * clients:
            if time.monotonic() - began > warmup_s + 60:
                raise RuntimeError(
                    f"warm-up: only {len(log.completed)} flows completed in 60 s; "
                    f"client errors: {driver.errors[:3]}"
                )
            await asyncio.sleep(0.2)
        sampler = asyncio.create_task(usage.sample_peaks(stop_sampling))
        since = time.time()
        usage.cpu_window_start()
        await asyncio.sleep(duration_s)
        until = time.time()
        usage.cpu_window_end()
        stop_clients.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        # drain: the window's flows finish (for their handoff and flow latencies), bounded
        in_window = [o for o, t in driver.accepted_at.items() if since <= t < until]
        drain_began = time.monotonic()
        while time.monotonic() - drain_began < 30:
            left = [o for o in in_window if log.accepted.get(o) not in log.completed]
            if not left:
                break
            await asyncio.sleep(0.25)
        stop_sampling.set()
        await sampler
        controlling = await controlling_handoffs(stack.url("controlling"))
    finally:
        stop_clients.set()
        stop_sampling.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await log.stop()
    window = until - since
    completed = [t for t in log.completed.values() if since <= t < until]
    flow_latencies = [
        log.completed[corr] - driver.started[offer]
        for offer, corr in log.accepted.items()
        if offer in driver.started and since <= driver.started[offer] < until
        if corr in log.completed
    ]
    # where a flow's time goes: the client's four requests, then the events alone
    client_part = [
        driver.accepted_at[offer] - began
        for offer, began in driver.started.items()
        if since <= began < until and offer in driver.accepted_at
    ]
    event_part = [
        log.completed[corr] - log.accepted_time[offer]
        for offer, corr in log.accepted.items()
        if offer in driver.started and since <= driver.started[offer] < until
        if corr in log.completed and offer in log.accepted_time
    ]
    events, deliveries = log.traffic(since, until)
    accepted_in_window = sum(1 for t in driver.accepted_at.values() if since <= t < until)
    not_completed = sum(
        1
        for offer, t in driver.accepted_at.items()
        if since <= t < until and log.accepted.get(offer) not in log.completed
    )
    return {
        "clients": clients,
        "window_s": round(window, 1),
        "flows_completed": len(completed),
        "flows_per_s": round(len(completed) / window, 2),
        "offers_accepted_per_s": round(accepted_in_window / window, 2),
        "flow_p50_ms": ms(percentile(flow_latencies, 50)),
        "flow_p99_ms": ms(percentile(flow_latencies, 99)),
        "client_requests_p50_ms": ms(percentile(client_part, 50)),
        "accepted_to_completed_p50_ms": ms(percentile(event_part, 50)),
        "accepted_to_completed_p99_ms": ms(percentile(event_part, 99)),
        "flows_unfinished_after_drain": not_completed,
        # the work a flow hands over: with the hop's deliveries/s, a ceiling on flows/s
        "events_per_flow": round(events / len(completed), 1) if completed else None,
        "deliveries_per_flow": round(deliveries / len(completed), 1) if completed else None,
        "client_errors": len(driver.errors),
        "first_client_error": driver.errors[0] if driver.errors else None,
        "offer_404_retries": driver.retries,
        "handoffs": log.handoffs(since, until),
        "controlling_handoffs": controlling,
    }


async def controlling_handoffs(url: str) -> dict[str, Any]:
    """Controlling's own view (GET /handoffs: every event since the start, warm-up included),
    kept beside ours in results.json as a cross-check."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            body = _ok(await http.get("/handoffs", headers=ANALYST))
    except (AssertionError, httpx.HTTPError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        h["handoff"]: {
            "reacted": h["reacted"],
            "p50_ms": ms(h["latency_p50_s"]),
            "p99_ms": ms(h["latency_p99_s"]),
        }
        for h in body["handoffs"]
        if h["reacted"]
    }


def _start_simulator(bootstrap: str, logs: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("salesflow")), "simulate", "logistics"]
    command += ["--bootstrap", bootstrap, "--delay", "0", "--partial-ratio", "0"]
    command += ["--failure-ratio", "0", "--no-production", "--seed", "7"]
    log = open(logs / "simulator.log", "ab")  # noqa: SIM115 - owned by the child
    env = {k: v for k, v in os.environ.items() if k != "SALESFLOW_TOPIC_PREFIX"}
    try:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    finally:
        log.close()


def main(
    *, clients: int = 4, warmup_s: float = 10.0, duration_s: float = 30.0
) -> dict[str, dict[str, Any]]:
    """Start the platform, measure the references on its broker, drive flows, stop it all."""
    from salesflow.stack import DevStack

    workdir = Path(tempfile.mkdtemp(prefix="salesflow-bench-system-"))
    env = dev_env()  # exactly what `salesflow dev` gives the services
    stack = DevStack(
        workdir / "data", free_port_block(list(registry.PORTS.values())), extra_env=env
    )
    simulator: subprocess.Popen[bytes] | None = None
    results: dict[str, dict[str, Any]] = {}
    finished = False
    try:
        bootstrap = stack.start_broker("embedded", free_port())
        results["system/references"] = references.measure(bootstrap)
        # the simulator first: it is up and in its group by the time the services are ready
        (workdir / "data" / "logs").mkdir(parents=True, exist_ok=True)
        simulator = _start_simulator(bootstrap, workdir / "data" / "logs")
        stack.migrate()
        stack.start_services(bootstrap)
        missing = stack.wait_ready(120)
        if missing:
            raise RuntimeError(f"not ready after 120 s: {', '.join(missing)}; logs in {workdir}")
        pids = {name: proc.pid for name, proc in stack.procs.items()}
        pids["broker (embedded)"] = stack.broker.pid
        pids["logistics simulator"] = simulator.pid
        pids["bench clients and event log"] = os.getpid()
        usage = ResourceUse(pids)
        time.sleep(2.0)  # idle: services ready, nothing flowing
        usage.sample_idle()
        flows = asyncio.run(
            drive(stack, clients=clients, warmup_s=warmup_s, duration_s=duration_s, usage=usage)
        )
        handoffs = flows.pop("handoffs")
        controlling = flows.pop("controlling_handoffs")
        results["system/flows"] = flows
        results["system/handoffs"] = handoffs
        results["system/handoffs_by_controlling"] = controlling
        # where the two cores go: CPU of each process over the window / flows completed in it
        done = flows["flows_completed"] or None
        results["system/cpu_ms_per_flow"] = {
            name: None if used is None or done is None else round(used * 1000 / done, 1)
            for name, used in usage.cpu_used.items()
        }
        results["system/memory_mb"] = {
            name: {
                "idle": None if usage.idle.get(name) is None else round(usage.idle[name], 1),
                "peak_under_load": round(usage.peak[name], 1) if name in usage.peak else None,
            }
            for name in pids
        }
        finished = True
    finally:
        if simulator is not None and simulator.poll() is None:
            simulator.terminate()
            try:
                simulator.wait(15)
            except subprocess.TimeoutExpired:
                simulator.kill()
                simulator.wait(5)
        stack.stop()
        if finished:  # a failed run keeps its logs and databases for a look
            shutil.rmtree(workdir, ignore_errors=True)
    return results
