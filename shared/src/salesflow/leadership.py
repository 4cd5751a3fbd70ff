"""One leader among the replicas of a service, by a PostgreSQL advisory lock.

``AdvisoryLock`` is the lock itself (also the relay's: one publisher per service).
``JobLeadership`` runs a service's leader-only background jobs in the one replica that holds
``salesflow-jobs:<service>``; the others stand by and take over within about a second of the
leader's death (its session ends, PostgreSQL frees the lock at once). On SQLite there is one
process per database file, so that process always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from prometheus_client import Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from salesflow.db import Database

log = logging.getLogger(__name__)

RETRY_S = 1.0  # a standby tries the lock this often: the takeover time after a leader's death
CHECK_S = 1.0  # a leader checks this often that its lock session is still alive
CHECK_TIMEOUT_S = 5.0  # a check that hangs (network cut) counts as a lost lock

JOBS_LEADER = Gauge(
    "salesflow_jobs_leader",
    "1 while this replica holds the jobs lock and runs the leader-only background jobs",
    ["service"],
)

F = TypeVar("F", bound=Callable[..., Any])


def advisory_key(name: str) -> int:
    """The lock key of a name (CRC-32: fits PostgreSQL's bigint key, stable across versions)."""
    return zlib.crc32(name.encode())


class AdvisoryLock:
    """A session-level ``pg_try_advisory_lock`` held on a dedicated connection of ``db``'s pool:
    the lock lives exactly as long as that database session."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self.key = advisory_key(name)
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def try_acquire(self) -> bool:
        """Take the lock if it is free (dropping a connection held before); never waits."""
        await self.release()
        conn = await self.db.engine.connect()
        try:
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            ).scalar_one()
            await conn.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def check(self) -> None:
        """Raises when the session holding the lock is gone (and with it the lock)."""
        if self._conn is None:
            return
        await self._conn.execute(text("SELECT 1"))
        await self._conn.commit()

    async def release(self) -> None:
        """Closing the session releases the lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


def every_replica(job: F) -> F:
    """Mark a background job that must run in every replica, not only in the leader: work that
    serves this process (an in-process request batcher, metrics of this process) or a consumer
    group member that shares partitions with its twins."""
    job.__salesflow_every_replica__ = True  # type: ignore[attr-defined]
    return job


def runs_in_every_replica(job: Callable[..., Any]) -> bool:
    # bound methods forward attribute reads to their function, so a decorated method counts too
    return bool(getattr(job, "__salesflow_every_replica__", False))


class JobLeadership:
    """Starts ``jobs`` (coroutine factories) while this replica holds the jobs lock, cancels them
    if it loses it (its session broke: another replica may lead by now), and tries again."""

    def __init__(
        self,
        db: Database,
        service: str,
        jobs: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]],
        *,
        retry_s: float = RETRY_S,
        check_s: float = CHECK_S,
    ) -> None:
        self.db = db
        self.service = service
        self.jobs = jobs
        self.lock = AdvisoryLock(db, f"salesflow-jobs:{service}")
        self.retry_s = retry_s
        self.check_s = check_s
        self.leading = False
        self.terms = 0  # how often this replica became leader
        self._task: asyncio.Task[None] | None = None

    @property
    def role(self) -> str:
        return "leader" if self.leading else "standby"

    def start(self) -> None:
        JOBS_LEADER.labels(self.service).set(0)
        self._task = asyncio.create_task(self._run(), name=f"jobs-leadership-{self.service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.lock.release()

    async def _run(self) -> None:
        standby_logged = False
        while True:
            try:
                if not self.db.sqlite and not await self.lock.try_acquire():
                    if not standby_logged:
                        log.info("jobs of %s: standby (another replica leads)", self.service)
                        standby_logged = True
                    await asyncio.sleep(self.retry_s)
                    continue
                standby_logged = False
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away or the lock session broke
                log.warning("jobs of %s: leadership lost or not reachable: %r", self.service, exc)
                with contextlib.suppress(Exception):  # closing a cut connection may hang too
                    await asyncio.wait_for(self.lock.release(), CHECK_TIMEOUT_S)
                await asyncio.sleep(self.retry_s)

    async def _lead(self) -> None:
        self.leading = True
        self.terms += 1
        JOBS_LEADER.labels(self.service).set(1)
        log.info("jobs of %s: this replica leads (%d job(s))", self.service, len(self.jobs))
        tasks = [asyncio.create_task(make(), name=name) for name, make in self.jobs]
        for task in tasks:
            task.add_done_callback(_log_failure)
        try:
            while True:
                await asyncio.sleep(self.check_s)
                await asyncio.wait_for(self.lock.check(), CHECK_TIMEOUT_S)
        finally:
            self.leading = False
            JOBS_LEADER.labels(self.service).set(0)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "background job %s ended with an error", task.get_name(), exc_info=task.exception()
        )
