"""Test helpers that speak to the broker the way an upstream or downstream service would."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlmodel import select

from salesflow.contracts.envelope import Envelope
from salesflow.db import Database
from salesflow.messaging.tables import OutboxRow


async def publish(bootstrap: str, topic: str, *events: Envelope) -> None:
    """Publish events as their producing service would (key = subject, CloudEvents headers)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic, event.value(), key=event.key.encode(), headers=event.headers()
            )
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 30
) -> list[ConsumerRecord]:
    """Everything on ``topic``: at least ``expect`` records, or whatever came within ``timeout``.
    With ``expect=0`` it also waits a second for anything trickling in."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and len(records) < expect:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        if expect == 0:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


def envelopes(records: list[ConsumerRecord]) -> list[Envelope]:
    return [Envelope.from_record(r.headers, r.value) for r in records]


async def outbox_rows(db: Database, type_: str | None = None) -> list[OutboxRow]:
    """Events a service staged, in insertion order (optionally of one type)."""
    stmt = select(OutboxRow).order_by(OutboxRow.id)
    if type_:
        stmt = stmt.where(OutboxRow.type == type_)
    async with db.session() as session:
        return list((await session.exec(stmt)).all())
