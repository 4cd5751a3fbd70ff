"""Loading and saving a fulfilment plan as one aggregate: the plan row (locked for the unit of
work), its shipments with their lines, its tasks, and the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from fulfillment.domain import progress
from fulfillment.domain.progress import FulfillmentStatus, TaskStatus
from fulfillment.domain.shipment import PlannedLine, ReportLine, Stage, StatusReport
from fulfillment.tables import (
    FulfillmentRow,
    ShipmentLineRow,
    ShipmentRow,
    TaskRow,
    TimelineRow,
)

CLOSED_SHIPMENT = {"delivered", "cancelled"}


@dataclass
class Plan:
    row: FulfillmentRow
    shipments: list[ShipmentRow]
    lines: dict[str, list[ShipmentLineRow]]  # shipment id -> lines by line_no
    tasks: list[TaskRow]

    @property
    def status(self) -> FulfillmentStatus:
        return FulfillmentStatus(self.row.status)

    def shipment(self, shipment_id: str) -> ShipmentRow | None:
        return next((s for s in self.shipments if s.id == shipment_id), None)

    def all_lines(self) -> list[ShipmentLineRow]:
        return [line for s in self.shipments for line in self.lines.get(s.id, [])]

    def started(self) -> bool:
        return any(s.last_status_at is not None for s in self.shipments)

    def goods(self) -> list[progress.GoodsLine]:
        return [
            progress.GoodsLine(ln.line_no, ln.quantity, ln.delivered_quantity)
            for ln in self.all_lines()
        ]

    def derived_status(self) -> FulfillmentStatus:
        return progress.derive_status(
            self.goods(),
            [progress.Task(TaskStatus(t.status), t.due_date) for t in self.tasks],
            started=self.started(),
            cancelled=self.status is FulfillmentStatus.CANCELLED,
        )

    def next_due(self) -> date | None:
        if self.status in progress.CLOSED:
            return None
        return progress.next_due(
            [s.planned_date for s in self.shipments if s.status not in CLOSED_SHIPMENT]
            + [t.due_date for t in self.tasks if t.status == TaskStatus.OPEN]
        )

    def touch(self, now: datetime) -> None:
        """Re-derive status and due date after a change; bump the version."""
        for key, value in self.touched(now).items():
            setattr(self.row, key, value)

    def touched(self, now: datetime) -> dict[str, Any]:
        """The plan row's new values after a change (``touch`` without setting them)."""
        return {
            "status": self.derived_status(),
            "next_due_date": self.next_due(),
            "version": self.row.version + 1,
            "updated_at": now,
        }


# Rows are re-read even if the session holds them already: after waiting for the lock, what
# another transaction committed must be seen.
_FRESH = {"populate_existing": True}

# The statements of the hot paths (every status report loads and locks a plan) are built once:
# building a select and its cache key costs more CPU than running it on a small table.
_PLAN_BY_ORDER = (
    select(FulfillmentRow)
    .where(FulfillmentRow.order_id == bindparam("key"))
    .with_for_update()
    .execution_options(**_FRESH)
)
_PLAN_BY_ID = (
    select(FulfillmentRow)
    .where(FulfillmentRow.id == bindparam("key"))
    .with_for_update()
    .execution_options(**_FRESH)
)
_SHIPMENTS = (
    select(ShipmentRow)
    .where(ShipmentRow.fulfillment_id == bindparam("fulfillment_id"))
    .order_by(col(ShipmentRow.seq))
    .execution_options(**_FRESH)
)
_LINES = (
    select(ShipmentLineRow)
    .where(ShipmentLineRow.fulfillment_id == bindparam("fulfillment_id"))
    .order_by(col(ShipmentLineRow.line_no))
    .execution_options(**_FRESH)
)
_TASKS = (
    select(TaskRow)
    .where(TaskRow.fulfillment_id == bindparam("fulfillment_id"))
    .order_by(col(TaskRow.seq))
    .execution_options(**_FRESH)
)
# Columns, not rows as objects: they are only read. (The session flushes pending objects before
# any statement, so what this unit of work added is seen.)
_STATUS_SEEN = select(TimelineRow.id).where(TimelineRow.status_event_id == bindparam("event_id"))
_SHIPMENT_HISTORY = select(TimelineRow.status_event_id, TimelineRow.detail).where(
    TimelineRow.shipment_id == bindparam("shipment_id"), TimelineRow.kind == "status"
)


