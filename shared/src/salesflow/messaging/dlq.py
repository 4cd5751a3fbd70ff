"""Dead letters: poison events parked with their error, listed and replayed on demand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.contracts.catalog import dlq_topic
from salesflow.messaging import inbox, outbox
from salesflow.messaging.tables import DeadLetterRow, InboxRow, OutboxRow


def _decode(raw: bytes | None) -> str:
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def record_id(record: ConsumerRecord) -> str:
    """The event id, or a stable stand-in for records that carry none."""
    for key, value in record.headers or ():
        if key == "ce_id" and value:
            return _decode(value)
    return f"{record.topic}:{record.partition}:{record.offset}"


def park(
    session: AsyncSession,
    *,
    consumer: str,
    service: str,
    record: ConsumerRecord,
    logical_topic: str,
    event_type: str,
    error: str,
    attempts: int,
) -> None:
    """In one transaction: mark the event as done for this consumer, keep it, and stage it for
    the consumer's dead-letter topic (through the outbox, so that it cannot be lost)."""
    now = datetime.now(UTC)
    event_id = record_id(record)
    headers = {k: _decode(v) for k, v in record.headers or ()}
    key = _decode(record.key) if record.key is not None else None
    session.add(
        DeadLetterRow(
            consumer=consumer,
            event_id=event_id,
            event_type=event_type,
            topic=logical_topic,
            partition=record.partition,
            offset=record.offset,
            key=key,
            headers=headers,
            value=_decode(record.value),
            error=error[:4000],
            attempts=attempts,
            failed_at=now,
        )
    )
    inbox.record(session, consumer, event_id, event_type or "unknown")
    dlq_headers = dict(headers)
    dlq_headers.update(
        {
            "dlq_consumer": consumer,
            "dlq_error": error[:1000],
            "dlq_original_topic": logical_topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_attempts": str(attempts),
            "dlq_failed_at": now.isoformat(),
        }
    )
    outbox.add_row(
        session,
        OutboxRow(
            event_id=f"dlq:{uuid.uuid4()}",
            topic=dlq_topic(service),
            key=key or event_id,
            type=event_type or "unknown",
            headers=dlq_headers,
            payload=_decode(record.value),
            created_at=now,
        ),
    )


async def list_dead(
    session: AsyncSession, *, include_replayed: bool = False
) -> list[DeadLetterRow]:
    stmt = select(DeadLetterRow).order_by(DeadLetterRow.id)
    if not include_replayed:
        stmt = stmt.where(DeadLetterRow.replayed_at.is_(None))
    return list((await session.exec(stmt)).all())


class NotReplayable(ValueError):
    pass


async def replay(session: AsyncSession, dead: DeadLetterRow) -> None:
    """Re-deliver a parked event: forget it in this consumer's inbox and publish it again on its
    original topic (other consumers already have it in their inbox and skip it)."""
    if dead.replayed_at is not None:
        raise NotReplayable(f"dead letter {dead.id} was replayed already")
    if "ce_id" not in dead.headers:
        raise NotReplayable(f"dead letter {dead.id} is not a CloudEvent; fix it at its source")
    await session.execute(
        delete(InboxRow).where(
            InboxRow.consumer == dead.consumer, InboxRow.event_id == dead.event_id
        )
    )
    dead.replayed_at = datetime.now(UTC)
    session.add(dead)
    outbox.add_row(
        session,
        OutboxRow(
            event_id=f"replay:{uuid.uuid4()}",
            topic=dead.topic,
            key=dead.key or dead.event_id,
            type=dead.event_type,
            headers=dict(dead.headers),
            payload=dead.value,
            created_at=datetime.now(UTC),
        ),
    )
