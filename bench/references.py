"""Same-run physical references: what the broker and SQLite give with no Salesflow code at all.

- raw aiokafka on the given broker: produce→consume round trip at light load (one message at a
  time, ``send_and_wait`` then wait for the consumer to get it) and throughput (N ~1 KB
  messages produced as fast as the producer batches them, until the consumer has them all);
  producer and consumer configured like the services' (acks=all, linger 0 ms, fetch wait 10 ms).
- raw SQLite (stdlib sqlite3): one small INSERT per transaction (BEGIN IMMEDIATE … COMMIT), WAL,
  synchronous=NORMAL, as ``salesflow.db`` sets up every service database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.stats import percentile


async def kafka_round_trip(
    bootstrap: str, *, light: int = 500, n: int = 20_000, size: int = 1000
) -> dict[str, float | None]:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_batch_size=262_144
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
        max_partition_fetch_bytes=4_194_304,
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0)])
    arrived: dict[int, float] = {}
    waiting: dict[int, asyncio.Future[None]] = {}

    async def consume() -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                now = time.perf_counter()
                for record in records:
                    seq = int(record.key)
                    arrived[seq] = now
                    future = waiting.pop(seq, None)
                    if future is not None and not future.done():
                        future.set_result(None)

    reader = asyncio.create_task(consume())
    body = b"x" * size
    loop = asyncio.get_running_loop()
    try:
        rtts: list[float] = []
        for seq in range(light + 20):  # the first 20 warm up connections and fetch sessions
            waiting[seq] = received = loop.create_future()  # may be popped before we await it
            started = time.perf_counter()
            await producer.send_and_wait(topic, body, key=str(seq).encode())
            await asyncio.wait_for(received, 10)
            if seq >= 20:
                rtts.append(arrived[seq] - started)
        base = light + 20
        started = time.perf_counter()
        for seq in range(base, base + n):
            await producer.send(topic, body, key=str(seq).encode())
        while len(arrived) < base + n:
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
    return {
        "raw_kafka_rtt_p50_ms": round(percentile(rtts, 50) * 1000, 2),
        "raw_kafka_rtt_p99_ms": round(percentile(rtts, 99) * 1000, 2),
        "raw_kafka_msgs_per_s": round(n / elapsed),
    }


def sqlite_commits(seconds: float = 3.0) -> dict[str, float]:
    """Transactions per second, one ~100-byte INSERT each, on a fresh WAL database file."""
    with tempfile.TemporaryDirectory(prefix="salesflow-bench-sqlite-") as tmp:
        return _sqlite_commits(Path(tmp) / "raw.db", seconds)


def _sqlite_commits(path: Path, seconds: float) -> dict[str, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        body = "x" * 100
        done = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            for _ in range(100):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO t (body) VALUES (?)", (body,))
                conn.execute("COMMIT")
            done += 100
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return {"raw_sqlite_commits_per_s": round(done / elapsed)}


def measure(bootstrap: str) -> dict[str, float | None]:
    """Both references (blocking; run it while nothing else uses the broker)."""
    figures: dict[str, float | None] = dict(asyncio.run(kafka_round_trip(bootstrap)))
    figures.update(sqlite_commits())
    return figures
