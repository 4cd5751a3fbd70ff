"""Fixtures: ``broker`` (session), ``database_url`` (per test), ``settings_for``, ``topic_prefix``.

Choose the broker with ``SALESFLOW_TEST_BROKER=embedded|kafka`` (or point at a running one with
``SALESFLOW_TEST_BOOTSTRAP``) and the database with ``SALESFLOW_TEST_DB=sqlite|postgresql``
(server from ``SALESFLOW_TEST_POSTGRES_URL``)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from salesflow.settings import ServiceSettings
from salesflow.testing.helpers import free_port

# loopback: no TLS (asyncpg would negotiate it by default, at a real CPU cost per statement)
DEFAULT_PG = "postgresql+asyncpg://salesflow:salesflow@127.0.0.1:5432/postgres?ssl=disable"


def test_broker_kind() -> str:
    return os.environ.get("SALESFLOW_TEST_BROKER", "embedded")


def test_db_kind() -> str:
    return os.environ.get("SALESFLOW_TEST_DB", "sqlite")


test_broker_kind.__test__ = False  # type: ignore[attr-defined]
test_db_kind.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real broker shared by the whole test session."""
    external = os.environ.get("SALESFLOW_TEST_BOOTSTRAP")
    if external:
        yield external
        return
    from salesflow import broker as brokers

    kind = test_broker_kind()
    port = free_port()
    if kind == "kafka":
        handle = brokers.start_kafka(port=port, data_dir=tmp_path_factory.mktemp("kafka"))
    else:
        handle = brokers.start_embedded(port=port)
    try:
        yield handle.bootstrap
    finally:
        handle.stop()


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    if test_db_kind() != "postgresql":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    server = os.environ.get("SALESFLOW_TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
def topic_prefix() -> str:
    """Topics of one test never meet another test's events."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def settings_for(
    broker: str, database_url: str, topic_prefix: str
) -> Callable[..., ServiceSettings]:
    """``settings_for(SettingsClass, **overrides)``: settings wired to this test's broker, database
    and topic prefix, with test-friendly Kafka timings."""

    def make(cls: type[ServiceSettings], **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "kafka_bootstrap_servers": broker,
            "topic_prefix": topic_prefix,
            "kafka_session_timeout_ms": 2000,
            "kafka_heartbeat_interval_ms": 300,
            "relay_poll_interval_s": 0.2,
            "consumer_retry_backoff_s": 0.05,
            "log_json": False,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return cls(**values)

    return make


async def migrate(migrations_dir: Path, url: str) -> None:
    from salesflow.migrations import upgrade

    await asyncio.to_thread(upgrade, migrations_dir, url)
