"""Consumer loop: one DB transaction per poll (handler writes + inbox rows + new outbox rows),
offsets committed only after that commit, poison events dead-lettered after retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from salesflow import observability as obs
from salesflow.contracts.catalog import event_spec
from salesflow.contracts.envelope import Envelope, MalformedEvent
from salesflow.db import Database
from salesflow.faults import crashpoint
from salesflow.messaging import dlq, inbox
from salesflow.messaging.handlers import Handler, HandlerContext, PermanentError
from salesflow.messaging.kafka import FetchPacer, make_consumer, subscribe_started
from salesflow.messaging.offsets import OffsetCommitter
from salesflow.settings import ServiceSettings

log = logging.getLogger(__name__)

REVOKE_FLUSH_TIMEOUT_S = 5.0


class _FromCommitted(ConsumerRebalanceListener):
    """After every (re)assignment, start from the group's committed offset, or from the
    beginning where there is none. A consumer that survives a broker which lost its log (the
    embedded one after a restart) must not go on from its old in-memory positions: it would skip
    the new log's first records. Re-reading is harmless: the inbox skips what was handled."""

    def __init__(self, consumer: AIOKafkaConsumer, committer: OffsetCommitter) -> None:
        self.consumer = consumer
        self.committer = committer

    async def on_partitions_revoked(self, revoked: object) -> None:
        # what was handled here is committed before another member takes the partitions over
        try:
            await asyncio.wait_for(self.committer.flush(), REVOKE_FLUSH_TIMEOUT_S)
        except Exception as exc:  # the new owner re-reads; its inbox skips what was handled
            log.info("offsets not committed before the rebalance: %r", exc)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        ends: dict[TopicPartition, int] = {}
        if assigned:
            with contextlib.suppress(KafkaError, AssertionError):
                ends = await self.consumer.end_offsets(list(assigned))
        for tp in assigned:
            committed = await self.consumer.committed(tp)
            end = ends.get(tp)
            if committed is None or (end is not None and committed > end):
                # None: a new group. Beyond the end: the offset belongs to a log the broker
                # lost (the embedded broker even accepts a commit from before its restart).
                await self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, committed)