async def lock_plan_by_order(session: AsyncSession, order_id: str) -> Plan | None:
    return await _locked(session, _PLAN_BY_ORDER, order_id)


async def lock_plan(session: AsyncSession, fulfillment_id: str) -> Plan | None:
    """The plan with its row locked (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
    return await _locked(session, _PLAN_BY_ID, fulfillment_id)


async def _locked(
    session: AsyncSession, stmt: SelectOfScalar[FulfillmentRow], key: str
) -> Plan | None:
    row = (await session.exec(stmt, params={"key": key})).first()
    return None if row is None else await _children(session, row)


async def read_plan(session: AsyncSession, row: FulfillmentRow) -> Plan:
    return await _children(session, row)


async def _children(session: AsyncSession, row: FulfillmentRow) -> Plan:
    params = {"fulfillment_id": row.id}
    shipments = list((await session.exec(_SHIPMENTS, params=params)).all())
    lines: dict[str, list[ShipmentLineRow]] = {s.id: [] for s in shipments}
    for line in (await session.exec(_LINES, params=params)).all():
        lines.setdefault(line.shipment_id, []).append(line)
    tasks = list((await session.exec(_TASKS, params=params)).all())
    return Plan(row=row, shipments=shipments, lines=lines, tasks=tasks)


async def timeline(session: AsyncSession, fulfillment_id: str) -> list[TimelineRow]:
    return list(
        (
            await session.exec(
                select(TimelineRow)
                .where(TimelineRow.fulfillment_id == fulfillment_id)
                .order_by(col(TimelineRow.occurred_at), col(TimelineRow.id))
            )
        ).all()
    )


async def status_seen(session: AsyncSession, status_event_id: str) -> bool:
    found = await session.execute(_STATUS_SEEN, {"event_id": status_event_id})
    return found.first() is not None


async def shipment_history(session: AsyncSession, shipment_id: str) -> list[StatusReport]:
    """The shipment's accepted status reports, as kept in the timeline."""
    rows = await session.execute(_SHIPMENT_HISTORY, {"shipment_id": shipment_id})
    return [report_from_detail(event_id or "", detail) for event_id, detail in rows.all()]


def planned_lines(lines: Sequence[ShipmentLineRow]) -> list[PlannedLine]:
    return [PlannedLine(ln.line_no, ln.sku, ln.quantity) for ln in lines]


def report_detail(report: StatusReport, **extra: Any) -> dict[str, Any]:
    """A report as JSON for the timeline (and back with ``report_from_detail``)."""
    detail: dict[str, Any] = {
        "status": str(report.status),
        "occurred_at": report.occurred_at.isoformat(),
        "lines": None
        if report.lines is None
        else [
            {
                "line_no": ln.line_no,
                "sku": ln.sku,
                "quantity": str(ln.quantity),
                "serial_numbers": list(ln.serial_numbers),
            }
            for ln in report.lines
        ],
        "carrier": report.carrier,
        "tracking_number": report.tracking_number,
        "tracking_url": report.tracking_url,
        "proof_of_delivery": dict(report.proof_of_delivery) if report.proof_of_delivery else None,
        "received_on": report.received_on.isoformat() if report.received_on else None,
        "reason": report.reason,
    }
    detail.update(extra)
    return detail


def report_from_detail(event_id: str, detail: dict[str, Any]) -> StatusReport:
    lines = detail.get("lines")
    return StatusReport(
        event_id=event_id,
        status=Stage(detail["status"]),
        occurred_at=datetime.fromisoformat(detail["occurred_at"]),
        lines=None
        if lines is None
        else tuple(
            ReportLine(
                ln["line_no"], ln["sku"], Decimal(ln["quantity"]), tuple(ln["serial_numbers"])
            )
            for ln in lines
        ),
        carrier=detail.get("carrier"),
        tracking_number=detail.get("tracking_number"),
        tracking_url=detail.get("tracking_url"),
        proof_of_delivery=detail.get("proof_of_delivery"),
        received_on=date.fromisoformat(detail["received_on"])
        if detail.get("received_on")
        else None,
        reason=detail.get("reason"),
    )


