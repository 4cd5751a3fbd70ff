"""Plans from confirmed orders (exactly one per order) and what a cancelled order does to them."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fulfillment import outgoing, topic_status, tracking
from fulfillment.config import Settings
from fulfillment.domain import planning, progress
from fulfillment.domain.progress import CancelEffect, FulfillmentStatus, TaskStatus
from fulfillment.domain.shipment import GOODS_LEFT, Stage
from fulfillment.store import Plan, add_timeline, lock_plan_by_order
from fulfillment.tables import (
    FulfillmentRow,
    OrderCancellationRow,
    ShipmentLineRow,
    ShipmentRow,
    TaskRow,
)
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.orders import OrderCancelled, OrderConfirmed

log = logging.getLogger(__name__)
_ID_NAMESPACE = uuid.UUID("5d3c4f0e-7a51-4c8e-9d0b-1f2a3b4c5d6e")


def fulfillment_id_for(order_id: str) -> str:
    """Deterministic: two replicas planning the same order collide on the primary key."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"fulfillment:{order_id}"))


async def create_plan(
    session: AsyncSession,
    settings: Settings,
    order: OrderConfirmed,
    event: Envelope,
    now: datetime,
) -> Plan | None:
    """Plan the order unless it has a plan already (redelivery, replay, re-confirmation) or was
    cancelled before its confirmation got here."""
    existing = (
        await session.exec(
            select(FulfillmentRow.id).where(FulfillmentRow.order_id == order.order_id)
        )
    ).first()
    if existing is not None:
        log.info("order %s already has fulfilment %s", order.order_number, existing)
        return None
    cancelled = await session.get(OrderCancellationRow, order.order_id)
    if cancelled is not None and cancelled.order_version > order.version:
        log.info("order %s was cancelled before it was planned", order.order_number)
        return None

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
    row = FulfillmentRow(
        id=fulfillment_id_for(order.order_id),
        order_id=order.order_id,
        order_number=order.order_number,
        order_version=order.version,
        status=FulfillmentStatus.PLANNED,
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
    )
    session.add(row)
    await session.flush()  # the plan row before its children (foreign keys)
    plan = Plan(row=row, shipments=[], lines={}, tasks=[])
    for draft_shipment in draft.shipments:
        shipment = ShipmentRow(
            id=str(uuid.uuid4()),
            fulfillment_id=row.id,
            seq=draft_shipment.seq,
            status=Stage.PLANNED,
            planned_date=draft_shipment.planned_date,
            external_ids=[],
            created_at=now,
            updated_at=now,
        )
        plan.shipments.append(shipment)
        plan.lines[shipment.id] = [
            ShipmentLineRow(
                shipment_id=shipment.id,
                line_no=line.line_no,
                fulfillment_id=row.id,
                sku=line.sku,
                description=line.description,
                unit=line.unit,
                quantity=line.quantity,
                delivered_quantity=0,
                stage=Stage.PLANNED,
                serial_numbers=[],
            )
            for line in draft_shipment.lines
        ]
    for draft_task in draft.tasks:
        plan.tasks.append(
            TaskRow(
                id=str(uuid.uuid4()),
                fulfillment_id=row.id,
                seq=draft_task.seq,
                line_no=draft_task.line.line_no,
                sku=draft_task.line.sku,
                description=draft_task.line.description,
                kind=draft_task.kind,
                quantity=draft_task.line.quantity,
                unit=draft_task.line.unit,
                assignee=draft_task.assignee,
                due_date=draft_task.due_date,
                status=TaskStatus.OPEN,
                created_at=now,
                updated_at=now,
            )
        )
    session.add_all(plan.shipments)
    await session.flush()
    session.add_all([line for lines in plan.lines.values() for line in lines])
    session.add_all(plan.tasks)
    row.next_due_date = plan.next_due()
    add_timeline(
        session,
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
    tracking.emit_for(session, settings, plan, outgoing.PLANNED, outgoing.planned(plan), event)
    await topic_status.apply_pending(session, settings, plan, now)
    return plan


async def cancel_order(
    session: AsyncSession,
    settings: Settings,
    cancelled: OrderCancelled,
    now: datetime,
) -> CancelEffect | None:
    """Before dispatch the plan is cancelled; after dispatch the cancellation is flagged only
    (orders refuses it then, so one that still arrives needs a human)."""
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
    effect = progress.cancellation_effect(plan.status, goods_left=goods_left)
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
        detail["note"] = "goods were already dispatched: the plan goes on; resolve by hand"
        kind = "cancellation_flagged"
        log.warning(
            "order %s cancelled after dispatch: fulfilment %s flagged",
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
