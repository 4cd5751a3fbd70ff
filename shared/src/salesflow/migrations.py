"""Alembic support shared by the services: the async env, the platform tables' first migration,
and programmatic ``upgrade`` (used by ``salesflow migrate`` and the test fixtures)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

URL_ENV = "SALESFLOW_MIGRATE_URL"


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _big_id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def create_platform_tables() -> None:
    """Outbox, inbox, dead letters, idempotency keys: frozen here as of revision 0001."""
    op.create_table(
        "outbox",
        _big_id(),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _utc("created_at"),
        _utc("published_at", nullable=True),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "id"])
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        _utc("processed_at"),
    )
    op.create_table(
        "dead_letters",
        _big_id(),
        sa.Column("consumer", sa.String(100), nullable=False, index=True),
        sa.Column("event_id", sa.String(64), nullable=False, index=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _utc("failed_at"),
        _utc("replayed_at", nullable=True),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("route", sa.String(300), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        _utc("created_at"),
        _utc("completed_at", nullable=True),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def drop_platform_tables() -> None:
    for table in ("idempotency_keys", "dead_letters", "inbox", "outbox"):
        op.drop_table(table)


def _sync_sqlite_url(url: str) -> str | None:
    """The same SQLite database through the stdlib driver; None for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return parsed.set(drivername="sqlite").render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def run_env(target_metadata: sa.MetaData | None = None) -> None:
    """Body of every service's ``migrations/env.py``."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(URL_ENV)
    if not url:
        raise RuntimeError(f"no database URL: set {URL_ENV} or use `salesflow migrate`")

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    sync_url = _sync_sqlite_url(url)
    if sync_url is not None:
        # SQLite through the stdlib driver (no aiosqlite thread hop per statement), in WAL with
        # synchronous=NORMAL as the services run it: the driver autocommits every DDL statement,
        # and in the default rollback journal each of those commits was an fsync (~15 ms each,
        # 50–60 per service on a fresh database: most of `salesflow dev`'s migration time)
        engine = sa.create_engine(sync_url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        try:
            with engine.connect() as connection:
                do_run(connection)
                connection.commit()
        finally:
            engine.dispose()
        return

    async def run_async() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run_async())


def migrations_dir_of(package: str) -> Path | None:
    """``<project>/migrations`` of a service package laid out as ``<project>/src/<package>/``,
    found without importing the package (importing a service's app costs ~0.3 s of CPU, which
    ``salesflow dev`` would spend seven times before the first service can start). None when
    the layout differs: ask the service's spec then."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return None
    candidate = Path(spec.origin).resolve().parents[2] / "migrations"
    return candidate if (candidate / "env.py").is_file() else None


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Blocking; call from a thread when an event loop is running."""
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)