class Consumer:
    """Consumes ``topics`` (logical names) for one consumer (group ``salesflow.<name>``)."""

    def __init__(
        self,
        *,
        name: str,
        db: Database,
        settings: ServiceSettings,
        topics: list[str],
        handlers: dict[str, Handler],
        on_connect: Callable[[], Awaitable[None]] | None = None,
        on_committed: Callable[[list[Envelope]], None] | None = None,
    ) -> None:
        self.name = name
        self.on_connect = on_connect
        self.on_committed = on_committed  # observers of handled events, after their DB commit
        self.db = db
        self.settings = settings
        self.topics = topics
        self.handlers = handlers
        self.group_id = settings.topic(f"salesflow.{name}")
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lag_reported = 0.0
        self.connected = False
        self.counts = {"handled": 0, "duplicate": 0, "unhandled": 0, "dead_lettered": 0}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Finish the batch in hand, commit, leave the group."""
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

    async def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            consumer = make_consumer(self.settings, self.group_id)
            committer = OffsetCommitter(consumer, self.settings.consumer_commit_interval_s)
            try:
                if self.on_connect is not None:
                    await self.on_connect()
                await consumer.start()
                await subscribe_started(
                    consumer,
                    [self.settings.topic(t) for t in self.topics],
                    _FromCommitted(consumer, committer),
                )
                committer.start()
                self.connected = True
                backoff = 0.2
                pacer = FetchPacer(consumer, self.settings)
                while not self._stopping:
                    if committer.error is not None:
                        raise committer.error
                    batches = await consumer.getmany(
                        timeout_ms=pacer.poll_timeout_ms,
                        max_records=self.settings.consumer_batch_size,
                    )
                    pacer.observe(bool(batches))
                    await self._process(committer, batches)
                    await self._report_lag(consumer)
                await committer.stop()
                await committer.flush()  # stopping: the last polls' offsets
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker away, rebalance mid-commit, DB away: rejoin
                log.warning(
                    "consumer %s interrupted, rejoining in %.1fs: %r", self.name, backoff, exc
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.connected = False
                await committer.stop()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consumer.stop(), 5)

    async def _process(
        self, committer: OffsetCommitter, batches: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        """Optimistically the whole poll in one transaction; if anything in it fails, roll it
        back and take the records one by one (retries, then the DLQ) so that the good ones still
        commit and the partition keeps flowing."""
        if not batches:
            return
        if not await self._fast_path([r for records in batches.values() for r in records]):
            for records in batches.values():
                for record in records:
                    await self._slow_path(record)
        crashpoint("consumer.after_db_commit")
        committer.mark({tp: records[-1].offset + 1 for tp, records in batches.items()})

    async def _fast_path(self, records: list[ConsumerRecord]) -> bool:
        """Handlers, inbox rows and new outbox rows of every record in ONE transaction.
        False (and nothing written) if any record is malformed or its handler fails."""
        events: list[Envelope] = []
        for record in records:
            try:
                events.append(Envelope.from_record(record.headers, record.value))
            except MalformedEvent:
                return False
        outcomes: list[tuple[Envelope, str]] = []
        timings: list[tuple[str, float]] = []
        try:
            async with self.db.session() as session, session.begin():
                already = await inbox.seen(session, self.name, [e.id for e in events])
                for event in events:
                    if event.id in already:
                        outcomes.append((event, "duplicate"))
                        continue
                    handler = self.handlers.get(event.type)
                    if handler is None:
                        if event_spec(event.type) is None:
                            return False  # not in the catalog: a poison event
                        outcomes.append((event, "unhandled"))
                        continue
                    started = time.perf_counter()
                    obs.correlation_id_var.set(event.correlation_id)  # logs name the journey
                    await handler(HandlerContext(session, event, self.settings))
                    timings.append((event.type, time.perf_counter() - started))
                    inbox.record(session, self.name, event.id, event.type)
                    already.add(event.id)
                    outcomes.append((event, "handled"))
        except Exception as exc:
            log.info(
                "consumer %s: batch of %d failed, taking it record by record: %r",
                self.name,
                len(records),
                exc,
            )
            return False
        for event_type, seconds in timings:
            obs.child(obs.HANDLER_LATENCY, self.name, event_type).observe(seconds)
        for event, outcome in outcomes:
            if outcome != "handled":
                self._count(event.type, outcome)
        self._committed([e for e, outcome in outcomes if outcome == "handled"])
        return True

    async def _slow_path(self, record: ConsumerRecord) -> None:
        """One record, own transaction per attempt, bounded retries with backoff, then the DLQ."""
        attempts = 0
        error = ""
        event_type = ""
        for attempt in range(1, self.settings.consumer_max_retries + 1):
            attempts = attempt
            try:
                event = Envelope.from_record(record.headers, record.value)
                event_type = event.type
                handler = self.handlers.get(event.type)
                if handler is None and event_spec(event.type) is None:
                    raise MalformedEvent(f"unknown event type {event.type!r}")
                async with self.db.session() as session, session.begin():
                    if await inbox.seen(session, self.name, [event.id]):
                        self._count(event.type, "duplicate")
                        return
                    if handler is None:
                        self._count(event.type, "unhandled")
                        return
                    await handler(HandlerContext(session, event, self.settings))
                    inbox.record(session, self.name, event.id, event.type)
                self._committed([event])
                return
            except (MalformedEvent, PermanentError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                break
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt < self.settings.consumer_max_retries:
                    await asyncio.sleep(self.settings.consumer_retry_backoff_s * 2 ** (attempt - 1))
        log.error(
            "consumer %s dead-letters %s after %d attempt(s): %s",
            self.name,
            dlq.record_id(record),
            attempts,
            error,
        )
        async with self.db.session() as session, session.begin():
            if await inbox.seen(session, self.name, [dlq.record_id(record)]):
                return
            dlq.park(
                session,
                consumer=self.name,
                service=self.settings.service,
                record=record,
                logical_topic=self._logical(record.topic),
                event_type=event_type,
                error=error,
                attempts=attempts,
            )
        self._count(event_type or "unknown", "dead_lettered")
        obs.DLQ_EVENTS.labels(self.name).inc()

    def _committed(self, events: list[Envelope]) -> None:
        if not events:
            return
        if self.on_committed is not None:
            self.on_committed(events)
        now = time.time()
        for event in events:
            self._count(event.type, "handled")
            obs.child(obs.HANDOFF_LATENCY, self.name, event.type).observe(
                max(0.0, now - event.time.timestamp())
            )

    def _count(self, event_type: str, outcome: str) -> None:
        self.counts[outcome] += 1
        obs.child(obs.EVENTS_CONSUMED, self.name, event_type, outcome).inc()

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        if now - self._lag_reported < 1.0:
            return
        self._lag_reported = now
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            with contextlib.suppress(KafkaError, AssertionError):
                position = await consumer.position(tp)
                obs.CONSUMER_LAG.labels(self.name, self._logical(tp.topic), str(tp.partition)).set(
                    max(0, high - position)
                )
