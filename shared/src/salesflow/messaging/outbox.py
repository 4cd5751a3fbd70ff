"""Outbox: events are rows written in the caller's transaction; the relay publishes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.contracts.envelope import Envelope
from salesflow.messaging import staged
from salesflow.messaging.tables import OutboxRow

_PENDING = "salesflow_outbox_pending"


def add(session: AsyncSession, event: Envelope, *, topic: str) -> None:
    """Stage ``event`` for ``topic`` in the session's transaction; it is published after commit
    (written with the transaction's other outbox rows in one INSERT, see ``staged``)."""
    values = {
        "event_id": event.id,
        "topic": topic,
        "key": event.key,
        "type": event.type,
        "headers": {k: v.decode() for k, v in event.headers()},
        "payload": event.value().decode(),
        "created_at": event.time,
    }
    staged.stage(session, OutboxRow, values)
    session.sync_session.info[_PENDING] = True


def add_row(session: AsyncSession, row: OutboxRow) -> OutboxRow:
    """Stage a prepared row (dead letters, replays) and wake the relay after commit."""
    session.add(row)
    session.sync_session.info[_PENDING] = True
    return row


@sa_event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        db = session.info.get("db")
        if db is not None:
            db.outbox_committed()


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


async def replay_since(session: AsyncSession, since: datetime) -> int:
    """Mark rows created at or after ``since`` unpublished, so that the relay sends them again."""
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.created_at >= since, OutboxRow.published_at.is_not(None))
        .values(published_at=None)
    )
    return result.rowcount or 0


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """Unpublished rows and when the oldest of them was created. Read through the unpublished
    index: the cost follows the backlog, not the published rows kept for the retention period
    (the relay asks every few seconds; a count of the whole table took it away for that long)."""
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxRow.created_at)).where(
                OutboxRow.published_at.is_(None)
            )
        )
    ).one()
    return pending, _aware(oldest)


async def status(session: AsyncSession) -> dict[str, object]:
    total = (await session.execute(select(func.count()).select_from(OutboxRow))).scalar_one()
    pending, oldest = await backlog(session)
    last = (await session.execute(select(func.max(OutboxRow.published_at)))).scalar_one()
    return {
        "rows": total,
        "unpublished": pending,
        "oldest_unpublished": oldest,
        "last_published": _aware(last),
    }


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def headers_of(row: Any) -> list[tuple[str, bytes]]:  # an OutboxRow or a row of its columns
    return [(k, str(v).encode()) for k, v in row.headers.items()]


def dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)
