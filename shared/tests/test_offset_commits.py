"""Offsets are committed beside the poll loop (salesflow.messaging.offsets): after the DB
commit, promptly while the consumer runs, and all of them when it stops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from probe.app import MIGRATIONS, TOPIC, ProbeSettings, create_app

from salesflow.contracts.envelope import new_event
from salesflow.testing.helpers import bearer, eventually, running
from salesflow.testing.plugin import migrate

ADMIN = bearer("root", ["admin"])
EVENTS = 24


@pytest.fixture
async def probe_settings(settings_for: Callable, database_url: str) -> ProbeSettings:
    await migrate(MIGRATIONS, database_url)
    return settings_for(ProbeSettings)


async def committed_total(settings: ProbeSettings, group: str) -> int:
    topic = settings.topic(TOPIC.name)
    tps = [TopicPartition(topic, p) for p in range(TOPIC.partitions)]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=tps)
    finally:
        await admin.close()
    return sum(max(meta.offset, 0) for meta in offsets.values())


async def send_item(
    producer: AIOKafkaProducer, settings: ProbeSettings, item_id: int, key: str
) -> None:
    data = {"item_id": item_id, "name": f"n{item_id}"}
    event = new_event("probe_item.created.v1", key, data, source="/t")
    await producer.send_and_wait(
        settings.topic(TOPIC.name), event.value(), key=key.encode(), headers=event.headers()
    )


async def test_offsets_are_committed_while_running_and_all_of_them_on_stop(
    probe_settings: ProbeSettings, broker: str
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await producer.start()
    try:
        for i in range(EVENTS):
            await send_item(producer, probe_settings, i, f"k{i}")
    finally:
        await producer.stop()

    app = create_app(probe_settings)
    async with running(app) as client:
        consumer = app.state.ctx.consumers[0]
        group = consumer.group_id

        async def all_received() -> bool:
            body = (await client.get("/received", headers=ADMIN)).json()
            return sorted(body["item_ids"]) == list(range(EVENTS))

        await eventually(all_received, message="events not consumed")

        async def all_committed() -> bool:
            return await committed_total(probe_settings, group) == EVENTS

        # the poll loop does not wait for commits, and they still follow promptly
        await eventually(all_committed, timeout=10, message="offsets not committed meanwhile")

        # the last events before a stop: committed by the stop itself
        producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
        await producer.start()
        try:
            await send_item(producer, probe_settings, EVENTS, "last")
        finally:
            await producer.stop()

        async def last_handled() -> bool:
            return consumer.counts["handled"] == EVENTS + 1

        await eventually(last_handled, message="last event not consumed")
    # the app has stopped: the last offset was committed by then
    assert await committed_total(probe_settings, group) == EVENTS + 1


async def test_offsets_of_a_trickle_of_events_are_committed_together(
    settings_for: Callable, database_url: str, broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One event every 20 ms, offsets committed at most every 0.5 s: a handful of commits cover
    all of them instead of one commit per event, and the last offset is committed all the same."""
    await migrate(MIGRATIONS, database_url)
    settings = settings_for(ProbeSettings, consumer_commit_interval_s=0.5)
    commits: list[dict] = []
    real_commit = AIOKafkaConsumer.commit

    async def counted_commit(self: AIOKafkaConsumer, offsets: dict | None = None) -> None:
        await real_commit(self, offsets)
        commits.append(dict(offsets or {}))

    monkeypatch.setattr(AIOKafkaConsumer, "commit", counted_commit)
    trickle = 40
    app = create_app(settings)
    async with running(app) as client:
        consumer = app.state.ctx.consumers[0]

        async def first_handled() -> bool:
            return consumer.counts["handled"] == 1

        producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
        await producer.start()
        try:
            for i in range(trickle):
                if i == 1:  # the group has formed and the first event is handled: trickle
                    await eventually(first_handled, message="first event not consumed")
                    commits.clear()
                await send_item(producer, settings, i, f"k{i}")
                await asyncio.sleep(0.02)
        finally:
            await producer.stop()

        async def all_received() -> bool:
            body = (await client.get("/received", headers=ADMIN)).json()
            return len(body["item_ids"]) == trickle

        await eventually(all_received, message="events not consumed")

        async def all_committed() -> bool:
            return await committed_total(settings, consumer.group_id) == trickle

        await eventually(all_committed, timeout=10, message="offsets not committed")
    assert consumer.counts["handled"] == trickle
    # ~1 s of trickle at one commit per 0.5 s, plus the one of the stop
    assert 1 <= len(commits) <= 6, len(commits)
