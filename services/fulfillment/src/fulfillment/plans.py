"""Plans from confirmed orders (exactly one per order) and what a cancelled order does to them."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, exists
from sqlalchemy.orm import configure_mappers
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fulfillment import outgoing, staging, topic_status, tracking
from fulfillment.config import Settings
from fulfillment.domain import planning, progress
from fulfillment.domain.progress import CancelEffect, FulfillmentStatus, TaskStatus
from fulfillment.domain.shipment import GOODS_LEFT, Stage
from fulfillment.store import Plan, add_timeline, lock_plan, lock_plan_by_order, timeline_entry
from fulfillment.tables import (
    FulfillmentRow,
    OrderCancellationRow,
    PendingStatusRow,
    ShipmentLineRow,
    ShipmentRow,
    TaskRow,
)
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.orders import OrderCancelled, OrderConfirmed

log = logging.getLogger(__name__)
# Rows are built with ``model_construct`` (no validation) and written with Core; their
# attributes need configured mappers.
configure_mappers()

_ID_NAMESPACE = uuid.UUID("5d3c4f0e-7a51-4c8e-9d0b-1f2a3b4c5d6e")


def fulfillment_id_for(order_id: str) -> str:
    """Deterministic: two replicas planning the same order collide on the primary key."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"fulfillment:{order_id}"))


# plan already there? cancelled before? status reports parked? (one query, built once)
_ORDER_ID = bindparam("order_id")
_WHAT_IS_KNOWN = select(
    select(FulfillmentRow.id).where(FulfillmentRow.order_id == _ORDER_ID).scalar_subquery(),
    select(OrderCancellationRow.order_version)
    .where(OrderCancellationRow.order_id == _ORDER_ID)
    .scalar_subquery(),
    exists().where(col(PendingStatusRow.order_id) == _ORDER_ID),
)


async def create_plan(
    session: AsyncSession,
    settings: Settings,
    order: OrderConfirmed,
    event: Envelope,
    now: datetime,
) -> Plan | None:
    """Plan the order unless it has a plan already (redelivery, replay, re-confirmation) or was
    cancelled before its confirmation got here.

    The hot path of the service (one call per confirmed order): one query answers what is
    known about the order, the rows are built without validation (their values come from the
    validated event and the planner) and staged, so that a poll's plans are written with one
    multi-row INSERT per table at commit (``fulfillment.staging``)."""
    if order.order_id in staging.staged_order_ids(session):
        log.info("order %s is being planned in this very batch", order.order_number)
        return None
    existing, cancelled_version, parked = (
        await session.execute(_WHAT_IS_KNOWN, {"order_id": order.order_id})
    ).one()
    if existing is not None:
        log.info("order %s already has fulfilment %s", order.order_number, existing)
        return None
    if cancelled_version is not None and cancelled_version > order.version:
        log.info("order %s was cancelled before it was planned", order.order_number)
        return None

    plan = draft_rows(settings, order, event, now)
    timeline = timeline_entry(
        plan,
        "planned",
        occurred_at=now,
        recorded_at=now,
        channel="topic",
        detail={
            "order_version": order.version,
            "shipments": len(plan.shipments),
            "tasks": len(plan.tasks),
            "split": str(settings.shipment_split),
        },
    )
    staging.stage(session, plan, timeline)
    tracking.emit_for(session, settings, plan, outgoing.PLANNED, outgoing.planned(plan), event)
    if parked:  # rare: status reports that overtook the order; applied on the stored plan
        await staging.flush(session)
        stored = await lock_plan(session, plan.row.id)
        assert stored is not None  # written just above, in this transaction
        await topic_status.apply_pending(session, settings, stored, now)
        return stored
    return plan


