"""Fold an aggregate's stored events into its projection row (insert or update).

The hot path (every event of the catalog) talks to the database in SQLAlchemy Core on the
session's connection: plain rows instead of ORM objects, prebuilt statements, and an upsert of
the projection row instead of get + setattr + flush."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.selectable import Select
from sqlmodel import SQLModel
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
from salesflow.upserts import dialect_insert

Fold = Callable[[str, list[p.Fact]], Any]

# aggregate name (from the topic) -> fold and projection table
PROJECTIONS: dict[str, tuple[Fold, type[SQLModel]]] = {
    "lead": (p.fold_lead, ControllingLead),
    "opportunity": (p.fold_opportunity, ControllingOpportunity),
    "offer": (p.fold_offer, ControllingOffer),
    "order": (p.fold_order, ControllingOrder),
    "fulfillment": (p.fold_fulfillment, ControllingFulfillment),
}

_EVENTS: Table = JourneyEvent.__table__  # type: ignore[attr-defined]

# what a fold needs of each stored event of one aggregate: columns only, no ORM objects
_FACTS_OF_AGGREGATE: Select = select(
    _EVENTS.c.event_id,
    _EVENTS.c.type,
    _EVENTS.c.occurred_at,
    _EVENTS.c.data,
    _EVENTS.c.correlation_id,
).where(
    _EVENTS.c.aggregate == bindparam("aggregate"),
    _EVENTS.c.aggregate_id == bindparam("aggregate_id"),
)

_FOLD_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def fit(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """Clip strings to their column's length: free-text fields of the contracts (team, source
    channel, subject …) are unbounded, and an over-long one must not make the event a poison
    event on PostgreSQL."""
    lengths = _string_lengths(model)
    fitted = dict(values)
    for name, value in values.items():
        length = lengths.get(name)
        if length and isinstance(value, str) and len(value) > length:
            fitted[name] = value[:length]
    return fitted


@cache
def _string_lengths(model: type[SQLModel]) -> dict[str, int]:
    """Column name -> maximum length, for the columns that have one (the schema is fixed)."""
    columns = model.__table__.columns  # type: ignore[attr-defined]
    lengths = {c.name: getattr(c.type, "length", None) for c in columns}
    return {name: length for name, length in lengths.items() if length}


def row_values(folded: Any) -> dict[str, Any]:
    """Folded facts -> column values: the company flattened, money as decimal strings.
    Shallow (no ``asdict``): every value is immutable, so its deep copy would buy nothing."""
    values: dict[str, Any] = {}
    for field in fields(folded):
        value = getattr(folded, field.name)
        if field.name == "company":
            values.update((f.name, getattr(value, f.name)) for f in fields(value))
        elif isinstance(value, Decimal):
            values[field.name] = str(value)
        else:
            values[field.name] = value
    return values


@cache
def _upsert(dialect_name: str, table: Table) -> Insert:
    """Insert the projection row, or overwrite every column but the key: the fold recomputes
    the whole row from all stored events, so the new values replace the old ones."""
    stmt = dialect_insert(dialect_name, table)
    keys = [c.name for c in table.primary_key.columns]
    others = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=others)


async def _serialize_folds(connection: AsyncConnection, aggregate: str, aggregate_id: str) -> None:
    """Two replicas may fold the same aggregate at once while a rebalance moves its partition:
    each would miss the other's new event and the later write would win. On PostgreSQL a
    transaction-scoped advisory lock per aggregate makes the second fold wait and then read the
    first one's event (SQLite has one writer per database anyway)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(_FOLD_LOCK, {"key": f"controlling:{aggregate}:{aggregate_id}"})


async def project(connection: AsyncConnection, aggregate: str, aggregate_id: str) -> None:
    """Re-fold everything stored for the aggregate; a no-op for aggregates without a
    projection (accounts, logistics statuses). Core on the unit of work's connection: the
    handler wrote the event the same way (nothing pending in the session to flush first), and
    the fold needs plain rows, not ORM objects."""
    if aggregate not in PROJECTIONS:
        return
    fold, model = PROJECTIONS[aggregate]
    await _serialize_folds(connection, aggregate, aggregate_id)
    rows = await connection.execute(
        _FACTS_OF_AGGREGATE, {"aggregate": aggregate, "aggregate_id": aggregate_id}
    )
    facts = [
        p.Fact(id=event_id, type=type_, time=time, data=data or {}, correlation_id=journey)
        for event_id, type_, time, data, journey in rows
    ]
    folded = fold(aggregate_id, facts)
    if folded is None or not is_dataclass(folded):
        return
    table: Table = model.__table__  # type: ignore[attr-defined]
    await connection.execute(
        _upsert(connection.dialect.name, table), fit(model, row_values(folded))
    )


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
