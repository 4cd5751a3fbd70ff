"""The record index: every record of every catalog topic and every service's dead-letter topic,
by partition and offset, read with a plain consumer of its own group.

Why not the platform consumer: the inbox skips an event id it has seen, but a dead letter
carries the id of the event it parks (which controlling has usually stored already), and
records without CloudEvents headers would be dead-lettered again instead of counted. Offsets
are needed too: a handoff's "consumed" is measured against the consumer group's committed
offsets, which only means something with the partition and offset of each event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from controlling.tables import ControllingRecord
from salesflow import registry
from salesflow.contracts.catalog import all_topics, dlq_topic
from salesflow.db import Database
from salesflow.leadership import every_replica
from salesflow.messaging.kafka import FetchPacer, ensure_topics, make_consumer, subscribe_started
from salesflow.service import DEFAULT_PARTITIONS, ServiceContext
from salesflow.settings import ServiceSettings
from salesflow.upserts import dialect_insert, dialect_name

log = logging.getLogger(__name__)

RECORDS_GROUP = "salesflow.controlling.records"


def indexed_topics() -> dict[str, int]:
    """Logical topic -> partitions: the catalog's topics and every service's DLQ."""
    topics = {name: spec.partitions for name, spec in all_topics().items()}
    topics.update({dlq_topic(s): DEFAULT_PARTITIONS for s in registry.SERVICES})
    return dict(sorted(topics.items()))


def _header(headers: dict[str, bytes], name: str, limit: int = 200) -> str | None:
    raw = headers.get(name)
    if not raw:
        return None
    return raw.decode("utf-8", errors="replace")[:limit]


def record_row(logical_topic: str, record: ConsumerRecord, now: datetime) -> dict[str, Any]:
    headers = {k: v for k, v in record.headers or ()}
    return {
        "topic": logical_topic,
        "partition": record.partition,
        "offset": record.offset,
        "event_id": _header(headers, "ce_id"),
        "event_type": _header(headers, "ce_type"),
        "dlq_consumer": _header(headers, "dlq_consumer", 100),
        "dlq_original_topic": _header(headers, "dlq_original_topic"),
        "dlq_error": _header(headers, "dlq_error", 1000),
        "recorded_at": now,
    }


async def store_records(db: Database, rows: list[dict[str, Any]]) -> None:
    """Insert, ignoring records indexed before (a re-read after a crash before the commit)."""
    if not rows:
        return
    table = ControllingRecord.__table__
    stmt = dialect_insert(dialect_name(db), table).values(rows).on_conflict_do_nothing()
    async with db.session() as session, session.begin():
        await session.execute(stmt)


class RecordIndexer:
    """Duck-types the platform consumer (``connected``, ``stop()``) so that the service's
    readiness waits for it and its shutdown stops it."""

    def __init__(
        self, db: Database, settings: ServiceSettings, *, group_id: str | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.name = "controlling-records"
        self.group_id = group_id or settings.topic(RECORDS_GROUP)
        self.topics = indexed_topics()
        self.connected = False
        self.indexed = 0
        self.highwater: dict[tuple[str, int], int] = {}  # logical topic, partition -> end
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="controlling-record-index")

    async def stop(self, grace_s: float = 10.0) -> None:
        self._stopping = True
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def _logical(self, topic: str) -> str:
        prefix = self.settings.topic_prefix
        return topic[len(prefix) :] if prefix and topic.startswith(prefix) else topic

    async def behind(self) -> int | None:
        """Records between this indexer's position and the ends it has seen; None before it
        has partitions assigned and fetched from each."""
        consumer = self._consumer
        if consumer is None or not self.connected:
            return None
        assigned = consumer.assignment()
        if not assigned:
            return None
        total = 0
        for tp in assigned:
            high = consumer.highwater(tp)
            if high is None:
                return None
            total += max(0, high - await consumer.position(tp))
        return total

    async def _run(self) -> None:
        backoff = 0.2
        physical = {self.settings.topic(t): n for t, n in self.topics.items()}
        while not self._stopping:
            consumer = make_consumer(self.settings, self.group_id)
            try:
                await ensure_topics(self.settings, physical)
                await consumer.start()
                await subscribe_started(consumer, list(physical))
                self._consumer = consumer
                self.connected = True
                backoff = 0.2
                pacer = FetchPacer(consumer, self.settings)
                while not self._stopping:
                    batches = await consumer.getmany(
                        timeout_ms=pacer.poll_timeout_ms, max_records=1000
                    )
                    pacer.observe(bool(batches))
                    for tp, records in batches.items():
                        await self._index(consumer, tp, records)
                    self._note_highwater(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker away, rebalance mid-commit, DB away: rejoin
                log.warning("record index interrupted, rejoining in %.1fs: %r", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.connected = False
                self._consumer = None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consumer.stop(), 5)

    async def _index(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[ConsumerRecord]
    ) -> None:
        now = datetime.now(UTC)
        logical = self._logical(tp.topic)
        await store_records(self.db, [record_row(logical, r, now) for r in records])
        await consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "")})
        self.indexed += len(records)

    def _note_highwater(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            with contextlib.suppress(KafkaError, AssertionError):
                high = consumer.highwater(tp)
                if high is not None:
                    self.highwater[(self._logical(tp.topic), tp.partition)] = high


@every_replica  # a member of its consumer group, like the platform consumer
async def run_record_index(ctx: ServiceContext) -> None:
    """Background job of the service: starts the indexer beside the platform consumer."""
    if not ctx.settings.consumers_enabled:
        return
    indexer = RecordIndexer(ctx.db, ctx.settings)
    ctx.consumers.append(indexer)  # type: ignore[arg-type]  # duck-typed: connected, stop()
    indexer.start()
