"""Inbox: which events a consumer has already processed (or dead-lettered)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.messaging import staged
from salesflow.messaging.tables import InboxRow

_INBOX = InboxRow.__table__
# built once (every poll asks): the id list is an expanding parameter
_SEEN = select(_INBOX.c.event_id).where(
    _INBOX.c.consumer == bindparam("consumer"),
    _INBOX.c.event_id.in_(bindparam("ids", expanding=True)),
)


async def seen(session: AsyncSession, consumer: str, event_ids: Iterable[str]) -> set[str]:
    ids = list(set(event_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):  # stay below bound-parameter limits
        rows = await session.execute(_SEEN, {"consumer": consumer, "ids": ids[start : start + 500]})
        found.update(rows.scalars().all())
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
