"""One hop of the backbone: outbox commit → relay → broker → consumer → inbox commit.

Throughput: N events committed to the outbox in transactions of 100, drained by the relay and
consumed by a consumer of the same service (SQLite, like `make run`). Latency at light load:
events one by one at ~200/s, from the outbox commit to the consumer's DB commit."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar

from salesflow import broker as brokers
from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.types import Payload
from salesflow.db import Database
from salesflow.messaging.consumer import Consumer
from salesflow.messaging.handlers import HandlerContext, emit
from salesflow.messaging.kafka import ensure_topics
from salesflow.messaging.relay import Relay
from salesflow.migrations import upgrade
from salesflow.settings import ServiceSettings
from salesflow.testing.helpers import free_port

TOPIC = register_topic(TopicSpec("bench.ping.v1", "bench", 6, "benchmark traffic"))
MIGRATIONS = Path(__file__).parent / "migrations"


@register_event("bench.ping.v1", TOPIC, "benchmark event")
class Ping(Payload):
    seq: int
    body: str


class BenchSettings(ServiceSettings):
    service: ClassVar[str] = "bench"


async def _noop(ctx: HandlerContext) -> None:
    return None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_hop(bootstrap: str, n: int = 20_000, light: int = 500) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="salesflow-bench-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    settings = BenchSettings(
        database_url=url,
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=f"b{uuid.uuid4().hex[:8]}.",
        relay_poll_interval_s=0.5,
        log_json=False,
    )
    await ensure_topics(settings, {settings.topic(TOPIC.name): TOPIC.partitions})
    db = Database(url)
    done: dict[str, float] = {}
    consumer = Consumer(
        name="bench",
        db=db,
        settings=settings,
        topics=[TOPIC.name],
        handlers={"bench.ping.v1": _noop},
        on_committed=lambda events: done.update(dict.fromkeys((e.id for e in events), time.time())),
    )
    relay = Relay(db, settings)
    consumer.start()
    relay.start()
    body = "x" * 900  # ~1 KB events
    try:
        # warm-up: group joined, connections open
        await _emit(db, settings, 0, body)
        while not done:
            await asyncio.sleep(0.05)
        done.clear()

        started = time.perf_counter()
        for start in range(0, n, 100):
            async with db.session() as session, session.begin():
                for seq in range(start, min(n, start + 100)):
                    emit(
                        session, settings, "bench.ping.v1", f"k{seq % 64}", Ping(seq=seq, body=body)
                    )
        while len(done) < n:
            await asyncio.sleep(0.01)
        throughput = n / (time.perf_counter() - started)

        done.clear()
        sent: dict[str, float] = {}
        for seq in range(light):
            event = await _emit(db, settings, seq, body)
            sent[event.id] = event.time.timestamp()
            await asyncio.sleep(0.005)
        while len(done) < light:
            await asyncio.sleep(0.01)
        latencies = [(done[i] - sent[i]) * 1000 for i in sent]
    finally:
        await relay.stop()
        await consumer.stop()
        await db.dispose()
    return {
        "events_per_s": round(throughput),
        "hop_p50_ms": round(statistics.median(latencies), 2),
        "hop_p99_ms": round(_pct(latencies, 0.99), 2),
    }


async def _emit(db: Database, settings: BenchSettings, seq: int, body: str) -> Envelope:
    async with db.session() as session, session.begin():
        return emit(session, settings, "bench.ping.v1", f"k{seq % 64}", Ping(seq=seq, body=body))


def main(kinds: tuple[str, ...] = ("embedded", "kafka"), n: int = 20_000) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for kind in kinds:
        handle = brokers.start(
            kind,
            port=free_port(),
            **(
                {"data_dir": Path(tempfile.mkdtemp(prefix="bench-kafka-"))}
                if kind == "kafka"
                else {}
            ),
        )
        try:
            results[kind] = asyncio.run(run_hop(handle.bootstrap, n=n))
        finally:
            handle.stop()
    return results
