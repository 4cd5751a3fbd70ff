"""New plans staged in a unit of work and written together just before it commits.

The consumer handles a whole poll of ``order.confirmed`` events in one transaction; writing each
plan's rows at once costs a handful of statements per order. Staged, the poll's plans go in as
one multi-row INSERT per table at commit. Whatever reads plans in the same unit of work (another
handler of the poll, the parked status reports of a new plan) calls ``flush`` first, and
``create_plan`` asks ``staged_order_ids`` so that a second confirmation in the same poll still
finds the first plan. A failing INSERT fails the commit: the consumer then takes the poll record
by record, as for any handler error."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from fulfillment.store import Plan
from fulfillment.tables import FulfillmentRow, ShipmentLineRow, ShipmentRow, TaskRow, TimelineRow

_PLANS = "fulfillment_staged_plans"
_TIMELINE_COLUMNS = [c.name for c in TimelineRow.__table__.columns if c.name != "id"]


def stage(session: AsyncSession, plan: Plan, timeline: dict[str, Any]) -> None:
    """Write ``plan`` (new) and its first timeline entry when the transaction commits."""
    staged = session.sync_session.info.setdefault(_PLANS, {})
    staged[plan.row.order_id] = (plan, {c: timeline.get(c) for c in _TIMELINE_COLUMNS})


def staged_order_ids(session: AsyncSession) -> set[str]:
    return set(session.sync_session.info.get(_PLANS, ()))


async def flush(session: AsyncSession) -> None:
    """Write the staged plans now (before reading plans in this unit of work)."""
    if session.sync_session.info.get(_PLANS):
        await session.run_sync(_write)


def _values(row: SQLModel) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns}


@sa_event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    staged = session.info.pop(_PLANS, None)
    if not staged:
        return
    plans = [plan for plan, _ in staged.values()]
    conn = session.connection()
    # parents before children (foreign keys)
    conn.execute(insert(FulfillmentRow.__table__), [_values(p.row) for p in plans])
    for table, rows in (
        (ShipmentRow.__table__, [_values(s) for p in plans for s in p.shipments]),
        (ShipmentLineRow.__table__, [_values(ln) for p in plans for ln in p.all_lines()]),
        (TaskRow.__table__, [_values(t) for p in plans for t in p.tasks]),
        (TimelineRow.__table__, [timeline for _, timeline in staged.values()]),
    ):
        if rows:
            conn.execute(insert(table), rows)


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PLANS, None)
