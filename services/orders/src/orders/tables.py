"""Tables of the orders service.

Amounts that SQL must add up (open order value for the credit limit) are kept as integer minor
units beside their currency: exact on PostgreSQL and SQLite alike (SQLite has no decimal type).
Documents (lines, totals, addresses, the accepted contract) are JSON snapshots of the contract
value objects.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime

_BigId = BigInteger().with_variant(Integer(), "sqlite")


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # exactly one order per accepted offer version (NULLs, i.e. direct intake, never clash)
        UniqueConstraint("offer_id", "offer_version", name="uq_orders_offer_version"),
        UniqueConstraint("order_number", name="uq_orders_order_number"),
        Index("ix_orders_credit", "customer_id", "currency", "status"),
        Index("ix_orders_created", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    order_number: str = Field(max_length=40)
    status: str = Field(max_length=40, index=True)
    channel: str = Field(max_length=20)
    customer_id: str = Field(max_length=128, index=True)
    customer_name: str = Field(max_length=300)
    customer: dict = Field(sa_column=Column(JSON, nullable=False))
    account_id: str | None = Field(default=None, max_length=128)
    owner: str | None = Field(default=None, max_length=200, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    created_by: str | None = Field(default=None, max_length=200, index=True)
    currency: str = Field(max_length=3)
    net_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    gross_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    totals: dict = Field(sa_column=Column(JSON, nullable=False))
    lines: list = Field(sa_column=Column(JSON, nullable=False))
    terms: dict = Field(sa_column=Column(JSON, nullable=False))
    bill_to: dict | None = _json()
    ship_to: dict | None = _json()
    delivery_contact: dict | None = _json()
    customer_po_number: str | None = Field(default=None, max_length=100)
    requested_delivery_date: date | None = Field(default=None, sa_column=Column(Date))
    offer_id: str | None = Field(default=None, max_length=128)
    offer_version: int | None = None
    opportunity_id: str | None = Field(default=None, max_length=128)
    contract: dict | None = _json()  # the accepted offer as it was accepted
    rejection_reasons: list | None = _json()
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text))
    cancelled_by: str | None = Field(default=None, max_length=200)
    fulfillment_id: str | None = Field(default=None, max_length=128)
    dispatched_at: datetime | None = _utc(nullable=True)
    completed_at: datetime | None = _utc(nullable=True)
    correlation_id: str = Field(max_length=100)
    version: int = 1
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class StatusChangeRow(SQLModel, table=True):
    """The order's status history, one row per change (and per late event worth knowing)."""

    __tablename__ = "orders_status_history"

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    order_id: str = Field(max_length=36, index=True)
    status: str = Field(max_length=40)
    previous_status: str | None = Field(default=None, max_length=40)
    at: datetime = _utc()
    source: str = Field(max_length=200)  # event type or HTTP route that caused it
    event_id: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, sa_column=Column(Text))


class NumberCounterRow(SQLModel, table=True):
    """Last order number issued per series (``SO-2026``); bumped in the order's transaction, so
    a rolled-back order gives its number back and the series has no gaps."""

    __tablename__ = "orders_number_counters"

    series: str = Field(primary_key=True, max_length=40)
    last_value: int = Field(sa_column=Column(BigInteger, nullable=False))


class CustomerRow(SQLModel, table=True):
    """Customers known to the orders service: from accepted offers or entered by the order desk.
    Direct intake is for these existing customers only."""

    __tablename__ = "orders_customers"

    customer_id: str = Field(primary_key=True, max_length=128)  # the company id
    name: str = Field(max_length=300)
    snapshot: dict = Field(sa_column=Column(JSON, nullable=False))
    account_id: str | None = Field(default=None, max_length=128)
    owner: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=100)
    bill_to: dict | None = _json()
    ship_to: dict | None = _json()
    delivery_contact: dict | None = _json()
    credit_limit_minor: int | None = Field(default=None, sa_column=Column(BigInteger))
    credit_currency: str | None = Field(default=None, max_length=3)
    source: str = Field(max_length=20)  # "offer" | "order_desk"
    source_time: datetime = _utc()  # time of the event or request that last set the data
    version: int = 1
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class PriceRow(SQLModel, table=True):
    """The order desk's price list for direct intake (SKU and currency)."""

    __tablename__ = "orders_price_list"

    sku: str = Field(primary_key=True, max_length=64)
    currency: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text))
    unit: str = Field(max_length=3)
    kind: str = Field(max_length=10)
    unit_price: str = Field(max_length=40)  # decimal as text: exact on SQLite too
    tax_rate: str = Field(max_length=12)
    active: bool = True
    version: int = 1
    updated_at: datetime = _utc()
