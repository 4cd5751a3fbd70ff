"""Status events published by external production and logistics systems: topic
``logistics.status.v1``, key ``order_id``.

The same payload is accepted by fulfillment's webhook ``POST /shipments/{id}/events``. Each event
has its own ``status_event_id``: a repeated event changes nothing, and ``occurred_at`` orders
events that arrive out of order. Producers should copy ``ce_correlationid`` from the
``order.confirmed`` they act on and set ``ce_causationid`` to its ``ce_id``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.events.common import DeliveredLine, Id, ProofOfDelivery
from salesflow.contracts.types import Payload, UtcDateTime

TOPIC = register_topic(
    TopicSpec(
        name="logistics.status.v1",
        producer="logistics",
        partitions=6,
        description="Production and shipment status reported by external production and "
        "logistics systems. Key: order_id.",
        external=True,
        consumers=("fulfillment", "controlling"),
    )
)


class ShipmentStatus(StrEnum):
    IN_PRODUCTION = "in_production"
    READY = "ready"
    PICKED = "picked"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED = "returned"


@register_event(
    "shipment.status.v1", TOPIC, "A production or logistics status of (part of) an order."
)
class ShipmentStatusReported(Payload):
    status_event_id: Id = Field(description="Unique id of this status event (dedupe key)")
    shipment_id: Id | None = Field(
        None, description="Fulfillment's shipment id, when the system knows it"
    )
    external_shipment_id: str | None = Field(
        None, description="The logistics system's own shipment or consignment id"
    )
    order_id: Id
    order_number: str = Field(min_length=1)
    status: ShipmentStatus
    occurred_at: UtcDateTime = Field(description="When the status happened (not when sent)")
    carrier: str | None = Field(None, description="Carrier (dispatched and later)")
    tracking_number: str | None = Field(None, description="Carrier tracking number")
    tracking_url: str | None = None
    proof_of_delivery: ProofOfDelivery | None = Field(None, description="With `delivered`")
    lines: list[DeliveredLine] = Field(
        default_factory=list,
        description="Order lines and quantities this status concerns (delivered quantities and "
        "serial numbers with `delivered`); empty means the whole shipment",
    )
    reason: str | None = Field(None, description="Why, for `delivery_failed` and `returned`")
    note: str | None = None
