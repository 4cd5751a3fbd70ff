"""The order's state machine.

received → confirmed | rejected (validation, in the unit of work that takes the order in);
confirmed → in_fulfillment → partially_delivered → delivered → completed, driven by fulfilment
events; confirmed | in_fulfillment → cancelled while nothing has been dispatched and no service
work (a completed task) has been performed.

Fulfilment events may arrive out of order (they are keyed by fulfilment, and a late redelivery
can overtake a newer event): the status only ever moves forward along that chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesflow.contracts.events.orders import OrderStatus

S = OrderStatus

# Position on the fulfilment chain; a lower target than the current status is stale.
_PROGRESS = {
    S.CONFIRMED: 0,
    S.IN_FULFILLMENT: 1,
    S.PARTIALLY_DELIVERED: 2,
    S.DELIVERED: 3,
    S.COMPLETED: 4,
}

OPEN_STATUSES = (S.CONFIRMED, S.IN_FULFILLMENT, S.PARTIALLY_DELIVERED, S.DELIVERED)
"""Orders whose value counts against the customer's credit limit."""

FINAL_STATUSES = (S.REJECTED, S.CANCELLED, S.COMPLETED)


def fulfilment_target(event_type: str, order_delivery: str | None = None) -> OrderStatus:
    """The order status a fulfilment event stands for."""
    name = event_type.removesuffix(".v1")
    if name in ("fulfillment.planned", "shipment.dispatched", "task.completed"):
        return S.IN_FULFILLMENT
    if name == "shipment.delivered":
        return S.DELIVERED if order_delivery == "delivered" else S.PARTIALLY_DELIVERED
    if name == "fulfillment.completed":
        return S.COMPLETED
    raise ValueError(f"{event_type} is not a fulfilment event")


def implies_dispatch(event_type: str) -> bool:
    """Whether the event proves that goods have left (cancellation is over from then on)."""
    return event_type.removesuffix(".v1") in ("shipment.dispatched", "shipment.delivered")


def implies_work(event_type: str) -> bool:
    """Whether the event proves that service work was performed for the order (the service
    counterpart of a dispatch: cancellation is over from then on)."""
    return event_type.removesuffix(".v1") == "task.completed"


@dataclass(frozen=True)
class Advance:
    status: OrderStatus  # the status after the event (may be unchanged)
    changed: bool
    ignored_because: str | None = None  # why a fulfilment event did not move the order


def advance(current: OrderStatus, target: OrderStatus) -> Advance:
    """Move along the fulfilment chain, never backwards; final states other than completed
    (rejected, cancelled) are not moved by fulfilment events."""
    if current in (S.REJECTED, S.CANCELLED, S.RECEIVED):
        return Advance(current, False, f"order is {current.value}")
    if _PROGRESS[target] <= _PROGRESS[current]:
        return Advance(current, False, f"stale: order is already {current.value}")
    return Advance(target, True)


def cancellation_refused(
    status: OrderStatus, dispatched: bool, work_performed: bool = False
) -> str | None:
    """None if the order may be cancelled now, else the reason it may not."""
    if status in (S.CANCELLED, S.REJECTED, S.COMPLETED):
        return f"order is {status.value}"
    if dispatched or status in (S.PARTIALLY_DELIVERED, S.DELIVERED):
        return "goods of this order have been dispatched already"
    if work_performed:
        return "service work of this order has been performed already"
    if status not in (S.CONFIRMED, S.IN_FULFILLMENT):
        return f"order is {status.value}"
    return None
