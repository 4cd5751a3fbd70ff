"""The whole platform as real processes on a broker of the chaos test's OWN (the tests kill and
restart it), with this test's databases (SQLite files or PostgreSQL databases per
SALESFLOW_TEST_DB) and its own topic prefix.

SALESFLOW_CHAOS_REPLICAS=2 runs every service as two processes (same database, same consumer
group), the way a scaled-out deployment runs: Apache Kafka + PostgreSQL only.
SALESFLOW_CHAOS_KEEP_DATABASES=1 keeps the PostgreSQL databases for a post-mortem."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from salesflow import broker as brokers
from salesflow import registry
from salesflow.stack import DevStack, stack_ports
from salesflow.testing.helpers import free_port, free_port_block
from salesflow.testing.plugin import DEFAULT_PG, test_broker_kind, test_db_kind

sys.path.insert(0, str(Path(__file__).parent))  # chaos_kit

from chaos_kit import SESSION_TIMEOUT_MS, env_int


def chaos_replicas() -> int:
    """Processes per service (SALESFLOW_CHAOS_REPLICAS, default 1)."""
    return env_int("SALESFLOW_CHAOS_REPLICAS", 1)


async def _postgres_databases(names: list[str]) -> dict[str, str]:
    server = os.environ.get("SALESFLOW_TEST_POSTGRES_URL", DEFAULT_PG)
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    urls = {}
    try:
        async with admin.connect() as conn:
            for name in names:
                db = f"sf_chaos_{name}_{uuid.uuid4().hex[:8]}"
                await conn.execute(text(f'CREATE DATABASE "{db}"'))
                urls[name] = make_url(server).set(database=db).render_as_string(hide_password=False)
    finally:
        await admin.dispose()
    return urls


async def _drop(urls: dict[str, str]) -> None:
    server = os.environ.get("SALESFLOW_TEST_POSTGRES_URL", DEFAULT_PG)
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for url in urls.values():
                await conn.execute(
                    text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
                )
    finally:
        await admin.dispose()


def _start_broker(data_dir: Path) -> brokers.BrokerHandle:
    port = free_port()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if test_broker_kind() == "kafka":
        return brokers.start_kafka(
            port=port, data_dir=data_dir / "kafka", log_path=logs / "kafka.log"
        )
    return brokers.start_embedded(port=port, log_path=logs / "broker.log")


@pytest.fixture
def topic_prefix() -> str:
    return f"chaos{uuid.uuid4().hex[:8]}."


@pytest.fixture
async def chaos_stack(tmp_path: Path, topic_prefix: str) -> AsyncIterator[DevStack]:
    """Seven services as processes; ``stack.broker`` is this test's own broker (a test that
    restarts it must put the new handle back into ``stack.broker``, so that it gets stopped)."""
    if os.environ.get("SALESFLOW_TEST_BOOTSTRAP"):
        pytest.skip("chaos tests kill their broker: they need one of their own")
    replicas = chaos_replicas()
    if replicas > 1 and (test_db_kind() != "postgresql" or test_broker_kind() != "kafka"):
        pytest.skip(
            f"SALESFLOW_CHAOS_REPLICAS={replicas} runs replicas that share a database and a "
            "consumer group: PostgreSQL + Apache Kafka only (two processes on one SQLite file is "
            "not a supported deployment): SALESFLOW_TEST_DB=postgresql SALESFLOW_TEST_BROKER=kafka"
        )
    data = tmp_path / "data"
    urls = (
        await _postgres_databases(list(registry.SERVICES)) if test_db_kind() == "postgresql" else {}
    )
    env = {
        "SALESFLOW_TOPIC_PREFIX": topic_prefix,
        "SALESFLOW_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
        "SALESFLOW_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "SALESFLOW_KAFKA_REQUEST_TIMEOUT_MS": "3000",
        "SALESFLOW_RELAY_POLL_INTERVAL_S": "0.2",
        "SALESFLOW_LOG_JSON": "false",
        "SALESFLOW_LOG_LEVEL": os.environ.get("SALESFLOW_CHAOS_LOG_LEVEL", "WARNING"),
    }
    env.update({f"SALESFLOW_{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
    platform = DevStack(
        data, free_port_block(stack_ports(replicas)), extra_env=env, replicas=replicas
    )
    try:
        platform.broker = await asyncio.to_thread(_start_broker, data)
        await asyncio.to_thread(platform.migrate)
        platform.start_services(platform.broker.bootstrap)
        missing = await asyncio.to_thread(platform.wait_ready, 120 * replicas)
        assert not missing, f"not ready: {missing}"
        yield platform
    finally:
        for proc in platform.procs.values():  # a SIGSTOPped child would ignore SIGTERM
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
        await asyncio.to_thread(platform.stop)  # services, then the broker
        if urls and os.environ.get("SALESFLOW_CHAOS_KEEP_DATABASES"):
            print(f"[chaos] databases kept (drop them yourself): {sorted(urls.values())}")
        elif urls:
            await _drop(urls)
