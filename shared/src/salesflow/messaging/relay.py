"""The relay: one task per service process publishing unpublished outbox rows in insertion order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import Select, bindparam, delete, select

from salesflow import observability as obs
from salesflow.db import Database
from salesflow.faults import crashpoint
from salesflow.leadership import AdvisoryLock
from salesflow.messaging import outbox
from salesflow.messaging.kafka import make_producer
from salesflow.messaging.tables import OutboxRow
from salesflow.settings import ServiceSettings

log = logging.getLogger(__name__)

_MAINTENANCE_EVERY_S = 5.0
# Core statements on the table, built once: the relay runs them for every batch, and the ORM's
# statement handling (plain rows need none of it) doubled the CPU of each of its transactions.
_OUTBOX = OutboxRow.__table__
_MARK = (
    _OUTBOX.update()
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(published_at=bindparam("now"))
)


def _take(limit: int) -> Select[Any]:
    columns = ("id", "topic", "key", "headers", "payload", "created_at")
    return (
        select(*(_OUTBOX.c[name] for name in columns))
        .where(_OUTBOX.c.published_at.is_(None))
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )


class Relay:
    def __init__(
        self,
        db: Database,
        settings: ServiceSettings,
        on_connect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.on_connect = on_connect  # e.g. re-create topics on a broker that lost its log
        self.settings = settings
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = AdvisoryLock(db, f"salesflow-relay:{settings.service}")
        self.connected = False
        self.standby = False  # another replica's relay holds the publisher lock
        self.published = 0
        self._last_maintenance = 0.0
        self._backoff = 0.2  # reset by every batch that goes through
        self._stopping = False
        self._acked: list[int] = []  # sent and acknowledged, marked with the next batch
        self._topics_checked = 0.0
        self._take = _take(settings.relay_batch_size)
        db.on_outbox_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"relay-{self.settings.service}")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Publish what is committed (within ``grace_s``), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace_s)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        await self._release_lock()

    async def _run(self) -> None:
        while not self._stopping:
            producer: AIOKafkaProducer | None = None
            try:
                await self._await_leadership()
                if self.on_connect is not None:
                    await self.on_connect()
                producer = make_producer(self.settings)
                await producer.start()
                self.connected = True
                await self._pump(producer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: back off and reconnect
                self.connected = False
                log.warning("relay interrupted, retrying in %.1fs: %r", self._backoff, exc)
                await asyncio.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, 5.0)
            finally:
                self.connected = False
                if producer is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(producer.stop(), 5)

    async def _pump(self, producer: AIOKafkaProducer) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            sent = await self._publish_batch(producer)
            if self._stopping and sent == 0:
                return
            if loop.time() - self._last_maintenance > _MAINTENANCE_EVERY_S:
                await self._maintenance()
                self._last_maintenance = loop.time()
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.relay_poll_interval_s)

    async def _publish_batch(self, producer: AIOKafkaProducer) -> int:
        """Mark the previous batch published and take the next one, in one unit of work; send
        it and wait for the broker's acknowledgement. A crash after sending and before the next
        call re-sends the batch: a duplicate the consumers' inboxes absorb."""
        await self._check_leadership()
        now = datetime.now(UTC)
        async with self.db.session() as session, session.begin():
            if self._acked:
                await session.execute(_MARK, {"ids": self._acked, "now": now})
            rows = (await session.execute(self._take)).all()
        self._acked = []
        if not rows:
            return 0
        crashpoint("relay.before_publish")
        check = self._topic_check(producer, {self.settings.topic(r.topic) for r in rows})
        try:
            futures = []
            for row in rows:
                futures.append(
                    await producer.send(
                        self.settings.topic(row.topic),
                        value=row.payload.encode(),
                        key=row.key.encode(),
                        headers=outbox.headers_of(row),
                    )
                )
            await asyncio.gather(*futures)
            if check is not None and await check:
                # the broker may have dropped what it just acknowledged; the topics exist now:
                # leave the rows unmarked, the next batch sends them again
                return len(rows)
        finally:
            if check is not None and not check.done():
                check.cancel()
            elif check is not None and not check.cancelled():
                check.exception()  # seen: when the sends failed, theirs is the error raised
        crashpoint("relay.after_publish")
        self._acked = [r.id for r in rows]
        acked_at = datetime.now(UTC)
        self.published += len(rows)
        self._backoff = 0.2
        obs.child(obs.OUTBOX_PUBLISHED, self.settings.service).inc(len(rows))
        delay = obs.child(obs.OUTBOX_PUBLISH_DELAY, self.settings.service)
        for row in rows:
            delay.observe((acked_at - row.created_at).total_seconds())
        return len(rows)

    def _topic_check(
        self, producer: AIOKafkaProducer, topics: set[str]
    ) -> asyncio.Task[bool] | None:
        """A broker that lost its log (the embedded one after a restart) acknowledges records for
        topics it no longer has and drops them; so, at most once a second, look the batch's
        topics up while it is being sent (not before: that would put a round trip on the path
        of every event at low traffic). What slips through that window is covered by
        ``outbox replay``."""
        now = asyncio.get_running_loop().time()
        if self.on_connect is None or now - self._topics_checked < 1.0:
            return None
        self._topics_checked = now
        return asyncio.create_task(self._create_missing(producer, topics))

    async def _create_missing(self, producer: AIOKafkaProducer, topics: set[str]) -> bool:
        """True if some of ``topics`` were missing and are created now. A failed look-up is
        left to the batch's own sends (they tell whether the broker is there); a failed
        creation raises, and the relay reconnects (which creates the topics first)."""
        try:
            missing = topics - (await producer.client.fetch_all_metadata()).topics()
        except Exception as exc:
            log.warning("looking topics up on the broker failed: %r", exc)
            return False
        if missing and self.on_connect is not None:
            log.warning("topics %s missing on the broker; creating them", sorted(missing))
            await self.on_connect()
        return bool(missing)

    async def _maintenance(self) -> None:
        """Backlog gauges and retention of published rows."""
        async with self.db.session() as session:
            unpublished, oldest = await outbox.backlog(session)
        obs.OUTBOX_BACKLOG.labels(self.settings.service).set(unpublished)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        obs.OUTBOX_OLDEST_AGE.labels(self.settings.service).set(age)
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.outbox_retention_days)
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.published_at.is_not(None), OutboxRow.published_at < cutoff
                )
            )

    # -- single publisher across replicas (PostgreSQL advisory lock) --------------------------

    def _lock_key(self) -> int:
        return self._lock.key

    async def _await_leadership(self) -> None:
        if self.db.sqlite:
            return
        while True:
            if await self._lock.try_acquire():
                self.standby = False
                log.info("relay of %s holds the publisher lock", self.settings.service)
                return
            self.standby = True
            await asyncio.sleep(1.0)

    async def _check_leadership(self) -> None:
        await self._lock.check()

    async def _release_lock(self) -> None:
        await self._lock.release()
