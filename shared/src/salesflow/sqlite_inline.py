"""An aiosqlite connection whose calls run on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, commit …) to a worker thread and back: two
thread switches and a wake-up of the event loop per call, which under load cost far more than the
SQLite work itself (a WAL commit takes tens of microseconds). Units of work of a process already
take turns on one lock (see ``salesflow.db``), so the thread buys no concurrency; running the calls
inline keeps SQLAlchemy's asyncio API while removing the hops.

Waiting for another *process* that holds the write lock must not block the event loop (Kafka
heartbeats, health checks): the connection's busy timeout is zero, and a busy answer is retried
here with ``asyncio.sleep`` until ``busy_timeout_s``. SQLite reports busy before a statement has
taken effect, so the retry is safe. aiosqlite's worker thread still runs for the few callers that
use its queue directly (SQLAlchemy's isolation-level setter)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiosqlite

_BUSY = (sqlite3.SQLITE_BUSY, getattr(sqlite3, "SQLITE_BUSY_SNAPSHOT", -1))


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY or code in _BUSY
    return "database is locked" in str(exc)


class InlineConnection(aiosqlite.Connection):
    busy_timeout_s: float = 30.0

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = 0.0
        delay = 0.001
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                now = time.monotonic()
                if not deadline:
                    deadline = now + self.busy_timeout_s
                elif now >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)


def connector(path: str, *, busy_timeout_s: float = 30.0) -> Callable[[], Awaitable[Any]]:
    """``async_creator`` for ``create_async_engine``: a connected :class:`InlineConnection`."""

    async def connect() -> InlineConnection:
        # timeout=0: SQLite's own busy handler would sleep inside the call, on the loop's thread
        conn = InlineConnection(
            partial(sqlite3.connect, path, timeout=0, check_same_thread=False), 64
        )
        conn.busy_timeout_s = busy_timeout_s
        conn._thread.daemon = True
        return await conn

    return connect
