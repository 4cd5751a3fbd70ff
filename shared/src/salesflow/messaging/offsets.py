"""Offsets committed beside the poll loop instead of inside it.

An offset commit is a round trip to the group coordinator (a few milliseconds on Apache Kafka,
tens at its tail): made inline, every record that arrived meanwhile waited for it before the
next poll. Here the loop only marks what its DB transaction committed and polls on; a task
commits the latest marked offsets, one commit covering every poll since the last one. The rule
stays the same - an offset is marked only after the DB commit of its records - and a crash
before the commit redelivers what the inboxes then skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)


class OffsetCommitter:
    def __init__(self, consumer: AIOKafkaConsumer, interval_s: float = 0.0) -> None:
        self.consumer = consumer
        self.interval_s = interval_s  # at least this long between two commits of the task
        self._pending: dict[TopicPartition, int] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.error: Exception | None = None  # a failed commit: the poll loop rejoins

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="offset-committer")

    def mark(self, offsets: dict[TopicPartition, int]) -> None:
        """Offsets (next to read) whose records' DB transaction has committed."""
        pending = self._pending
        for tp, offset in offsets.items():
            if offset > pending.get(tp, -1):
                pending[tp] = offset
        self._wake.set()

    async def flush(self) -> None:
        """Commit what is marked now (before partitions are given up or the consumer stops)."""
        async with self._lock:
            await self._commit_pending()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
                if self.interval_s > 0:
                    # at light load every poll would have a commit of its own (a round trip and
                    # a write to the broker's offsets log per event); one covers them all now
                    await asyncio.sleep(self.interval_s)
            except (CommitFailedError, IllegalStateError) as exc:
                # the group rebalanced under the commit: the partitions' next owner (maybe this
                # consumer again, which aiokafka rejoins by itself) re-reads from the last
                # committed offset and its inbox skips what was handled here
                log.info("offsets dropped by a rebalance: %r", exc)
                self._pending.clear()
            except Exception as exc:
                self.error = exc
                return

    async def _commit_pending(self) -> None:
        if not self._pending:
            return
        assigned = self.consumer.assignment()
        taken = {tp: off for tp, off in self._pending.items() if tp in assigned}
        # partitions no longer ours: their new owner starts from the last committed offset and
        # its inbox skips what was handled here
        self._pending = {}
        if not taken:
            return
        try:
            await self.consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in taken.items()})
        except BaseException:
            for tp, offset in taken.items():  # later marks win
                if offset > self._pending.get(tp, -1):
                    self._pending[tp] = offset
            raise
