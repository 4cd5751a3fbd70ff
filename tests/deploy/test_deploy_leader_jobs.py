"""Leader-only background jobs: of the replicas of a service, only the one holding the PostgreSQL
advisory lock ``salesflow-jobs:<service>`` runs the jobs of ``ServiceSpec.background``; a
standby takes over within seconds when the leader dies (SIGKILL) or its lock session breaks.
Jobs marked ``every_replica`` run everywhere. On SQLite the one process always leads.

The probe service with two ticking jobs (tests/deploy/jobs_probe.py) shows who runs what: each
tick is a row named after the replica."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from deploy_support import ROOT
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from salesflow.db import Database
from salesflow.leadership import JobLeadership, advisory_key
from salesflow.testing.helpers import eventually, free_port, running
from salesflow.testing.plugin import migrate, test_db_kind
from salesflow.testing.processes import ServiceProcess

PROBE_DIR = ROOT / "shared/tests"
sys.path.insert(0, str(PROBE_DIR))  # the probe package, as shared/tests/conftest.py does

from jobs_probe import JobsProbeSettings, create_app  # noqa: E402

MIGRATIONS = PROBE_DIR / "probe/migrations"
JOBS_KEY = advisory_key("salesflow-jobs:probe")
RELAY_KEY = advisory_key("salesflow-relay:probe")

needs_postgres = pytest.mark.skipif(
    test_db_kind() != "postgresql",
    reason="replicas share one database only on PostgreSQL (advisory lock); SQLite has one "
    "process per file and always leads: SALESFLOW_TEST_DB=postgresql",
)


async def query(url: str, sql: str, **params: object) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def ticks(url: str, key: str, after_id: int = 0) -> dict[str, int]:
    """Rows per replica written by the ``key`` job ("leader" or "replica") after ``after_id``."""
    rows = await query(
        url,
        "SELECT name, count(*) FROM probe_items WHERE key = :key AND id > :after GROUP BY name",
        key=key,
        after=after_id,
    )
    return {name: n for name, n in rows}


async def last_id(url: str) -> int:
    return (await query(url, "SELECT coalesce(max(id), 0) FROM probe_items"))[0][0]


async def lock_pids(url: str, key: int) -> list[int]:
    """Backends of this database holding the advisory lock ``key``."""
    rows = await query(
        url,
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
        " AND l.objid = CAST(:k AS oid)",
        k=key,
    )
    return [r[0] for r in rows]


async def test_a_lone_replica_leads_its_jobs(settings_for: Callable, database_url: str) -> None:
    """SQLite (one process per file) and a single PostgreSQL replica: jobs start at once."""
    await migrate(MIGRATIONS, database_url)
    app = create_app(settings_for(JobsProbeSettings, replica="solo"))
    async with running(app) as client:
        body = (await client.get("/readyz")).json()
        assert body["roles"]["jobs"] == "leader", body
        assert body["checks"] == {"database": "ok", "broker": "ok"}

        async def both_ticked() -> bool:
            return (await ticks(database_url, "leader")).get("solo", 0) >= 2 and (
                await ticks(database_url, "replica")
            ).get("solo", 0) >= 2

        await eventually(both_ticked, timeout=10, message="jobs did not run")
        metrics = (await client.get("/metrics")).text
        assert 'salesflow_jobs_leader{service="probe"} 1.0' in metrics
    assert app.state.ctx.jobs is not None and not app.state.ctx.jobs.leading


# ----------------------------------------------------------------- two processes (PostgreSQL)


class Replica(ServiceProcess):
    def roles(self) -> dict[str, str]:
        return httpx.get(f"{self.url}/readyz", timeout=3).json()["roles"]

    def role(self) -> str | None:
        try:
            return self.roles()["jobs"]
        except (httpx.HTTPError, ValueError, KeyError):
            return None


@pytest.fixture
async def start_replica(
    broker: str, database_url: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[Callable[[str], Replica]]:
    await migrate(MIGRATIONS, database_url)
    env = {
        "SALESFLOW_PROBE_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SALESFLOW_PROBE_TOPIC_PREFIX": topic_prefix,
        "SALESFLOW_PROBE_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "SALESFLOW_PROBE_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "SALESFLOW_PROBE_LOG_LEVEL": "WARNING",
    }
    started: list[Replica] = []

    def start(name: str) -> Replica:
        replica = Replica(
            "jobs_probe:create_app",
            free_port(),
            {**env, "SALESFLOW_PROBE_REPLICA": name},
            tmp_path / f"{name}.log",
            pythonpath=[PROBE_DIR, Path(__file__).parent],
        )
        replica.start()
        started.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in started:
            replica.stop()


@pytest.mark.slow
@needs_postgres
async def test_jobs_run_in_one_replica_and_a_standby_takes_over_after_sigkill(
    start_replica: Callable[[str], Replica], database_url: str
) -> None:
    a = start_replica("a")
    await asyncio.to_thread(a.wait_ready)
    b = start_replica("b")
    await asyncio.to_thread(b.wait_ready)  # a standby is ready: it serves and consumes
    assert (a.role(), b.role()) == ("leader", "standby")
    assert len(await lock_pids(database_url, JOBS_KEY)) == 1

    # both serve; only A runs the leader-only job, both run the every-replica job
    since = await last_id(database_url)

    async def both_replicas_ticked() -> bool:
        return set(await ticks(database_url, "replica", since)) == {"a", "b"}

    await eventually(both_replicas_ticked, timeout=10, message="every-replica job not in both")
    await asyncio.sleep(1.0)
    leader_ticks = await ticks(database_url, "leader", since)
    assert set(leader_ticks) == {"a"} and leader_ticks["a"] >= 3, leader_ticks

    # A dies hard: B leads within seconds and runs the jobs
    killed_id = await last_id(database_url)
    a.kill()
    killed_at = time.monotonic()

    async def b_leads() -> bool:
        return b.role() == "leader" and "b" in await ticks(database_url, "leader", killed_id)

    await eventually(b_leads, timeout=10, interval=0.1, message="B did not take the jobs over")
    takeover = time.monotonic() - killed_at
    assert takeover < 5, f"jobs takeover took {takeover:.1f}s"

    # A comes back as the standby: the jobs stay with B, one holder of the lock
    a.start()
    await asyncio.to_thread(a.wait_ready)
    back_id = await last_id(database_url)
    await asyncio.sleep(1.5)
    assert (a.role(), b.role()) == ("standby", "leader")
    assert set(await ticks(database_url, "leader", back_id)) == {"b"}
    assert "a" in await ticks(database_url, "replica", back_id)
    assert len(await lock_pids(database_url, JOBS_KEY)) == 1
    # the relay's lock is another one: each has exactly one holder
    assert len(await lock_pids(database_url, RELAY_KEY)) == 1
    print(f"jobs takeover after SIGKILL: {takeover:.2f}s")


@needs_postgres
async def test_a_leader_whose_lock_session_breaks_stops_its_jobs(database_url: str) -> None:
    """The lock lives as long as its database session: when that session is killed (database
    restart, network cut) the leader cancels its jobs and the standby takes over."""
    running_in: list[str] = []
    cancelled: list[str] = []

    def job(name: str) -> Callable[[], object]:
        async def work() -> None:
            running_in.append(name)
            try:
                await asyncio.Event().wait()
            finally:
                cancelled.append(name)

        return work

    dbs = [Database(database_url) for _ in range(2)]
    twins = [
        JobLeadership(db, "probe", [("work", job(name))], retry_s=0.2, check_s=0.2)
        for db, name in zip(dbs, ("x", "y"), strict=True)
    ]
    try:
        twins[0].start()
        await eventually(lambda: _true(twins[0].leading), timeout=5, message="x does not lead")
        twins[1].start()
        await asyncio.sleep(0.6)
        assert not twins[1].leading and running_in == ["x"]

        (pid,) = await lock_pids(database_url, JOBS_KEY)
        await query(database_url, "SELECT pg_terminate_backend(:pid)", pid=pid)

        await eventually(
            lambda: _true(twins[1].leading and "y" in running_in),
            timeout=5,
            message="y did not take over",
        )
        await eventually(lambda: _true("x" in cancelled), timeout=5, message="x kept its job")
        await asyncio.sleep(0.6)  # x tries again but y holds the lock now
        assert not twins[0].leading and running_in == ["x", "y"]
        assert twins[0].terms == 1 and twins[1].terms == 1
    finally:
        for twin in twins:
            await twin.stop()
        for db in dbs:
            with contextlib.suppress(Exception):
                await db.dispose()


async def _true(value: object) -> bool:
    return bool(value)
