"""Scale-out on PostgreSQL + Apache Kafka with real processes: two replicas of one service (the
probe service of shared/tests, built on the platform library like every service) share the
partitions of its topic through the consumer group; only one relay publishes at a time
(PostgreSQL advisory lock); when that replica is SIGKILLed the other takes over within seconds,
the backlog drains and per-key order holds, with no duplicate side effect.

Runs only with SALESFLOW_TEST_DB=postgresql and SALESFLOW_TEST_BROKER=kafka: the advisory lock
exists on PostgreSQL only (SQLite has one process per file), and the embedded broker is not
where scale-out runs."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.partitioner import murmur2
from deploy_support import ROOT
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from salesflow.contracts.envelope import Envelope
from salesflow.testing.helpers import bearer, eventually, free_port
from salesflow.testing.plugin import migrate
from salesflow.testing.processes import ServiceProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SALESFLOW_TEST_DB") != "postgresql"
        or os.environ.get("SALESFLOW_TEST_BROKER") != "kafka",
        reason="scale-out needs PostgreSQL (advisory lock) and Apache Kafka: "
        "SALESFLOW_TEST_DB=postgresql SALESFLOW_TEST_BROKER=kafka",
    ),
]

PROBE_DIR = ROOT / "shared/tests"
MIGRATIONS = PROBE_DIR / "probe/migrations"
TOPIC = "probe.item.v1"
PARTITIONS = 4  # the probe topic's, from shared/tests/probe/app.py
CONSUMER = "probe"
EVENT = "probe_item.created.v1"
ADMIN = bearer("root", ["admin"])
LOCK_KEY = zlib.crc32(b"salesflow-relay:probe")  # salesflow.messaging.relay.Relay._lock_key


def keys_over_all_partitions(per_partition: int = 2) -> list[str]:
    """Keys that the default partitioner spreads over every partition of the topic."""
    found: dict[int, list[str]] = defaultdict(list)
    i = 0
    while any(len(found[p]) < per_partition for p in range(PARTITIONS)):
        key = f"acct-{i}"
        partition = (murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS
        if len(found[partition]) < per_partition:
            found[partition].append(key)
        i += 1
    return [k for p in range(PARTITIONS) for k in found[p]]


class Replica(ServiceProcess):
    def wait_alive(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc and self.proc.poll() is None, self.tail()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"replica not alive: {self.tail()}")

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus sample over the series that carry ``labels``."""
        total = 0.0
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def handled(self) -> float:
        return self.metric("salesflow_events_consumed_total", consumer=CONSUMER, outcome="handled")

    def published(self) -> float:
        return self.metric("salesflow_outbox_published_total", service="probe")

    def ready(self) -> bool:
        return httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200


@pytest.fixture
async def replicas(
    broker: str, database_url: str, topic_prefix: str, tmp_path: Path
) -> Iterator[Callable[[str], Replica]]:
    await migrate(MIGRATIONS, database_url)
    env = {
        "SALESFLOW_PROBE_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SALESFLOW_PROBE_TOPIC_PREFIX": topic_prefix,
        "SALESFLOW_PROBE_KAFKA_ENABLE_IDEMPOTENCE": "true",  # as deployed (compose, k8s)
        "SALESFLOW_PROBE_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "SALESFLOW_PROBE_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "SALESFLOW_PROBE_RELAY_POLL_INTERVAL_S": "0.2",
        "SALESFLOW_PROBE_LOG_LEVEL": "WARNING",
    }
    started: list[Replica] = []

    def start(name: str) -> Replica:
        replica = Replica(
            "probe.app:create_app",
            free_port(),
            env,
            tmp_path / f"{name}.log",
            pythonpath=[PROBE_DIR],
        )
        replica.start()
        started.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in started:
            replica.stop()


async def lock_holders(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                        " WHERE l.locktype = 'advisory' AND l.granted"
                        " AND d.datname = current_database() AND l.objid = CAST(:k AS oid)"
                    ),
                    {"k": LOCK_KEY},
                )
            ).scalar_one()
    finally:
        await engine.dispose()


