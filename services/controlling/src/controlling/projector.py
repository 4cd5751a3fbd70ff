"""Fold an aggregate's stored events into its projection row (insert or update)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, text
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlling.domain import projections as p
from controlling.domain.universe import Chunk, supersedes
from controlling.tables import (
    ControllingFulfillment,
    ControllingLead,
    ControllingOffer,
    ControllingOpportunity,
    ControllingOrder,
    ControllingUniverseCell,
    ControllingUniverseChunk,
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


async def _serialize_folds(session: AsyncSession, aggregate: str, aggregate_id: str) -> None:
    """Two replicas may fold the same aggregate at once while a rebalance moves its partition:
    each would miss the other's new event and the later write would win. On PostgreSQL a
    transaction-scoped advisory lock per aggregate makes the second fold wait and then read the
    first one's event (SQLite has one writer per database anyway)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"controlling:{aggregate}:{aggregate_id}"},
        )


async def project(session: AsyncSession, aggregate: str, aggregate_id: str) -> None:
    """Re-fold everything stored for the aggregate; a no-op for aggregates without a
    projection (accounts, logistics statuses)."""
    if aggregate not in PROJECTIONS:
        return
    fold, model = PROJECTIONS[aggregate]
    await _serialize_folds(session, aggregate, aggregate_id)
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


async def project_chunk(session: AsyncSession, chunk: Chunk) -> None:
    """Count a chunk of suspects or prospects once: the first event for it inserts its cells;
    another event for the same chunk replaces them only if it is the earlier one (see
    ``controlling.domain.universe``), so the counted event does not depend on arrival order."""
    key = chunk.key
    pk = (key.stage, key.segment_id, key.batch_id, key.chunk)
    counted = await session.get(ControllingUniverseChunk, pk)
    if counted is None:
        session.add(
            ControllingUniverseChunk(
                stage=key.stage,
                segment_id=key.segment_id,
                batch_id=key.batch_id,
                chunk=key.chunk,
                event_id=chunk.event_id,
                occurred_at=chunk.time,
            )
        )
    elif supersedes((chunk.time, chunk.event_id), (counted.occurred_at, counted.event_id)):
        await session.execute(
            delete(ControllingUniverseCell).where(
                ControllingUniverseCell.stage == key.stage,
                ControllingUniverseCell.segment_id == key.segment_id,
                ControllingUniverseCell.batch_id == key.batch_id,
                ControllingUniverseCell.chunk == key.chunk,
            )
        )
        counted.event_id = chunk.event_id
        counted.occurred_at = chunk.time
        session.add(counted)
    else:
        return
    for cell_no, cell in enumerate(chunk.cells):
        values = {
            "stage": key.stage,
            "segment_id": key.segment_id,
            "batch_id": key.batch_id,
            "chunk": key.chunk,
            "cell_no": cell_no,
            "occurred_at": chunk.time,
            **asdict(cell),
        }
        session.add(ControllingUniverseCell(**fit(ControllingUniverseCell, values)))
