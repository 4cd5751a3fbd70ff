"""Events of the fulfillment service (phase 7): topic ``fulfillment.fulfillment.v1``, key
``fulfillment_id``.

``fulfillment.completed`` carries every delivered item with its serial numbers: after-sales
builds the account's installed base from it alone. ``task.completed`` is the service counterpart
of ``shipment.dispatched``: work was performed for the order (orders ends the cancellation window).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    DeliveredLine,
    Id,
    LineKind,
    ProofOfDelivery,
    Quantity,
    UnitCode,
    UserId,
    ValueObject,
    Version,
)
from salesflow.contracts.types import Payload, UtcDateTime

TOPIC = register_topic(
    TopicSpec(
        name="fulfillment.fulfillment.v1",
        producer="fulfillment",
        partitions=6,
        description="Fulfilment plans, shipments and completion of confirmed orders. "
        "Key: fulfillment_id.",
        consumers=("orders", "aftersales", "controlling"),
    )
)


class FulfillmentStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ShipmentLine(ValueObject):
    line_no: int = Field(ge=1, description="Order line number")
    sku: str = Field(min_length=1)
    quantity: Quantity


class PlannedShipment(ValueObject):
    shipment_id: Id
    lines: list[ShipmentLine] = Field(min_length=1)
    planned_date: date | None = Field(None, description="Planned delivery date")


class PlannedTask(ValueObject):
    """An implementation task for a service line."""

    task_id: Id
    line_no: int = Field(ge=1, description="Order line number of the service")
    sku: str = Field(min_length=1)
    kind: str = Field(description="Task kind", examples=["installation", "commissioning"])
    assignee: UserId | None = None
    due_date: date | None = None


class DeliveredItem(ValueObject):
    """An order line as finally delivered (goods) or performed (services)."""

    line_no: int = Field(ge=1, description="Order line number")
    sku: str = Field(min_length=1, description="Product SKU")
    description: str | None = Field(None, description="Line text")
    kind: LineKind
    quantity: Quantity = Field(description="Delivered quantity")
    unit: UnitCode
    serial_numbers: list[str] = Field(default_factory=list, description="Serials of the units")
    delivered_on: date = Field(description="Delivery date (service lines: completion date)")


class FulfillmentEvent(Payload):
    """Fields common to every fulfilment event."""

    fulfillment_id: Id
    version: Version
    status: FulfillmentStatus = Field(description="Fulfilment status after this event")
    order_id: Id
    order_number: str = Field(min_length=1)


@register_event("fulfillment.planned.v1", TOPIC, "A confirmed order got its fulfilment plan.")
class FulfillmentPlanned(FulfillmentEvent):
    customer: CompanySnapshot
    account_id: Id | None = None
    owner: UserId | None = Field(None, description="Owner of the order's customer")
    team: str | None = None
    ship_to: Address
    shipments: list[PlannedShipment] = Field(default_factory=list, description="For goods lines")
    tasks: list[PlannedTask] = Field(default_factory=list, description="For service lines")


@register_event("shipment.dispatched.v1", TOPIC, "A shipment left the warehouse.")
class ShipmentDispatched(FulfillmentEvent):
    shipment_id: Id
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = Field(None, description="Carrier's tracking page")
    lines: list[DeliveredLine] = Field(min_length=1, description="Dispatched quantities")
    dispatched_at: UtcDateTime
    status_event_id: Id | None = Field(None, description="Logistics status event behind it")


@register_event("shipment.delivered.v1", TOPIC, "A shipment (or part of it) was delivered.")
class ShipmentDelivered(FulfillmentEvent):
    shipment_id: Id
    lines: list[DeliveredLine] = Field(min_length=1, description="Delivered quantities, serials")
    delivered_at: UtcDateTime
    proof_of_delivery: ProofOfDelivery | None = None
    order_delivery: Literal["partially_delivered", "delivered"] = Field(
        description="Whether every goods line of the order is now fully delivered"
    )
    status_event_id: Id | None = Field(None, description="Logistics status event behind it")


@register_event("fulfillment.completed.v1", TOPIC, "Every line delivered and every task done.")
class FulfillmentCompleted(FulfillmentEvent):
    customer: CompanySnapshot
    account_id: Id | None = None
    owner: UserId | None = Field(None, description="Owner of the order's customer")
    team: str | None = None
    ship_to: Address = Field(description="Where the items are installed")
    items: list[DeliveredItem] = Field(min_length=1)
    completed_at: UtcDateTime


@register_event(
    "task.completed.v1",
    TOPIC,
    "An implementation task (installation, commissioning …) of a service line was done.",
)
class TaskCompleted(FulfillmentEvent):
    task_id: Id
    line_no: int = Field(ge=1, description="Order line number of the service")
    sku: str = Field(min_length=1)
    kind: str = Field(description="Task kind", examples=["installation", "commissioning"])
    completed_at: UtcDateTime = Field(description="When the work was done")
    # as long as fulfillment keeps it (a JWT ``sub`` has no length limit of its own)
    completed_by: str = Field(
        min_length=1, max_length=200, description="Who recorded the completion (JWT `sub`)"
    )
