"""Inbox: which events a consumer has already processed (or dead-lettered)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.messaging import staged
from salesflow.messaging.tables import InboxRow


async def seen(session: AsyncSession, consumer: str, event_ids: Iterable[str]) -> set[str]:
    ids = list(set(event_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):  # stay below bound-parameter limits
        chunk = ids[start : start + 500]
        rows = await session.exec(
            select(InboxRow.event_id).where(
                InboxRow.consumer == consumer, InboxRow.event_id.in_(chunk)
            )
        )
        found.update(rows.all())
    return found


def record(session: AsyncSession, consumer: str, event_id: str, event_type: str) -> None:
    staged.stage(
        session,
        InboxRow,
        {
            "consumer": consumer,
            "event_id": event_id,
            "event_type": event_type,
            "processed_at": datetime.now(UTC),
        },
    )
