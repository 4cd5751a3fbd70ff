"""One hop of the backbone: outbox commit → relay → broker → consumer → inbox commit.

Two services as in production: this process plays the producing one (outbox and relay on its
SQLite database), a second process the consuming one (platform consumer, inbox on a database of
its own); both SQLite, like `make run`. Throughput: N events committed to the outbox in
transactions of 100, drained by the relay and consumed. Latency at light load: events one by one
at ~200/s, from the outbox commit to the consumer's DB commit (wall clock of one machine)."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import statistics
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
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
from salesflow.service import freeze_startup_heap
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
    # two services, as in production: the producer's outbox and relay in this process, the
    # consumer and its inbox in a process of its own, each with its own database
    producer_url = f"sqlite+aiosqlite:///{workdir / 'producer.db'}"
    consumer_url = f"sqlite+aiosqlite:///{workdir / 'consumer.db'}"
    for url in (producer_url, consumer_url):
        await asyncio.to_thread(upgrade, MIGRATIONS, url)
    prefix = f"b{uuid.uuid4().hex[:8]}."
    settings = _settings(producer_url, bootstrap, prefix)
    await ensure_topics(settings, {settings.topic(TOPIC.name): TOPIC.partitions})
    consumer = _ConsumerProcess(consumer_url, bootstrap, prefix)
    db = Database(producer_url)
    relay = Relay(db, settings)
    freeze_startup_heap()  # as a service does: full GC passes skip what start-up built
    relay.start()
    body = "x" * 900  # ~1 KB events
    try:
        await consumer.started()
        # warm-up: group joined, connections open
        await _emit(db, settings, 0, body)
        await consumer.collect(1)

        started = time.time()
        for start in range(0, n, 100):
            async with db.session() as session, session.begin():
                for seq in range(start, min(n, start + 100)):
                    emit(
                        session, settings, "bench.ping.v1", f"k{seq % 64}", Ping(seq=seq, body=body)
                    )
        done = await consumer.collect(n)
        throughput = n / (max(done.values()) - started)

        sent: dict[str, float] = {}
        for seq in range(light):
            event = await _emit(db, settings, seq, body)
            sent[event.id] = event.time.timestamp()
            await asyncio.sleep(0.005)
        done = await consumer.collect(light)
        latencies = [(done[i] - sent[i]) * 1000 for i in sent]
    finally:
        await relay.stop()
        await db.dispose()
        await consumer.stop()
    return {
        "events_per_s": round(throughput),
        "hop_p50_ms": round(statistics.median(latencies), 2),
        "hop_p99_ms": round(_pct(latencies, 0.99), 2),
    }


def _settings(url: str, bootstrap: str, prefix: str) -> BenchSettings:
    return BenchSettings(
        database_url=url,
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=prefix,
        relay_poll_interval_s=0.5,
        log_json=False,
    )


class _ConsumerProcess:
    """The consuming service: a process running the platform consumer; ``collect(n)`` waits
    until it has committed ``n`` events and returns their ids with the wall-clock time of the
    commit (one machine, one clock)."""

    def __init__(self, url: str, bootstrap: str, prefix: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._proc = context.Process(
            target=_consumer_main, args=(child, url, bootstrap, prefix), daemon=True
        )
        self._proc.start()

    async def _ask(self, *command: object) -> object:
        self._conn.send(command)
        return await asyncio.to_thread(self._conn.recv)

    async def started(self) -> None:
        await self._ask("started")

    async def collect(self, n: int) -> dict[str, float]:
        return await asyncio.wait_for(self._ask("collect", n), 300)  # type: ignore[return-value]

    async def stop(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(OSError, EOFError, TimeoutError):
                await asyncio.wait_for(self._ask("stop"), 15)
        await asyncio.to_thread(self._proc.join, 15)
        if self._proc.is_alive():
            self._proc.kill()


def _consumer_main(conn: Connection, url: str, bootstrap: str, prefix: str) -> None:
    asyncio.run(_consume(conn, url, bootstrap, prefix))


async def _consume(conn: Connection, url: str, bootstrap: str, prefix: str) -> None:
    db = Database(url)
    done: dict[str, float] = {}
    arrived = asyncio.Event()

    def committed(events: list[Envelope]) -> None:
        now = time.time()
        done.update(dict.fromkeys((e.id for e in events), now))
        arrived.set()

    consumer = Consumer(
        name="bench",
        db=db,
        settings=_settings(url, bootstrap, prefix),
        topics=[TOPIC.name],
        handlers={"bench.ping.v1": _noop},
        on_committed=committed,
    )
    freeze_startup_heap()
    consumer.start()
    try:
        while True:
            command, *args = await asyncio.to_thread(conn.recv)
            if command == "stop":
                break
            if command == "collect":
                while len(done) < args[0]:
                    arrived.clear()
                    await arrived.wait()
                conn.send(dict(done))
                done.clear()
            else:
                conn.send(None)
    finally:
        await consumer.stop()
        await db.dispose()
        conn.send(None)


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
