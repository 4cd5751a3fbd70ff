"""Events of the orders service (phases 5-6): topic ``orders.order.v1``, key ``order_id``.

``order.confirmed`` is the stable contract for external production and logistics systems:
order number, customer, ship-to, lines (SKU, description, quantity, unit, goods or service),
requested delivery date and Incoterms. The journey's correlation id travels in the
``ce_correlationid`` header; a system answering on ``logistics.status.v1`` copies it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    Id,
    Incoterm,
    LineKind,
    PricedLine,
    Quantity,
    SelectedOption,
    Terms,
    Totals,
    UnitCode,
    UserId,
    ValueObject,
    Version,
)
from salesflow.contracts.types import CurrencyCode, Payload

TOPIC = register_topic(
    TopicSpec(
        name="orders.order.v1",
        producer="orders",
        partitions=6,
        description="Orders from intake through confirmation or rejection to completion. "
        "order.confirmed is the contract for production and logistics. Key: order_id.",
        consumers=("fulfillment", "logistics", "aftersales", "controlling"),
    )
)


class OrderStatus(StrEnum):
    RECEIVED = "received"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    IN_FULFILLMENT = "in_fulfillment"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"
    COMPLETED = "completed"


class OrderChannel(StrEnum):
    OFFER = "offer"  # from offer.accepted
    ORDER_DESK = "order_desk"  # direct intake by the order desk
    WEB_SHOP = "web_shop"
    EDI = "edi"


class OrderLine(ValueObject):
    """An order line as production and logistics need it."""

    line_no: int = Field(ge=1, description="Line number, referenced by status events")
    sku: str = Field(min_length=1, description="Product SKU")
    description: str = Field(min_length=1, description="Line text (product name and details)")
    quantity: Quantity
    unit: UnitCode
    kind: LineKind = Field(description="`goods` are shipped, `service` lines are implemented")
    options: list[SelectedOption] = Field(default_factory=list, description="Configuration")
    requested_delivery_date: date | None = Field(
        None, description="Line-specific requested date, overrides the order's"
    )


class RejectionReason(ValueObject):
    code: str = Field(
        min_length=1,
        description="Machine-readable reason",
        examples=["credit_limit_exceeded", "missing_ship_to", "invalid_line"],
    )
    message: str = Field(description="Human-readable explanation")
    line_no: int | None = Field(None, ge=1, description="Offending line, if line-specific")


class OrderEvent(Payload):
    """Fields common to every order event."""

    order_id: Id
    order_number: str = Field(min_length=1, examples=["SO-2026-000123"])
    version: Version
    status: OrderStatus = Field(description="Status after this event")
    channel: OrderChannel = Field(description="How the order came in")
    customer: CompanySnapshot
    account_id: Id | None = Field(None, description="After-sales account id (existing customer)")
    owner: UserId | None = Field(None, description="Account or opportunity owner")
    team: str | None = None
    currency: CurrencyCode
    offer_id: Id | None = Field(None, description="Accepted offer this order comes from")
    offer_version: int | None = Field(None, ge=1, description="Accepted offer version")
    opportunity_id: Id | None = None


@register_event("order.received.v1", TOPIC, "An order entered the system, not yet validated.")
class OrderReceived(OrderEvent):
    bill_to: Address | None = None
    ship_to: Address | None = None
    lines: list[PricedLine] = Field(min_length=1)
    totals: Totals
    terms: Terms
    customer_po_number: str | None = None


@register_event(
    "order.confirmed.v1",
    TOPIC,
    "The order passed validation: the stable contract for production and logistics.",
)
class OrderConfirmed(OrderEvent):
    bill_to: Address
    ship_to: Address
    delivery_contact: Contact | None = Field(None, description="Whom the carrier contacts")
    lines: list[OrderLine] = Field(min_length=1)
    requested_delivery_date: date | None = Field(None, description="Requested delivery date")
    incoterms: Incoterm | None = Field(None, description="Incoterms 2020 rule")
    incoterms_place: str | None = Field(None, description="Named place of the Incoterms rule")
    payment_terms: str | None = None
    customer_po_number: str | None = None
    totals: Totals = Field(description="Order value")


@register_event("order.rejected.v1", TOPIC, "The order failed validation.")
class OrderRejected(OrderEvent):
    reasons: list[RejectionReason] = Field(min_length=1)


@register_event("order.cancelled.v1", TOPIC, "The order was cancelled before dispatch.")
class OrderCancelled(OrderEvent):
    reason: str = Field(min_length=1)
    cancelled_by: UserId


@register_event("order.completed.v1", TOPIC, "Everything was delivered and implemented.")
class OrderCompleted(OrderEvent):
    fulfillment_id: Id
    totals: Totals = Field(description="Order value")