def draft_rows(settings: Settings, order: OrderConfirmed, event: Envelope, now: datetime) -> Plan:
    """The plan of ``order`` as (unsaved) rows."""
    draft = planning.draft_plan(
        [
            planning.OrderLineIn(
                line_no=ln.line_no,
                sku=ln.sku,
                description=ln.description,
                quantity=ln.quantity,
                unit=ln.unit,
                kind=planning.LineKind(ln.kind.value),
                requested_date=ln.requested_delivery_date,
            )
            for ln in order.lines
        ],
        requested_date=order.requested_delivery_date,
        today=event.time.date(),  # the confirmation day, so that a replay plans the same dates
        rules=settings.planning_rules(),
    )
    fulfillment_id = fulfillment_id_for(order.order_id)
    shipments: list[ShipmentRow] = []
    lines: dict[str, list[ShipmentLineRow]] = {}
    tasks: list[TaskRow] = []
    for draft_shipment in draft.shipments:
        shipment = ShipmentRow.model_construct(
            id=str(uuid.uuid4()),
            fulfillment_id=fulfillment_id,
            seq=draft_shipment.seq,
            status=Stage.PLANNED.value,
            planned_date=draft_shipment.planned_date,
            external_ids=[],
            created_at=now,
            updated_at=now,
        )
        shipments.append(shipment)
        lines[shipment.id] = [
            ShipmentLineRow.model_construct(
                shipment_id=shipment.id,
                line_no=line.line_no,
                fulfillment_id=fulfillment_id,
                sku=line.sku,
                description=line.description,
                unit=line.unit,
                quantity=line.quantity,
                delivered_quantity=Decimal(0),
                stage=Stage.PLANNED.value,
                serial_numbers=[],
            )
            for line in draft_shipment.lines
        ]
    for draft_task in draft.tasks:
        tasks.append(
            TaskRow.model_construct(
                id=str(uuid.uuid4()),
                fulfillment_id=fulfillment_id,
                seq=draft_task.seq,
                line_no=draft_task.line.line_no,
                sku=draft_task.line.sku,
                description=draft_task.line.description,
                kind=draft_task.kind,
                quantity=draft_task.line.quantity,
                unit=draft_task.line.unit,
                assignee=draft_task.assignee,
                due_date=draft_task.due_date,
                status=TaskStatus.OPEN.value,
                created_at=now,
                updated_at=now,
            )
        )
    row = FulfillmentRow.model_construct(
        id=fulfillment_id,
        order_id=order.order_id,
        order_number=order.order_number,
        order_version=order.version,
        status=FulfillmentStatus.PLANNED.value,
        owner=order.owner,
        team=order.team,
        account_id=order.account_id,
        customer=order.customer.model_dump(mode="json"),
        ship_to=order.ship_to.model_dump(mode="json"),
        requested_delivery_date=order.requested_delivery_date,
        correlation_id=event.correlation_id,
        version=1,
        created_at=now,
        updated_at=now,
        # a new plan: every shipment and task is open
        next_due_date=progress.next_due(
            [s.planned_date for s in shipments] + [t.due_date for t in tasks]
        ),
    )
    return Plan(row=row, shipments=shipments, lines=lines, tasks=tasks)


async def cancel_order(
    session: AsyncSession,
    settings: Settings,
    cancelled: OrderCancelled,
    now: datetime,
) -> CancelEffect | None:
    """Before dispatch the plan is cancelled; after a dispatch or a completed task the
    cancellation is flagged only (orders refuses it then, so one that still arrives needs a
    human)."""
    plan = await lock_plan_by_order(session, cancelled.order_id)
    if plan is None:  # the confirmation is still on its way (or was dead-lettered)
        known = await session.get(OrderCancellationRow, cancelled.order_id)
        if known is None:
            session.add(
                OrderCancellationRow(
                    order_id=cancelled.order_id,
                    order_version=cancelled.version,
                    reason=cancelled.reason,
                    cancelled_by=cancelled.cancelled_by,
                    recorded_at=now,
                )
            )
        elif known.order_version < cancelled.version:
            known.order_version = cancelled.version
            session.add(known)
        return None
    if cancelled.version <= plan.row.order_version:
        log.info("stale order.cancelled v%s for %s", cancelled.version, cancelled.order_number)
        return None
    goods_left = any(
        line.stage in GOODS_LEFT or line.delivered_quantity > 0 for line in plan.all_lines()
    )
    task_done = any(task.status == TaskStatus.DONE for task in plan.tasks)
    effect = progress.cancellation_effect(plan.status, goods_left=goods_left, task_done=task_done)
    if effect is CancelEffect.NONE:
        return effect
    plan.row.order_version = cancelled.version
    plan.row.cancellation_reason = cancelled.reason
    detail = {
        "reason": cancelled.reason,
        "cancelled_by": cancelled.cancelled_by,
        "order_version": cancelled.version,
    }
    if effect is CancelEffect.CANCEL:
        plan.row.status = FulfillmentStatus.CANCELLED
        plan.row.cancelled_at = now
        for shipment in plan.shipments:
            shipment.status = "cancelled"
            shipment.version += 1
            shipment.updated_at = now
        for task in plan.tasks:
            if task.status == TaskStatus.OPEN:
                task.status = TaskStatus.CANCELLED
                task.version += 1
                task.updated_at = now
        kind = "cancelled"
    else:
        plan.row.cancellation_flagged = True
        done = "goods were already dispatched" if goods_left else "service work was already done"
        detail["note"] = f"{done}: the plan goes on; resolve by hand"
        kind = "cancellation_flagged"
        log.warning(
            "order %s cancelled after dispatch or service work: fulfilment %s flagged",
            plan.row.order_number,
            plan.row.id,
        )
    plan.touch(now)
    add_timeline(
        session,
        plan,
        kind,
        occurred_at=now,
        recorded_at=now,
        channel="topic",
        actor=cancelled.cancelled_by,
        detail=detail,
    )
    return effect
