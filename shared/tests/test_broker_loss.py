"""The broker goes away and comes back: relays and consumers reconnect by themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from probe.app import MIGRATIONS, TOPIC, ProbeSettings, create_app

from salesflow import broker as brokers
from salesflow.messaging import outbox
from salesflow.messaging.kafka import ensure_topics
from salesflow.testing.helpers import bearer, eventually, free_port, running
from salesflow.testing.plugin import migrate, test_broker_kind

pytestmark = pytest.mark.slow
ADMIN = bearer("root", ["admin"])


@pytest.fixture
def own_broker(tmp_path) -> Iterator[brokers.BrokerHandle]:
    """A broker of this test's own, so that stopping it disturbs no other test."""
    port = free_port()
    if test_broker_kind() == "kafka":
        handle = brokers.start_kafka(port=port, data_dir=tmp_path / "kafka")
    else:
        handle = brokers.start_embedded(port=port)
    holder = {"handle": handle}
    yield holder  # type: ignore[misc]
    holder["handle"].stop()


async def test_broker_restart_backlog_drains(
    own_broker: dict, settings_for: Callable, database_url: str
) -> None:
    handle: brokers.BrokerHandle = own_broker["handle"]
    await migrate(MIGRATIONS, database_url)
    settings = settings_for(
        ProbeSettings, kafka_bootstrap_servers=handle.bootstrap, kafka_request_timeout_ms=3000
    )
    started = datetime.now(UTC)
    app = create_app(settings)
    async with running(app) as client:

        async def received(n: int) -> Callable:
            async def probe() -> bool:
                body = (await client.get("/received", headers=ADMIN)).json()
                return len(body["item_ids"]) == n and len(set(body["item_ids"])) == n

            return probe

        for i in range(5):
            assert (
                await client.post("/items", json={"name": f"a{i}"}, headers=ADMIN)
            ).status_code == 201
        await eventually(await received(5), message="first batch not consumed")

        handle.stop()
        # the service keeps taking requests; events wait in the outbox
        for i in range(5):
            assert (
                await client.post("/items", json={"name": f"b{i}"}, headers=ADMIN)
            ).status_code == 201

        handle = own_broker["handle"] = handle.restart()
        if handle.kind == "embedded":
            # a memory-only broker lost its log: publish everything again since the start
            async with app.state.db.session() as session, session.begin():
                assert await outbox.replay_since(session, started) >= 5
        await eventually(await received(10), timeout=60, message="backlog not drained")

        ctx = app.state.ctx
        assert not ctx.relay._task.done(), "relay task died"
        assert all(not c._task.done() for c in ctx.consumers), "a consumer task died"

        async def drained() -> bool:
            # consumers may see a batch before the relay records it as sent: a send whose
            # acknowledgement timed out is sent again after the backoff (the inbox absorbs it)
            async with app.state.db.session() as session:
                return (await outbox.status(session))["unpublished"] == 0

        await eventually(drained, timeout=30, message="outbox still holds unpublished rows")
        if handle.kind == "embedded":
            consumer = ctx.consumers[0]
            await eventually(
                lambda: _true(consumer.counts["duplicate"] >= 5),
                message="replayed duplicates not absorbed",
            )
        body = (await client.get("/received", headers=ADMIN)).json()
        assert sorted(body["item_ids"]) == list(range(1, 11))


async def test_a_commit_from_before_the_restart_does_not_hide_new_records(
    own_broker: dict, settings_for: Callable, database_url: str
) -> None:
    """The embedded broker accepts offset commits that name a generation from before its
    restart: a batch in flight when it lost its log commits offsets of the old log into the new
    one. Consumers must not skip the new log's records because of that."""
    handle: brokers.BrokerHandle = own_broker["handle"]
    if handle.kind != "embedded":
        pytest.skip("Apache Kafka keeps its log and refuses commits of an old generation")
    await migrate(MIGRATIONS, database_url)
    settings = settings_for(
        ProbeSettings, kafka_bootstrap_servers=handle.bootstrap, kafka_request_timeout_ms=3000
    )
    first = create_app(settings)
    async with running(first) as client:
        for i in range(4):
            await client.post("/items", json={"name": f"a{i}"}, headers=ADMIN)
        await eventually(lambda: _received(client, 4), message="first items not consumed")

    handle = own_broker["handle"] = handle.restart()
    topic = settings.topic(TOPIC.name)
    await ensure_topics(settings, {topic: TOPIC.partitions})
    stale = AIOKafkaConsumer(
        bootstrap_servers=handle.bootstrap,
        group_id=settings.topic("salesflow.probe"),
        enable_auto_commit=False,
    )
    partitions = [TopicPartition(topic, p) for p in range(TOPIC.partitions)]
    await stale.start()
    try:
        stale.assign(partitions)
        await stale.commit({tp: OffsetAndMetadata(50, "") for tp in partitions})
    finally:
        await stale.stop()

    second = create_app(settings)
    async with running(second) as client:
        for i in range(4):
            await client.post("/items", json={"name": f"b{i}"}, headers=ADMIN)
        await eventually(
            lambda: _received(client, 8), timeout=30, message="new log's records skipped"
        )


async def _received(client, n: int) -> bool:  # type: ignore[no-untyped-def]
    body = (await client.get("/received", headers=ADMIN)).json()
    return len(set(body["item_ids"])) == n


async def _true(value: bool) -> bool:
    return value