async def query(database_url: str, sql: str) -> list:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def group_assignment(broker: str, group: str) -> list[set[int]]:
    """Partitions of the probe topic assigned to each member of the consumer group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
        (described,) = response.groups
        members = described[5] if len(described) > 5 else []
        out = []
        for member in members:
            raw = member[-1]  # member_assignment is the last field in every version
            if not raw:
                out.append(set())
                continue
            assignment = ConsumerProtocolMemberAssignment.decode(raw)
            out.append(
                {
                    p
                    for topic, parts in assignment.assignment
                    for p in parts
                    if topic.endswith(TOPIC)
                }
            )
        return out
    finally:
        await admin.close()


async def post_items(client: httpx.AsyncClient, url: str, key: str, seqs: range) -> None:
    for seq in seqs:  # one key's items in order: the outbox (and so Kafka) keeps that order
        resp = await client.post(
            f"{url}/items", json={"name": f"{key}#{seq}", "key": key, "seq": seq}, headers=ADMIN
        )
        assert resp.status_code == 201, resp.text


async def read_all(broker: str, topic: str, expect: int, timeout: float = 30) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker,
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list = []
    try:
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while time.monotonic() < deadline and len(seen) < expect:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                for record in batch:
                    records.append(record)
                    seen.add(Envelope.from_record(record.headers, record.value).id)
    finally:
        await consumer.stop()
    return records


async def test_two_replicas_share_partitions_and_the_relay_fails_over(
    replicas: Callable[[str], Replica], broker: str, database_url: str, topic_prefix: str
) -> None:
    a = replicas("a")
    a.wait_ready()  # ready = its relay holds the publisher lock
    b = replicas("b")
    b.wait_alive()
    group = f"{topic_prefix}salesflow.{CONSUMER}"

    async def split() -> list[set[int]] | None:
        members = await group_assignment(broker, group)
        full = (
            len(members) == 2 and all(members) and set().union(*members) == set(range(PARTITIONS))
        )
        return members if full and not (members[0] & members[1]) else None

    members = await eventually(split, timeout=45, interval=0.3, message="partitions not shared")
    assert all(len(m) == PARTITIONS // 2 for m in members), members
    assert await lock_holders(database_url) == 1, "exactly one relay holds the lock"

    keys = keys_over_all_partitions()
    async with httpx.AsyncClient(timeout=10) as client:
        # phase 1: both replicas take requests; A's relay publishes B's events too
        await asyncio.gather(
            *(post_items(client, (a, b)[i % 2].url, key, range(1, 6)) for i, key in enumerate(keys))
        )
        total = 5 * len(keys)

        async def received(count: int) -> bool:
            rows = await query(database_url, "SELECT count(DISTINCT item_id) FROM probe_received")
            return rows[0][0] >= count

        await eventually(lambda: received(total), timeout=30, message="phase 1 not consumed")

        async def counted() -> bool:
            # the counters move just after the commits and acknowledgements the rows show
            return a.handled() + b.handled() == total and a.published() >= total

        await eventually(counted, timeout=10, message="replicas' counters short of the events")
        assert a.handled() > 0 and b.handled() > 0, "both replicas consume"
        assert b.published() == 0, "only A's relay publishes"

        # phase 2: A dies hard with a backlog on its way; B takes the lock and drains it
        a.kill()
        killed_at = time.monotonic()
        await asyncio.gather(*(post_items(client, b.url, key, range(6, 11)) for key in keys))
        total = 10 * len(keys)

        async def drained() -> bool:
            rows = await query(
                database_url, "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
            return rows[0][0] == 0 and b.published() > 0

        await eventually(drained, timeout=30, interval=0.1, message="B did not take over")
        takeover = time.monotonic() - killed_at
        assert takeover < 10, f"relay takeover took {takeover:.1f}s"
        assert await lock_holders(database_url) == 1
        await eventually(lambda: received(total), timeout=45, message="phase 2 not consumed")
        assert b.ready(), "B is ready once it publishes"

    # per-key order on the topic (a crash between send and mark may repeat events; the first
    # occurrence of each event is in order) ...
    records = await read_all(broker, f"{topic_prefix}{TOPIC}", expect=total)
    first: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = Envelope.from_record(record.headers, record.value)
        if event.id not in seen:
            seen.add(event.id)
            first[record.key.decode()].append(event.data["seq"])
    assert {k: v for k, v in first.items()} == {k: list(range(1, 11)) for k in keys}
    # ... and in the order the replicas handled them, each exactly once
    rows = await query(
        database_url,
        "SELECT i.key, i.seq FROM probe_received r JOIN probe_items i ON i.id = r.item_id"
        " ORDER BY r.id",
    )
    handled: dict[str, list[int]] = defaultdict(list)
    for key, seq in rows:
        handled[key].append(seq)
    assert dict(handled) == {k: list(range(1, 11)) for k in keys}
    print(f"relay takeover after SIGKILL: {takeover:.2f}s; partitions split {members}")


def lead_created(lead_id: str) -> Envelope:
    from salesflow.contracts.envelope import new_event
    from salesflow.contracts.events.common import CompanySnapshot
    from salesflow.contracts.events.leads import LeadCreated, LeadStatus

    payload = LeadCreated(
        lead_id=lead_id,
        version=1,
        status=LeadStatus.UNQUALIFIED,
        company=CompanySnapshot(company_id=f"co-{lead_id}", name="Muster GmbH", country="DE"),
        source_channel="whitepaper_download",
        score=Decimal("10"),
    )
    return new_event("lead.created.v1", lead_id, payload, source="/salesflow/leads")


async def test_two_replicas_of_a_real_service_share_its_topics(
    broker: str, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    """The same with the controlling service (it reads every catalog topic): both replicas
    get partitions of its group and handle events, each event once."""
    await migrate(ROOT / "services/controlling/migrations", database_url)
    env = {
        "SALESFLOW_CONTROLLING_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SALESFLOW_CONTROLLING_TOPIC_PREFIX": topic_prefix,
        "SALESFLOW_CONTROLLING_KAFKA_ENABLE_IDEMPOTENCE": "true",
        "SALESFLOW_CONTROLLING_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "SALESFLOW_CONTROLLING_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "SALESFLOW_CONTROLLING_LOG_LEVEL": "WARNING",
    }
    pair = [
        Replica("controlling.main:create_app", free_port(), env, tmp_path / f"c{i}.log")
        for i in range(2)
    ]
    try:
        pair[0].start()
        pair[0].wait_ready()
        pair[1].start()
        pair[1].wait_alive()
        group = f"{topic_prefix}salesflow.controlling"

        async def both_assigned() -> bool:
            admin = AIOKafkaAdminClient(bootstrap_servers=broker)
            await admin.start()
            try:
                (response,) = await admin.describe_consumer_groups([group])
                members = response.groups[0][5]
                return len(members) == 2 and all(  # empty while the group rebalances
                    m[-1] and ConsumerProtocolMemberAssignment.decode(m[-1]).assignment
                    for m in members
                )
            finally:
                await admin.close()

        await eventually(both_assigned, timeout=45, interval=0.3, message="group not shared")
        # one replica publishes, the other stands by; controlling's background jobs (its record
        # index and gauges) serve each replica, so neither leads any (leader-only jobs:
        # test_deploy_leader_jobs.py)
        async with httpx.AsyncClient(timeout=5) as client:
            roles = [(await client.get(f"{r.url}/readyz")).json()["roles"] for r in pair]
        assert sorted(r["relay"] for r in roles) == ["publisher", "standby"], roles
        assert [r["jobs"] for r in roles] == ["none", "none"], roles
        leads = [f"lead-{uuid.uuid4().hex[:8]}" for _ in range(24)]
        producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
        await producer.start()
        try:
            for lead_id in leads:
                event = lead_created(lead_id)
                await producer.send_and_wait(
                    f"{topic_prefix}leads.lead.v1",
                    event.value(),
                    key=lead_id.encode(),
                    headers=event.headers(),
                )
        finally:
            await producer.stop()

        async def stored() -> bool:
            rows = await query(database_url, "SELECT count(*) FROM journey_events")
            return rows[0][0] >= len(leads)

        await eventually(stored, timeout=30, message="events not handled")

        async def handled() -> list[float]:
            # each counter moves just after its replica's commit
            counts = [
                r.metric(
                    "salesflow_events_consumed_total", consumer="controlling", outcome="handled"
                )
                for r in pair
            ]
            return counts if sum(counts) == len(leads) else []

        counts = await eventually(handled, timeout=10, message="handled counters short")
        assert all(c > 0 for c in counts), counts
        rows = await query(database_url, "SELECT count(*) FROM journey_events")
        assert rows[0][0] == len(leads)
    finally:
        for replica in pair:
            replica.stop()


async def test_a_standby_replica_is_ready(replicas: Callable[[str], Replica]) -> None:
    a = replicas("a")
    a.wait_ready()
    b = replicas("b")
    b.wait_ready(timeout=20)
