"""Tables of the offers service. Priced offer versions are stored as frozen JSON documents:
later catalog or price book changes never touch them."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Date, Index, Integer, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime

# NOT NULL "nothing" for the option columns of a price entry: NULLs would defeat the unique key
NO_OPTION = ""


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json(nullable: bool = False) -> Any:
    return Field(sa_column=Column(JSON, nullable=nullable))


class ProductRow(SQLModel, table=True):
    __tablename__ = "offers_products"

    sku: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    unit: str = Field(max_length=3)
    tax_category: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    active: bool = Field(default=True, index=True)
    options: list = _json()
    rules: list = _json()
    components: list = _json()
    requires_skus: list = _json()
    excludes_skus: list = _json()
    version: int = 1
    created_by: str = Field(max_length=128)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class PriceBookRow(SQLModel, table=True):
    __tablename__ = "offers_price_books"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3, index=True)
    segment: str | None = Field(default=None, max_length=100)
    customer_id: str | None = Field(default=None, max_length=128, index=True)
    valid_from: date = Field(sa_column=Column(Date, nullable=False))
    valid_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    priority: int = 0
    active: bool = True
    version: int = 1
    created_by: str = Field(max_length=128)
    created_at: datetime = _utc(index=True)
    updated_at: datetime = _utc()


class PriceEntryRow(SQLModel, table=True):
    __tablename__ = "offers_price_entries"
    __table_args__ = (
        UniqueConstraint("book_id", "sku", "option_code", "option_value", name="uq_offers_price"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    book_id: str = Field(max_length=36, index=True, foreign_key="offers_price_books.id")
    sku: str = Field(max_length=64, index=True)
    option_code: str = Field(default=NO_OPTION, max_length=64)
    option_value: str = Field(default=NO_OPTION, max_length=200)
    unit_price: Decimal = Field(sa_column=Column(Numeric(20, 6), nullable=False))
    mode: str = Field(default="range", max_length=10)
    tiers: list = _json()


class OpportunityRow(SQLModel, table=True):
    """Read model of the opportunities we may quote, from ``opportunity.*`` events."""

    __tablename__ = "offers_opportunities"

    opportunity_id: str = Field(primary_key=True, max_length=128)
    version: int
    stage: str = Field(max_length=40)
    owner: str = Field(max_length=128)
    team: str | None = Field(default=None, max_length=100)
    currency: str = Field(max_length=3)
    account: dict = _json()
    account_id: str | None = Field(default=None, max_length=128)
    contact: dict | None = _json(nullable=True)
    correlation_id: str = Field(max_length=100)
    updated_at: datetime = _utc()


class OfferRow(SQLModel, table=True):
    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_open_expiry", "status", "valid_until"),)

    id: str = Field(primary_key=True, max_length=36)
    status: str = Field(max_length=40, index=True)
    approval: str = Field(max_length=20)
    owner: str = Field(max_length=128, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    opportunity_id: str = Field(max_length=128, index=True)
    account_id: str | None = Field(default=None, max_length=128)
    customer_name: str = Field(max_length=300)
    currency: str = Field(max_length=3)
    offer_version: int = 1  # latest document version
    sent_version: int | None = None  # latest version sent to the customer
    valid_until: date = Field(sa_column=Column(Date, nullable=False))
    net: Decimal = Field(sa_column=Column(Numeric(18, 4), nullable=False))
    gross: Decimal = Field(sa_column=Column(Numeric(18, 4), nullable=False))
    correlation_id: str = Field(max_length=100)
    version: int = 1  # aggregate version: grows with every change, carried by every event
    created_by: str = Field(max_length=128)
    created_at: datetime = _utc(index=True)
    updated_at: datetime = _utc()


class OfferVersionRow(SQLModel, table=True):
    """One document version (v1, v2 …), frozen once written except for its approval and
    sending marks."""

    __tablename__ = "offers_versions"

    offer_id: str = Field(primary_key=True, max_length=36, foreign_key="offers.id")
    number: int = Field(primary_key=True)
    document: str = Field(sa_column=Column(Text, nullable=False))  # OfferDocument JSON
    changes: list = _json()
    approval: str = Field(max_length=20)
    approval_reasons: list = _json()
    requested_by: str = Field(max_length=128)
    decided_by: str | None = Field(default=None, max_length=128)
    decision_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_at: datetime | None = _utc(nullable=True)
    sent_by: str | None = Field(default=None, max_length=128)
    sent_at: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc()


class OutcomeRow(SQLModel, table=True):
    """How an offer ended. The primary key makes the end happen exactly once."""

    __tablename__ = "offers_outcomes"

    offer_id: str = Field(primary_key=True, max_length=36, foreign_key="offers.id")
    outcome: str = Field(max_length=20)  # accepted | rejected | expired
    offer_version: int
    customer_po_number: str | None = Field(default=None, max_length=100)
    customer_person: str | None = Field(default=None, max_length=200)
    decided_on: date = Field(sa_column=Column(Date, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    bill_to: dict | None = _json(nullable=True)
    ship_to: dict | None = _json(nullable=True)
    recorded_by: str | None = Field(default=None, max_length=128)
    recorded_at: datetime = _utc()
