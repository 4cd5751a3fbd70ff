"""Offer events applied to their opportunity with Core statements, the consumer's hot path.

Per event: one locked read of the opportunity, one read of the offers known for it, an upsert of
the offer's track and, only when the event moves the deal, an update of the opportunity, the
close of its open stage span and the next span. No ORM objects: hydrating rows, autoflushing and
the unit-of-work flush cost several times the CPU of the statements themselves. The stage rules
are the ones HTTP changes use (``pipeline.enter_stage``, ``pipeline.touch``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from opportunities import events, pipeline
from opportunities.config import Settings
from opportunities.domain import offers as offer_rules
from opportunities.domain.money import normalized
from opportunities.pipeline import OPPORTUNITIES, SPANS
from opportunities.tables import OfferTrackRow
from salesflow.contracts.envelope import Envelope
from salesflow.upserts import InsertOf, PerDialect

OFFERS = OfferTrackRow.__table__  # type: ignore[attr-defined]

# Columns an offer event may change on its opportunity (written together when it moves).
MOVED_COLUMNS = (
    "version",
    "updated_at",
    "stage",
    "stage_entered_at",
    "probability",
    "probability_override",
    "closed_at",
    "amount",
    "currency",
    "won_offer_id",
    "won_offer_version",
    "lost_reason",
)
# Columns of an offer's track that a newer event overwrites.
TRACK_COLUMNS = (
    "opportunity_id",
    "version",
    "offer_version",
    "status",
    "currency",
    "net",
    "updated_at",
)

# Built once: their cache keys are memoized on the statement objects.
_LOCK_OPPORTUNITY = (
    select(OPPORTUNITIES)
    .where(OPPORTUNITIES.c.id == bindparam("opportunity"))
    .with_for_update()  # offers of one deal arrive on different partitions
)
_OFFERS_SEEN = select(
    OFFERS.c.offer_id, OFFERS.c.opportunity_id, OFFERS.c.version, OFFERS.c.status
).where(
    or_(
        OFFERS.c.opportunity_id == bindparam("opportunity"),
        OFFERS.c.offer_id == bindparam("offer"),
    )
)
_UPDATE_OPPORTUNITY = (
    update(OPPORTUNITIES)
    .where(OPPORTUNITIES.c.id == bindparam("opportunity"))
    .values(
        {name: bindparam(f"new_{name}", type_=OPPORTUNITIES.c[name].type) for name in MOVED_COLUMNS}
    )
)
_CLOSE_SPAN = (
    update(SPANS)
    .where(SPANS.c.opportunity_id == bindparam("opportunity"), SPANS.c.left_at.is_(None))
    .values(left_at=bindparam("at", type_=SPANS.c.left_at.type))
)


def _track_upsert(dialect_insert: InsertOf) -> Insert:
    stmt = dialect_insert(OFFERS)
    return stmt.on_conflict_do_update(
        index_elements=[OFFERS.c.offer_id],
        set_={name: stmt.excluded[name] for name in TRACK_COLUMNS},
    )


_TRACK_UPSERT = PerDialect(_track_upsert)


@dataclass(frozen=True)
class OffersSeen:
    """What the service knows of the event's offer and of the opportunity's other offers."""

    version: int | None  # of the event's offer; None if never seen
    others_open: int  # open offers of the opportunity besides the event's one


async def lock_opportunity(conn: AsyncConnection, opportunity_id: str) -> SimpleNamespace | None:
    """The opportunity's columns as attributes (the shape ``events`` and ``pipeline`` read)."""
    row = (await conn.execute(_LOCK_OPPORTUNITY, {"opportunity": opportunity_id})).first()
    return SimpleNamespace(**row._mapping) if row is not None else None


async def offers_seen(conn: AsyncConnection, opportunity_id: str, offer_id: str) -> OffersSeen:
    rows = (
        await conn.execute(_OFFERS_SEEN, {"opportunity": opportunity_id, "offer": offer_id})
    ).all()
    version = next((r.version for r in rows if r.offer_id == offer_id), None)
    others_open = sum(
        1
        for r in rows
        if r.offer_id != offer_id
        and r.opportunity_id == opportunity_id
        and offer_rules.is_open(r.status)
    )
    return OffersSeen(version, others_open)


async def track(conn: AsyncConnection, opportunity_id: str, payload: Any, now: datetime) -> None:
    """Record the offer's latest state (the caller checked that the event is not stale)."""
    await conn.execute(
        _TRACK_UPSERT.of(conn),
        {
            "offer_id": payload.offer_id,
            "opportunity_id": opportunity_id,
            "version": payload.version,
            "offer_version": payload.offer_version,
            "status": payload.status.value,
            "currency": payload.currency,
            "net": payload.totals.net.amount,
            "updated_at": now,
        },
    )


async def apply_outcome(
    session: AsyncSession,
    conn: AsyncConnection,
    settings: Settings,
    row: SimpleNamespace,
    outcome: offer_rules.Outcome,
    payload: Any,
    event: Envelope,
) -> None:
    """Write the move an offer event causes and stage its opportunity event."""
    if outcome.effect is offer_rules.Effect.NONE or outcome.stage is None:
        return
    pipeline.touch(row, event.time)
    if outcome.effect is offer_rules.Effect.WON:
        # the deal is worth what the customer accepted, net of tax, in the offer's currency
        row.amount = normalized(payload.totals.net.amount)
        row.currency = payload.totals.net.currency
        row.won_offer_id = payload.offer_id
        row.won_offer_version = payload.offer_version
    if outcome.effect is offer_rules.Effect.LOST:
        row.lost_reason = outcome.reason
    previous, at = pipeline.enter_stage(settings, row, outcome.stage, event.time)
    await conn.execute(
        _UPDATE_OPPORTUNITY,
        {"opportunity": row.id, **{f"new_{name}": getattr(row, name) for name in MOVED_COLUMNS}},
    )
    await conn.execute(_CLOSE_SPAN, {"opportunity": row.id, "at": at})
    await conn.execute(
        pipeline.INSERT_SPAN,
        {
            "opportunity_id": row.id,
            "stage": outcome.stage.value,
            "entered_at": at,
            "left_at": None,
            "trigger": event.type,
            "changed_by": None,
            "offer_id": payload.offer_id,
        },
    )
    if outcome.effect is offer_rules.Effect.WON:
        payload_out = events.won(row)
    elif outcome.effect is offer_rules.Effect.LOST:
        payload_out = events.lost(row, previous, offer_id=payload.offer_id)
    else:
        payload_out = events.stage_changed(row, previous, event.type, offer_id=payload.offer_id)
    events.publish(session, settings, row, payload_out, cause=event)
