"""Async engines for SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL; one session per unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, TypeDecorator, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as SqlAlchemyAsyncSession
from sqlalchemy.orm import Session as SqlAlchemySession
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.orm.session import Session as SqlModelSession

from salesflow import sqlite_inline
from salesflow.sqlite_checkpoint import WalCheckpointer


class _Session(SqlModelSession):
    # SQLModel marks execute() deprecated (in favour of exec()) and so warns on every call;
    # Core statements use it on purpose, and the warning machinery costs on every statement.
    execute = SqlAlchemySession.execute


class UnitOfWork(AsyncSession):
    """The services' session: SQLModel's, with SQLAlchemy's execute() (no warning per call)."""

    sync_session_class = _Session
    execute = SqlAlchemyAsyncSession.execute


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL; None for other databases and in-memory ones."""
    if not is_sqlite(url):
        return None
    path = make_url(url).database
    return path if path and path != ":memory:" else None


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        db_path = sqlite_file(url)
        if db_path:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=echo,
            async_creator=sqlite_inline.connector(db_path or ":memory:"),
            pool_size=8,
            max_overflow=8,
        )
        _sqlite_recipe(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_recycle=1800
    )


def _sqlite_recipe(engine: AsyncEngine) -> None:
    """SQLAlchemy's pysqlite recipe: we emit BEGIN ourselves, as IMMEDIATE, so that concurrent
    writers queue (see sqlite_inline) instead of failing with "database is locked" on upgrade."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=0")  # waits happen in sqlite_inline, off the loop
        cur.execute("PRAGMA foreign_keys=ON")
        # checkpoints run on a thread of their own (salesflow.sqlite_checkpoint), not in COMMIT
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class _SessionScope:
    """``async with db.session() as session``. On SQLite, units of work of one process take
    turns on an asyncio lock: SQLite has one writer, and waiting on its busy handler (which
    sleeps in steps of up to 100 ms) costs far more than queueing here. Re-entrant per task, so a
    nested scope in the same task does not deadlock on the lock."""

    __slots__ = ("db", "locked", "session")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.locked = False
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> AsyncSession:
        if self.db.sqlite:
            task = asyncio.current_task()
            if self.db._lock_owner is not task:
                await self.db._lock.acquire()
                self.db._lock_owner = task
                self.locked = True
        self.session = self.db.sessionmaker()
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.session is not None:
                await self.session.close()
        finally:
            if self.locked:
                self.db._lock_owner = None
                self.db._lock.release()


class Database:
    """Engine + session factory. ``after_commit`` callbacks wake the outbox relay."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sqlite = is_sqlite(url)
        self._commit_hooks: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()
        self._lock_owner: asyncio.Task[object] | None = None
        self.sessionmaker = async_sessionmaker(
            self.engine, class_=UnitOfWork, expire_on_commit=False, info={"db": self}
        )
        path = sqlite_file(url)
        self.checkpointer = WalCheckpointer(path) if path else None
        if self.checkpointer is not None:
            self.checkpointer.start()

    def session(self) -> _SessionScope:
        return _SessionScope(self)

    def on_outbox_commit(self, hook: Callable[[], None]) -> None:
        self._commit_hooks.append(hook)

    def outbox_committed(self) -> None:
        for hook in self._commit_hooks:
            hook()

    async def ping(self) -> None:
        async with self.session() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
        await self.engine.dispose()
