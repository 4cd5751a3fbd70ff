"""Order status after intake: cancellation and the fulfilment events."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import events
from orders.domain.lifecycle import (
    advance,
    cancellation_refused,
    fulfilment_target,
    implies_dispatch,
)
from orders.tables import OrderRow, StatusChangeRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.orders import OrderStatus
from salesflow.messaging.handlers import HandlerContext, PermanentError, emit
from salesflow.settings import ServiceSettings

log = logging.getLogger(__name__)


class CancelRefused(Exception):
    pass


async def locked_order(session: AsyncSession, order_id: str) -> OrderRow | None:
    """The order row, locked for the rest of the transaction (PostgreSQL)."""
    stmt = select(OrderRow).where(OrderRow.id == order_id).with_for_update()
    return (await session.exec(stmt)).first()


def _change(
    session: AsyncSession,
    order: OrderRow,
    status: OrderStatus,
    now: datetime,
    *,
    source: str,
    event_id: str | None = None,
    actor: str | None = None,
    note: str | None = None,
) -> None:
    previous = order.status
    order.status = status.value
    order.version += 1
    order.updated_at = now
    session.add(order)
    session.add(
        StatusChangeRow(
            order_id=order.id,
            status=status.value,
            previous_status=previous,
            at=now,
            source=source,
            event_id=event_id,
            actor=actor,
            note=note,
        )
    )


async def cancel(
    session: AsyncSession,
    settings: ServiceSettings,
    order: OrderRow,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> Envelope:
    refused = cancellation_refused(OrderStatus(order.status), order.dispatched_at is not None)
    if refused:
        raise CancelRefused(refused)
    order.cancel_reason = reason
    order.cancelled_by = actor
    _change(
        session,
        order,
        OrderStatus.CANCELLED,
        now,
        source="POST /orders/{id}/cancel",
        actor=actor,
        note=reason,
    )
    event = emit(
        session,
        settings,
        "order.cancelled.v1",
        order.id,
        events.cancelled(order),
        correlation_id=order.correlation_id,
    )
    return event


async def on_fulfilment_event(ctx: HandlerContext, now: datetime) -> None:
    """Move the order along the fulfilment chain (never backwards); completion ⇒
    ``order.completed``, once."""
    payload = ctx.payload()
    event = ctx.event
    order = await locked_order(ctx.session, payload.order_id)
    if order is None:
        # orders emits order.confirmed before fulfilment can know the order: this event is
        # for an order that is not ours (another installation or a wrong id)
        raise UnknownOrder(f"{event.type} {event.id} names unknown order {payload.order_id}")
    if order.fulfillment_id is None:
        order.fulfillment_id = payload.fulfillment_id
    if implies_dispatch(event.type) and order.dispatched_at is None:
        order.dispatched_at = getattr(payload, "dispatched_at", None) or getattr(
            payload, "delivered_at", now
        )
    target = fulfilment_target(event.type, getattr(payload, "order_delivery", None))
    step = advance(OrderStatus(order.status), target)
    if not step.changed:
        if order.status == OrderStatus.CANCELLED and implies_dispatch(event.type):
            log.warning("order %s was cancelled but %s arrived", order.order_number, event.type)
            ctx.session.add(
                StatusChangeRow(
                    order_id=order.id,
                    status=order.status,
                    previous_status=order.status,
                    at=now,
                    source=event.type,
                    event_id=event.id,
                    note="goods dispatched after the order was cancelled: clarify with logistics",
                )
            )
        ctx.session.add(order)
        return
    if step.status == OrderStatus.COMPLETED:
        order.completed_at = now
        order.fulfillment_id = payload.fulfillment_id
    _change(ctx.session, order, step.status, now, source=event.type, event_id=event.id)
    if step.status == OrderStatus.COMPLETED:
        ctx.emit("order.completed.v1", order.id, events.completed(order))


class UnknownOrder(PermanentError):
    """A fulfilment event for an order this service never took in: retrying cannot help."""
