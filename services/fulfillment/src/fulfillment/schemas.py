"""Request and response models of the fulfillment API (never the table models)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from fulfillment.domain.progress import FulfillmentStatus
from salesflow.api.fields import CalendarDate, Timestamp
from salesflow.contracts.events.logistics import ShipmentStatus

Text = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=2000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProofOfDeliveryIn(_In):
    signed_by: Text | None = None
    received_at: CalendarDate | None = None
    document_url: Annotated[str, Field(max_length=1000)] | None = None
    reference: Text | None = None


class StatusLineIn(_In):
    line_no: StrictInt = Field(ge=1, le=100_000, description="Order line number")
    sku: Text
    quantity: Decimal = Field(gt=0, max_digits=20, decimal_places=8)
    serial_numbers: list[Text] = Field(default_factory=list, max_length=10_000)


class StatusEventIn(_In):
    """A status event of a production or logistics system: the ``shipment.status`` payload of
    ``logistics.status.v1``. Order and shipment fields may be left out (the path names the
    shipment); when present they must match it."""

    status_event_id: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="Unique id of this status event: repeating it changes nothing"
    )
    shipment_id: Annotated[str, Field(max_length=128)] | None = None
    external_shipment_id: Text | None = Field(None, description="The sender's consignment id")
    order_id: Annotated[str, Field(max_length=128)] | None = None
    order_number: Text | None = None
    status: ShipmentStatus
    occurred_at: Timestamp = Field(description="When it happened (orders late arrivals)")
    carrier: Text | None = None
    tracking_number: Text | None = None
    tracking_url: Annotated[str, Field(max_length=1000)] | None = None
    proof_of_delivery: ProofOfDeliveryIn | None = None
    lines: list[StatusLineIn] = Field(
        default_factory=list,
        max_length=1000,
        description="Lines and quantities concerned (delivered: with serial numbers); "
        "empty: every line of the shipment not yet delivered",
    )
    reason: LongText | None = Field(None, description="For delivery_failed and returned")
    note: LongText | None = None


class TaskCompleteIn(_In):
    completed_at: Timestamp | None = Field(None, description="Default: now")
    note: LongText | None = None


class ShipmentLineOut(BaseModel):
    line_no: int
    sku: str
    description: str
    unit: str
    quantity: Decimal
    delivered_quantity: Decimal
    stage: str = Field(description="Stage of the part not yet delivered")
    serial_numbers: list[str]
    delivered_on: date | None


class ShipmentOut(BaseModel):
    id: str
    fulfillment_id: str
    seq: int
    status: str
    planned_date: date | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    external_ids: list[str]
    proof_of_delivery: dict[str, Any] | None
    failure_reason: str | None
    dispatched_at: datetime | None
    delivered_at: datetime | None
    last_status_at: datetime | None
    version: int
    lines: list[ShipmentLineOut]


class TaskOut(BaseModel):
    id: str
    fulfillment_id: str
    line_no: int
    sku: str
    description: str
    kind: str
    quantity: Decimal
    unit: str
    assignee: str | None
    due_date: date | None
    status: str
    completed_at: datetime | None
    completed_by: str | None
    note: str | None
    version: int


class TimelineEntry(BaseModel):
    kind: str = Field(
        description="planned, status, status_rejected, task_completed, cancelled, "
        "cancellation_flagged, completed"
    )
    occurred_at: datetime
    recorded_at: datetime
    channel: str = Field(description="topic, webhook, api or system")
    actor: str | None
    shipment_id: str | None
    task_id: str | None
    status: str | None
    status_event_id: str | None
    detail: dict[str, Any]


class FulfillmentOut(BaseModel):
    id: str
    order_id: str
    order_number: str
    status: FulfillmentStatus
    customer_name: str
    owner: str | None
    team: str | None
    next_due_date: date | None
    overdue: bool
    cancellation_flagged: bool
    version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class FulfillmentDetail(FulfillmentOut):
    customer: dict[str, Any]
    account_id: str | None
    ship_to: dict[str, Any]
    requested_delivery_date: date | None
    cancellation_reason: str | None
    cancelled_at: datetime | None
    correlation_id: str
    shipments: list[ShipmentOut]
    tasks: list[TaskOut]
    timeline: list[TimelineEntry]


class FulfillmentPage(BaseModel):
    items: list[FulfillmentOut]
    next_cursor: str | None = None


class StatusEventResult(BaseModel):
    outcome: Literal["applied", "duplicate"]
    status_event_id: str
    fulfillment_id: str
    fulfillment_status: FulfillmentStatus
    shipment: ShipmentOut


class TaskResult(BaseModel):
    task: TaskOut
    fulfillment_status: FulfillmentStatus
    fulfillment_version: int
