"""Tables of the fulfillment service (migration 0002 creates them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, BigInteger, Column, Integer, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime


class QuantityType(TypeDecorator[Decimal]):
    """Exact decimals: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float)."""

    impl = sa.Numeric(24, 8)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric(24, 8))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return normalized(Decimal(value))


def normalized(value: Decimal) -> Decimal:
    """2.00000000 -> 2, 7.50 -> 7.5 (never 1E+1)."""
    return Decimal(format(value.normalize(), "f"))


_BigId = BigInteger().with_variant(Integer(), "sqlite")


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _json(nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_column=Column(JSON, nullable=nullable))


def _quantity() -> Any:
    return Field(sa_column=Column(QuantityType(), nullable=False))


class FulfillmentRow(SQLModel, table=True):
    """One fulfilment plan per order (unique ``order_id``)."""

    __tablename__ = "fulfillments"

    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(max_length=128, unique=True)
    order_number: str = Field(max_length=128, index=True)
    order_version: int
    status: str = Field(max_length=40, index=True)
    owner: str | None = Field(default=None, max_length=200, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    account_id: str | None = Field(default=None, max_length=128)
    customer: dict = _json()
    ship_to: dict = _json()
    requested_delivery_date: date | None = None
    next_due_date: date | None = Field(default=None, index=True)
    cancellation_flagged: bool = False
    cancellation_reason: str | None = Field(default=None, sa_column=Column(sa.Text))
    cancelled_at: datetime | None = _utc(nullable=True)
    completed_at: datetime | None = _utc(nullable=True)
    correlation_id: str = Field(max_length=128)
    version: int = 1
    created_at: datetime = _utc(index=True)
    updated_at: datetime = _utc()


class ShipmentRow(SQLModel, table=True):
    __tablename__ = "fulfillment_shipments"

    id: str = Field(primary_key=True, max_length=36)
    fulfillment_id: str = Field(foreign_key="fulfillments.id", max_length=36, index=True)
    seq: int
    status: str = Field(max_length=40)
    planned_date: date | None = None
    carrier: str | None = Field(default=None, max_length=200)
    tracking_number: str | None = Field(default=None, max_length=200)
    tracking_url: str | None = Field(default=None, max_length=1000)
    external_ids: list = _json()
    proof_of_delivery: dict | None = _json(nullable=True)
    failure_reason: str | None = Field(default=None, sa_column=Column(sa.Text))
    dispatched_at: datetime | None = _utc(nullable=True)
    delivered_at: datetime | None = _utc(nullable=True)
    last_status_at: datetime | None = _utc(nullable=True)
    version: int = 1
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class ShipmentLineRow(SQLModel, table=True):
    """An order's goods line as planned in a shipment, with what was delivered of it."""

    __tablename__ = "fulfillment_shipment_lines"

    shipment_id: str = Field(
        foreign_key="fulfillment_shipments.id", primary_key=True, max_length=36
    )
    line_no: int = Field(primary_key=True)
    fulfillment_id: str = Field(max_length=36, index=True)
    sku: str = Field(max_length=200)
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    unit: str = Field(max_length=3)
    quantity: Decimal = _quantity()
    delivered_quantity: Decimal = _quantity()
    stage: str = Field(max_length=40)
    serial_numbers: list = _json()
    delivered_on: date | None = None


class TaskRow(SQLModel, table=True):
    """An implementation task for a service line."""

    __tablename__ = "fulfillment_tasks"

    id: str = Field(primary_key=True, max_length=36)
    fulfillment_id: str = Field(foreign_key="fulfillments.id", max_length=36, index=True)
    seq: int
    line_no: int
    sku: str = Field(max_length=200)
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    kind: str = Field(max_length=60)
    quantity: Decimal = _quantity()
    unit: str = Field(max_length=3)
    assignee: str | None = Field(default=None, max_length=128, index=True)
    due_date: date | None = None
    status: str = Field(max_length=20)
    completed_at: datetime | None = _utc(nullable=True)
    completed_by: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, sa_column=Column(sa.Text))
    version: int = 1
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class TimelineRow(SQLModel, table=True):
    """Everything that happened to a fulfilment; accepted status reports are its shipments'
    history (a status event id is applied once: repeating it changes nothing)."""

    __tablename__ = "fulfillment_timeline"
    # a report whose lines span two shipments is kept once per shipment
    __table_args__ = (
        UniqueConstraint(
            "status_event_id", "shipment_id", name="uq_fulfillment_timeline_status_event"
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    fulfillment_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=40)
    occurred_at: datetime = _utc()
    recorded_at: datetime = _utc()
    shipment_id: str | None = Field(default=None, max_length=36, index=True)
    task_id: str | None = Field(default=None, max_length=36)
    status: str | None = Field(default=None, max_length=40)
    status_event_id: str | None = Field(default=None, max_length=128, index=True)
    channel: str = Field(max_length=20)
    actor: str | None = Field(default=None, max_length=200)
    detail: dict = _json()


class PendingStatusRow(SQLModel, table=True):
    """A status event that arrived on the topic before its order's plan existed (topics are not
    ordered against each other); applied as soon as the plan is there."""

    __tablename__ = "fulfillment_pending_status"

    status_event_id: str = Field(primary_key=True, max_length=128)
    order_id: str = Field(max_length=128, index=True)
    occurred_at: datetime = _utc()
    headers: dict = _json()
    payload: str = Field(sa_column=Column(sa.Text, nullable=False))
    received_at: datetime = _utc()


class OrderCancellationRow(SQLModel, table=True):
    """An ``order.cancelled`` that arrived before the order's plan: no plan is made then."""

    __tablename__ = "fulfillment_order_cancellations"

    order_id: str = Field(primary_key=True, max_length=128)
    order_version: int
    reason: str = Field(sa_column=Column(sa.Text, nullable=False))
    cancelled_by: str = Field(max_length=128)
    recorded_at: datetime = _utc()