def timeline_entry(
    plan: Plan,
    kind: str,
    *,
    occurred_at: datetime,
    recorded_at: datetime,
    channel: str,
    actor: str | None = None,
    shipment_id: str | None = None,
    task_id: str | None = None,
    status: str | None = None,
    status_event_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of a timeline row."""
    return {
        "fulfillment_id": plan.row.id,
        "kind": kind,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "channel": channel,
        "actor": actor,
        "shipment_id": shipment_id,
        "task_id": task_id,
        "status": status,
        "status_event_id": status_event_id,
        "detail": detail or {},
    }


_INSERT_TIMELINE = insert(TimelineRow.__table__)

# --- writing through: Core UPDATEs for rows the session holds ---------------------------------
# A status report changes the plan row, a shipment and its lines. Written by the unit of work,
# that costs more CPU than the rest of the report; written here with Core (one statement per
# table) while the loaded objects take the same values as committed state, so that the session
# neither writes them again nor holds stale values for a later event of the same unit of work.

PLAN_COLUMNS = ("status", "next_due_date", "version", "updated_at", "completed_at")
SHIPMENT_COLUMNS = (
    "status",
    "carrier",
    "tracking_number",
    "tracking_url",
    "dispatched_at",
    "delivered_at",
    "proof_of_delivery",
    "failure_reason",
    "last_status_at",
    "external_ids",
    "version",
    "updated_at",
)
LINE_COLUMNS = ("delivered_quantity", "stage", "serial_numbers", "delivered_on")


def _update_by(table: Any, keys: Sequence[str], columns: Sequence[str]) -> Any:
    return (
        update(table)
        .where(*(table.c[key] == bindparam(f"k_{key}") for key in keys))
        .values({column: bindparam(column) for column in columns})
    )


_UPDATE_PLAN = _update_by(FulfillmentRow.__table__, ["id"], PLAN_COLUMNS)
_UPDATE_SHIPMENT = _update_by(ShipmentRow.__table__, ["id"], SHIPMENT_COLUMNS)
_UPDATE_LINE = _update_by(ShipmentLineRow.__table__, ["shipment_id", "line_no"], LINE_COLUMNS)


def set_loaded(row: SQLModel, values: dict[str, Any]) -> None:
    """Give a loaded row new values as if read from the database (not dirty for the session:
    the caller writes them with ``write_through``)."""
    for key, value in values.items():
        set_committed_value(row, key, value)


async def write_through(
    session: AsyncSession, plan: Plan, shipments: Sequence[ShipmentRow]
) -> None:
    """UPDATE the plan row, ``shipments`` and their lines with their (loaded) values."""
    lines = [line for shipment in shipments for line in plan.lines[shipment.id]]
    if lines:
        await session.execute(
            _UPDATE_LINE,
            [
                {
                    "k_shipment_id": line.shipment_id,
                    "k_line_no": line.line_no,
                    **{c: getattr(line, c) for c in LINE_COLUMNS},
                }
                for line in lines
            ],
        )
    if shipments:
        await session.execute(
            _UPDATE_SHIPMENT,
            [{"k_id": s.id, **{c: getattr(s, c) for c in SHIPMENT_COLUMNS}} for s in shipments],
        )
    await session.execute(
        _UPDATE_PLAN, {"k_id": plan.row.id, **{c: getattr(plan.row, c) for c in PLAN_COLUMNS}}
    )


async def insert_timeline(session: AsyncSession, plan: Plan, kind: str, **fields: Any) -> None:
    """``add_timeline`` for the hot paths: the row is written at once with Core (building a
    TimelineRow object costs more than the INSERT). Entries of one unit of work keep their order
    as long as it adds them all this way (the lock query has flushed earlier ones)."""
    await session.execute(_INSERT_TIMELINE, timeline_entry(plan, kind, **fields))


def add_timeline(session: AsyncSession, plan: Plan, kind: str, **fields: Any) -> TimelineRow:
    row = TimelineRow(**timeline_entry(plan, kind, **fields))
    session.add(row)
    return row
