"""The whole platform as real processes (the way `salesflow dev` runs it) on the session's broker
and this test's databases, with its own topic prefix."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from salesflow import registry
from salesflow.stack import DevStack
from salesflow.testing.helpers import free_port_block
from salesflow.testing.plugin import DEFAULT_PG, test_db_kind

sys.path.insert(0, str(Path(__file__).parent))  # journey_kit


async def _postgres_databases(names: list[str]) -> dict[str, str]:
    server = os.environ.get("SALESFLOW_TEST_POSTGRES_URL", DEFAULT_PG)
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    urls = {}
    async with admin.connect() as conn:
        for name in names:
            db = f"sf_e2e_{name}_{uuid.uuid4().hex[:8]}"
            await conn.execute(text(f'CREATE DATABASE "{db}"'))
            urls[name] = make_url(server).set(database=db).render_as_string(hide_password=False)
    await admin.dispose()
    return urls


async def _drop(urls: dict[str, str]) -> None:
    server = os.environ.get("SALESFLOW_TEST_POSTGRES_URL", DEFAULT_PG)
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        for url in urls.values():
            await conn.execute(
                text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
            )
    await admin.dispose()


@pytest.fixture
async def stack(broker: str, tmp_path: Path, topic_prefix: str) -> AsyncIterator[DevStack]:
    urls = (
        await _postgres_databases(list(registry.SERVICES)) if test_db_kind() == "postgresql" else {}
    )
    env = {
        "SALESFLOW_TOPIC_PREFIX": topic_prefix,
        "SALESFLOW_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "SALESFLOW_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "SALESFLOW_RELAY_POLL_INTERVAL_S": "0.2",
        "SALESFLOW_LOG_JSON": "false",
    }
    env.update({f"SALESFLOW_{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
    platform = DevStack(
        tmp_path / "data", free_port_block(list(registry.PORTS.values())), extra_env=env
    )
    try:
        await asyncio.to_thread(platform.migrate)
        platform.start_services(broker)
        missing = await asyncio.to_thread(platform.wait_ready, 120)
        assert not missing, f"not ready: {missing}"
        yield platform
    finally:
        platform.stop()
        if urls:
            await _drop(urls)
