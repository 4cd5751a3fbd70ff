"""Payloads of the events fulfillment publishes, built from a plan (the published contract lives
in ``salesflow.contracts.events.fulfillment``)."""

from __future__ import annotations

from datetime import datetime

from fulfillment.domain import progress
from fulfillment.domain.shipment import ReportLine, StatusReport
from fulfillment.store import Plan
from fulfillment.tables import ShipmentRow, TaskRow
from salesflow.contracts.events.common import DeliveredLine, LineKind
from salesflow.contracts.events.fulfillment import (
    DeliveredItem,
    FulfillmentCompleted,
    FulfillmentPlanned,
    PlannedShipment,
    PlannedTask,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentLine,
    TaskCompleted,
)

PLANNED = "fulfillment.planned.v1"
DISPATCHED = "shipment.dispatched.v1"
DELIVERED = "shipment.delivered.v1"
TASK_COMPLETED = "task.completed.v1"
COMPLETED = "fulfillment.completed.v1"


def _common(plan: Plan) -> dict:
    row = plan.row
    return {
        "fulfillment_id": row.id,
        "version": row.version,
        "status": row.status,
        "order_id": row.order_id,
        "order_number": row.order_number,
    }


def _party(plan: Plan) -> dict:
    row = plan.row
    return {
        "customer": row.customer,
        "account_id": row.account_id,
        "owner": row.owner,
        "team": row.team,
        "ship_to": row.ship_to,
    }


def planned(plan: Plan) -> FulfillmentPlanned:
    return FulfillmentPlanned(
        **_common(plan),
        **_party(plan),
        shipments=[
            PlannedShipment(
                shipment_id=s.id,
                planned_date=s.planned_date,
                lines=[
                    ShipmentLine(line_no=ln.line_no, sku=ln.sku, quantity=ln.quantity)
                    for ln in plan.lines[s.id]
                ],
            )
            for s in plan.shipments
        ],
        tasks=[
            PlannedTask(
                task_id=t.id,
                line_no=t.line_no,
                sku=t.sku,
                kind=t.kind,
                assignee=t.assignee,
                due_date=t.due_date,
            )
            for t in plan.tasks
        ],
    )


def _delivered_lines(lines: tuple[ReportLine, ...]) -> list[DeliveredLine]:
    return [
        DeliveredLine(
            line_no=ln.line_no,
            sku=ln.sku,
            quantity=ln.quantity,
            serial_numbers=list(ln.serial_numbers),
        )
        for ln in lines
    ]


def dispatched(
    plan: Plan, shipment: ShipmentRow, report: StatusReport, lines: tuple[ReportLine, ...]
) -> ShipmentDispatched:
    return ShipmentDispatched(
        **_common(plan),
        shipment_id=shipment.id,
        carrier=report.carrier or shipment.carrier,
        tracking_number=report.tracking_number or shipment.tracking_number,
        tracking_url=report.tracking_url or shipment.tracking_url,
        lines=_delivered_lines(lines),
        dispatched_at=report.occurred_at,
        status_event_id=report.event_id,
    )


def delivered(
    plan: Plan, shipment: ShipmentRow, report: StatusReport, lines: tuple[ReportLine, ...]
) -> ShipmentDelivered:
    return ShipmentDelivered(
        **_common(plan),
        shipment_id=shipment.id,
        lines=_delivered_lines(lines),
        delivered_at=report.occurred_at,
        proof_of_delivery=dict(report.proof_of_delivery) if report.proof_of_delivery else None,
        order_delivery=progress.goods_delivery(plan.goods()),
        status_event_id=report.event_id,
    )


def task_completed(plan: Plan, task: TaskRow) -> TaskCompleted:
    assert task.completed_at is not None and task.completed_by is not None  # a done task
    return TaskCompleted(
        **_common(plan),
        task_id=task.id,
        line_no=task.line_no,
        sku=task.sku,
        kind=task.kind,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
    )


def completed(plan: Plan, completed_at: datetime) -> FulfillmentCompleted:
    items = [
        DeliveredItem(
            line_no=ln.line_no,
            sku=ln.sku,
            description=ln.description,
            kind=LineKind.GOODS,
            quantity=ln.delivered_quantity,
            unit=ln.unit,
            serial_numbers=list(ln.serial_numbers),
            delivered_on=ln.delivered_on or completed_at.date(),
        )
        for ln in plan.all_lines()
    ]
    items += [
        DeliveredItem(
            line_no=t.line_no,
            sku=t.sku,
            description=t.description,
            kind=LineKind.SERVICE,
            quantity=t.quantity,
            unit=t.unit,
            delivered_on=(t.completed_at or completed_at).date(),
        )
        for t in plan.tasks
    ]
    return FulfillmentCompleted(
        **_common(plan),
        **_party(plan),
        items=sorted(items, key=lambda i: i.line_no),
        completed_at=completed_at,
    )
