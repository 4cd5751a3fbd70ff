"""Order status after intake: cancellation and the fulfilment events."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import events
from orders.domain.lifecycle import (
    advance,
    cancellation_refused,
    fulfilment_target,
    implies_dispatch,
    implies_work,
)
from orders.tables import OrderRow, StatusChangeRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.fulfillment import TaskCompleted
from salesflow.contracts.events.orders import OrderStatus
from salesflow.messaging.handlers import HandlerContext, PermanentError, emit
from salesflow.settings import ServiceSettings

log = logging.getLogger(__name__)

# Statements of the fulfilment events' fast path, built once: Core on table columns (no ORM
# compile or result machinery) and with bound parameters, so SQLAlchemy neither rebuilds them
# nor recomputes their cache keys for each of the events (one per shipment step of every order).
_ORDERS = OrderRow.__table__
_ORDER_STATE = (
    select(
        _ORDERS.c.order_number,
        _ORDERS.c.status,
        _ORDERS.c.version,
        _ORDERS.c.fulfillment_id,
        _ORDERS.c.dispatched_at,
    )
    .where(_ORDERS.c.id == bindparam("order_id"))
    .with_for_update()
)
# the SET clause is whatever the parameters name besides ``target_id``
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("target_id"))
_INSERT_CHANGE = insert(StatusChangeRow.__table__)
TASK_COMPLETED = "task.completed.v1"
# service work is known from its history row (kept whether or not the status changed)
_WORK_PERFORMED = (
    select(StatusChangeRow.__table__.c.id)
    .where(
        StatusChangeRow.__table__.c.order_id == bindparam("order_id"),
        StatusChangeRow.__table__.c.source == TASK_COMPLETED,
    )
    .limit(1)
)


class CancelRefused(Exception):
    pass


async def locked_order(session: AsyncSession, order_id: str) -> OrderRow | None:
    """The order row, locked for the rest of the transaction (PostgreSQL)."""
    stmt = (
        select(OrderRow)
        .where(OrderRow.id == order_id)
        .with_for_update()
        # fresh from the database: the fulfilment events' fast path updates with Core
        .execution_options(populate_existing=True)
    )
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
    # the order row is locked: a task.completed handled concurrently has committed or waits
    work = (await session.execute(_WORK_PERFORMED, {"order_id": order.id})).first() is not None
    refused = cancellation_refused(
        OrderStatus(order.status), order.dispatched_at is not None, work_performed=work
    )
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
    ``order.completed``, once. A completed task (service work) is always kept in the history.

    One event per shipment step of every order comes through here, so the usual steps read
    only the few columns they need and write with Core (an UPDATE and the history row); the
    completion, which emits an event built from the whole order, takes the ORM path."""
    payload = ctx.payload()
    event = ctx.event
    if fulfilment_target(event.type, getattr(payload, "order_delivery", None)) is (
        OrderStatus.COMPLETED
    ):
        await _complete(ctx, payload, now)
        return
    state = (await ctx.session.execute(_ORDER_STATE, {"order_id": payload.order_id})).first()
    if state is None:
        raise _unknown(event, payload.order_id)
    changes: dict[str, object] = {}
    if state.fulfillment_id is None:
        changes["fulfillment_id"] = payload.fulfillment_id
    if implies_dispatch(event.type) and state.dispatched_at is None:
        changes["dispatched_at"] = _dispatched_at(payload, now)
    step = advance(
        OrderStatus(state.status),
        fulfilment_target(event.type, getattr(payload, "order_delivery", None)),
    )
    history: dict[str, object] | None = None
    if step.changed:
        changes.update(status=step.status.value, version=state.version + 1, updated_at=now)
        history = {"status": step.status.value, "note": None}
    elif state.status == OrderStatus.CANCELLED and implies_dispatch(event.type):
        log.warning("order %s was cancelled but %s arrived", state.order_number, event.type)
        history = {"status": state.status, "note": _DISPATCHED_AFTER_CANCEL}
    if implies_work(event.type):
        # kept even without a status change: this row is what ends the cancellation window
        note = _work_note(payload)
        if state.status == OrderStatus.CANCELLED:
            log.warning("order %s was cancelled but %s arrived", state.order_number, event.type)
            note = f"{_WORK_AFTER_CANCEL} ({note})"
        history = {"status": history["status"] if history else state.status, "note": note}
    if changes:
        await ctx.session.execute(_UPDATE_ORDER, {"target_id": payload.order_id, **changes})
    if history is not None:
        await ctx.session.execute(
            _INSERT_CHANGE,
            {
                "order_id": payload.order_id,
                "previous_status": state.status,
                "at": now,
                "source": event.type,
                "event_id": event.id,
                "actor": None,
                **history,
            },
        )


_DISPATCHED_AFTER_CANCEL = "goods dispatched after the order was cancelled: clarify with logistics"
_WORK_AFTER_CANCEL = "service work performed after the order was cancelled: clarify with fulfilment"


def _work_note(task: TaskCompleted) -> str:
    return (
        f"{task.kind} done (task {task.task_id}, line {task.line_no}, {task.sku}) "
        f"by {task.completed_by} at {task.completed_at.isoformat()}"
    )


def _dispatched_at(payload: object, now: datetime) -> datetime:
    return getattr(payload, "dispatched_at", None) or getattr(payload, "delivered_at", now)


def _unknown(event: Envelope, order_id: str) -> UnknownOrder:
    # orders emits order.confirmed before fulfilment can know the order: this event is for an
    # order that is not ours (another installation or a wrong id)
    return UnknownOrder(f"{event.type} {event.id} names unknown order {order_id}")


async def _complete(ctx: HandlerContext, payload: object, now: datetime) -> None:
    event = ctx.event
    order = await locked_order(ctx.session, payload.order_id)  # type: ignore[attr-defined]
    if order is None:
        raise _unknown(event, payload.order_id)  # type: ignore[attr-defined]
    if order.fulfillment_id is None:
        order.fulfillment_id = payload.fulfillment_id  # type: ignore[attr-defined]
    step = advance(OrderStatus(order.status), OrderStatus.COMPLETED)
    if not step.changed:
        ctx.session.add(order)
        return
    order.completed_at = now
    order.fulfillment_id = payload.fulfillment_id  # type: ignore[attr-defined]
    _change(ctx.session, order, step.status, now, source=event.type, event_id=event.id)
    ctx.emit("order.completed.v1", order.id, events.completed(order))


class UnknownOrder(PermanentError):
    """A fulfilment event for an order this service never took in: retrying cannot help."""
