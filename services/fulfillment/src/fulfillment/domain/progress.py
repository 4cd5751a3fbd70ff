"""Rules of a whole fulfilment: its status, when it is due, when it is complete, what a
cancellation does to it, and when a task may be completed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from salesflow.contracts.events.fulfillment import FulfillmentStatus

CLOSED = frozenset({FulfillmentStatus.COMPLETED, FulfillmentStatus.CANCELLED})


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class GoodsLine:
    line_no: int
    quantity: Decimal
    delivered: Decimal


@dataclass(frozen=True)
class Task:
    status: TaskStatus
    due_date: date | None = None


def derive_status(
    goods: Sequence[GoodsLine], tasks: Sequence[Task], *, started: bool, cancelled: bool
) -> FulfillmentStatus:
    """``started``: some status was reported for any shipment."""
    if cancelled:
        return FulfillmentStatus.CANCELLED
    goods_done = all(g.delivered >= g.quantity for g in goods)
    tasks_done = all(t.status is TaskStatus.DONE for t in tasks)
    if goods_done and tasks_done:
        return FulfillmentStatus.COMPLETED
    if goods and goods_done:
        return FulfillmentStatus.DELIVERED
    if any(g.delivered > 0 for g in goods):
        return FulfillmentStatus.PARTIALLY_DELIVERED
    if started or any(t.status is TaskStatus.DONE for t in tasks):
        return FulfillmentStatus.IN_PROGRESS
    return FulfillmentStatus.PLANNED


def goods_delivery(goods: Sequence[GoodsLine]) -> str:
    """``delivered`` when every goods line is fully delivered, else ``partially_delivered``."""
    return "delivered" if all(g.delivered >= g.quantity for g in goods) else "partially_delivered"


def next_due(open_dates: Iterable[date | None]) -> date | None:
    """The earliest date an open shipment or task is due (None: nothing open or no dates)."""
    return min((d for d in open_dates if d is not None), default=None)


def is_overdue(status: FulfillmentStatus, due: date | None, today: date) -> bool:
    return status not in CLOSED and due is not None and due < today


class CancelEffect(StrEnum):
    CANCEL = "cancel"  # nothing has left the warehouse, no work done: the plan is cancelled
    FLAG = "flag"  # goods on their way or delivered, or a task done: refused upstream, flagged
    NONE = "none"  # already cancelled


def cancellation_effect(
    status: FulfillmentStatus, *, goods_left: bool, task_done: bool = False
) -> CancelEffect:
    """``task_done``: service work was performed (``task.completed``), which orders treats like
    a dispatch; a cancellation that still arrives crossed it and needs a human."""
    if status is FulfillmentStatus.CANCELLED:
        return CancelEffect.NONE
    if goods_left or task_done or status is FulfillmentStatus.COMPLETED:
        return CancelEffect.FLAG
    return CancelEffect.CANCEL


def task_completion_refusal(task: TaskStatus, fulfillment: FulfillmentStatus) -> str | None:
    """Why the task cannot be completed now, or None."""
    if fulfillment is FulfillmentStatus.CANCELLED or task is TaskStatus.CANCELLED:
        return "the task was cancelled together with its order"
    if task is TaskStatus.DONE:
        return "the task is already done"
    return None


def report_refusal(fulfillment: FulfillmentStatus) -> str | None:
    """Why no status report is accepted for any shipment of the fulfilment, or None.

    A completed fulfilment still takes reports that fit into its history (a dispatch reported
    after the delivery that completed it); the shipment state machine refuses anything later."""
    if fulfillment is FulfillmentStatus.CANCELLED:
        return "the fulfilment was cancelled together with its order"
    return None
