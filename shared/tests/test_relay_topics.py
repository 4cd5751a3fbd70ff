"""The relay and a broker that no longer has a topic it publishes to (the embedded broker after a
restart acknowledges records of such topics and drops them): the batch goes out again once the
topic is there, and only then is it marked published."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka.admin import AIOKafkaAdminClient
from probe.app import MIGRATIONS, TOPIC, ItemCreated, ProbeSettings

from salesflow.db import Database
from salesflow.messaging import outbox
from salesflow.messaging.handlers import emit
from salesflow.messaging.kafka import ensure_topics
from salesflow.messaging.relay import Relay
from salesflow.testing.helpers import eventually
from salesflow.testing.kafka import envelopes, read_topic
from salesflow.testing.plugin import migrate, test_broker_kind


async def test_a_batch_sent_to_a_lost_topic_goes_out_again_once_the_topic_exists(
    settings_for: Callable, database_url: str
) -> None:
    await migrate(MIGRATIONS, database_url)
    settings: ProbeSettings = settings_for(ProbeSettings, kafka_request_timeout_ms=3000)
    topic = settings.topic(TOPIC.name)
    created: list[str] = []

    async def create_topics() -> None:  # what the service does on (re)connecting
        created.append(topic)
        await ensure_topics(settings, {topic: TOPIC.partitions})

    db = Database(database_url)
    relay = Relay(db, settings, on_connect=create_topics)

    async def stage(item_id: int) -> None:
        async with db.session() as session, session.begin():
            data = ItemCreated(item_id=item_id, name=f"i{item_id}")
            emit(session, settings, "probe_item.created.v1", f"k{item_id}", data)

    async def all_published() -> bool:
        async with db.session() as session:
            return (await outbox.status(session))["unpublished"] == 0

    relay.start()
    try:
        await stage(1)
        await eventually(all_published, message="first event not published")
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()
        created.clear()
        await asyncio.sleep(1.1)  # the relay looks its topics up at most once a second
        await stage(2)
        await eventually(all_published, timeout=30, message="second event not published")
        if test_broker_kind() == "embedded":  # Apache Kafka here auto-creates it on produce
            assert created, "the relay did not create the lost topic"
    finally:
        await relay.stop()
        await db.dispose()
    records = await read_topic(settings.kafka_bootstrap_servers, topic, expect=1)
    items = [e.data["item_id"] for e in envelopes(records)]
    assert 2 in items, items  # on the topic as it exists now, not dropped with the old one
