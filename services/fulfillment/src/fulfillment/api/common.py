"""What the routes share: roles, the injected clock, and row-to-response conversion."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from fulfillment.domain import progress
from fulfillment.domain.progress import FulfillmentStatus
from fulfillment.schemas import (
    FulfillmentDetail,
    FulfillmentOut,
    ShipmentLineOut,
    ShipmentOut,
    TaskOut,
    TimelineEntry,
)
from fulfillment.store import Plan
from fulfillment.tables import FulfillmentRow, ShipmentLineRow, ShipmentRow, TaskRow, TimelineRow

READERS = (
    "logistics_system",
    "order_desk",
    "service_agent",
    "sales_rep",
    "sales_manager",
    "analyst",
)
SEE_ALL = ("logistics_system", "order_desk", "service_agent", "analyst")
TASK_DOERS = ("service_agent", "order_desk")


def now(request: Request) -> datetime:
    """The app's clock (tests inject one through ``create_app(clock=...)``)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(UTC)


def fulfillment_out(row: FulfillmentRow, today: datetime) -> FulfillmentOut:
    return FulfillmentOut(**_summary(row, today))


def _summary(row: FulfillmentRow, today: datetime) -> dict:
    status = FulfillmentStatus(row.status)
    return {
        "id": row.id,
        "order_id": row.order_id,
        "order_number": row.order_number,
        "status": status,
        "customer_name": row.customer.get("name", ""),
        "owner": row.owner,
        "team": row.team,
        "next_due_date": row.next_due_date,
        "overdue": progress.is_overdue(status, row.next_due_date, today.date()),
        "cancellation_flagged": row.cancellation_flagged,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "completed_at": row.completed_at,
    }


def shipment_out(shipment: ShipmentRow, lines: list[ShipmentLineRow]) -> ShipmentOut:
    return ShipmentOut(
        **shipment.model_dump(),
        lines=[ShipmentLineOut.model_validate(ln, from_attributes=True) for ln in lines],
    )


def task_out(task: TaskRow) -> TaskOut:
    return TaskOut.model_validate(task, from_attributes=True)


def detail_out(plan: Plan, timeline: list[TimelineRow], today: datetime) -> FulfillmentDetail:
    row = plan.row
    return FulfillmentDetail(
        **_summary(row, today),
        customer=row.customer,
        account_id=row.account_id,
        ship_to=row.ship_to,
        requested_delivery_date=row.requested_delivery_date,
        cancellation_reason=row.cancellation_reason,
        cancelled_at=row.cancelled_at,
        correlation_id=row.correlation_id,
        shipments=[shipment_out(s, plan.lines.get(s.id, [])) for s in plan.shipments],
        tasks=[task_out(t) for t in plan.tasks],
        timeline=[TimelineEntry.model_validate(e, from_attributes=True) for e in timeline],
    )
