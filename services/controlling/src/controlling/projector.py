"""Fold an aggregate's stored events into its projection row (insert or update)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlling.domain import projections as p
from controlling.tables import (
    ControllingFulfillment,
    ControllingLead,
    ControllingOffer,
    ControllingOpportunity,
    ControllingOrder,
    JourneyEvent,
)

Fold = Callable[[str, list[p.Fact]], Any]

# aggregate name (from the topic) -> fold and projection table
PROJECTIONS: dict[str, tuple[Fold, type[SQLModel]]] = {
    "lead": (p.fold_lead, ControllingLead),
    "opportunity": (p.fold_opportunity, ControllingOpportunity),
    "offer": (p.fold_offer, ControllingOffer),
    "order": (p.fold_order, ControllingOrder),
    "fulfillment": (p.fold_fulfillment, ControllingFulfillment),
}


def fact_of(row: JourneyEvent) -> p.Fact:
    return p.Fact(
        id=row.event_id,
        type=row.type,
        time=row.occurred_at,
        data=row.data or {},
        correlation_id=row.correlation_id,
    )


def fit(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """Clip strings to their column's length: free-text fields of the contracts (team, source
    channel, subject …) are unbounded, and an over-long one must not make the event a poison
    event on PostgreSQL."""
    columns = model.__table__.columns  # type: ignore[attr-defined]
    fitted = dict(values)
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None) if name in columns else None
        if isinstance(value, str) and length and len(value) > length:
            fitted[name] = value[:length]
    return fitted


def row_values(folded: Any) -> dict[str, Any]:
    """Folded facts -> column values: the company flattened, money as decimal strings."""
    values: dict[str, Any] = {}
    for name, value in asdict(folded).items():
        if name == "company":
            values.update(value)
        elif isinstance(value, Decimal):
            values[name] = str(value)
        else:
            values[name] = value
    return values


async def project(session: AsyncSession, aggregate: str, aggregate_id: str) -> None:
    """Re-fold everything stored for the aggregate; a no-op for aggregates without a
    projection (accounts, logistics statuses)."""
    if aggregate not in PROJECTIONS:
        return
    fold, model = PROJECTIONS[aggregate]
    rows = (
        await session.exec(
            select(JourneyEvent).where(
                JourneyEvent.aggregate == aggregate, JourneyEvent.aggregate_id == aggregate_id
            )
        )
    ).all()
    folded = fold(aggregate_id, [fact_of(r) for r in rows])
    if folded is None or not is_dataclass(folded):
        return
    values = fit(model, row_values(folded))
    existing = await session.get(model, aggregate_id)
    if existing is None:
        session.add(model(**values))
        return
    for name, value in values.items():
        setattr(existing, name, value)
    session.add(existing)
