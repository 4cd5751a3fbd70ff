"""Tables of the aftersales service (all prefixed ``aftersales_``)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Date, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime


def _utc(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _money() -> Column:
    return Column(Numeric(18, 4), nullable=True)


class AccountRow(SQLModel, table=True):
    """A customer with at least one completed delivery; one per company."""

    __tablename__ = "aftersales_accounts"

    id: str = Field(primary_key=True, max_length=36)
    company_id: str = Field(max_length=128, unique=True)
    name: str = Field(max_length=300)
    company: dict = Field(sa_column=Column(JSON, nullable=False))  # CompanySnapshot
    company_as_of: datetime = Field(sa_column=_utc())  # time of the event the snapshot is from
    status: str = Field(max_length=40, default="active")
    owner: str | None = Field(default=None, max_length=200, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    correlation_id: str = Field(max_length=64)  # journey of the first delivery
    first_order_id: str = Field(max_length=128)
    first_fulfillment_id: str = Field(max_length=128)
    onboarded_at: datetime = Field(sa_column=_utc())
    health_score: int = 75
    health_band: str = Field(max_length=20, default="healthy", index=True)
    version: int = 1
    created_at: datetime = Field(sa_column=_utc(index=True))
    updated_at: datetime = Field(sa_column=_utc())


class AssetRow(SQLModel, table=True):
    """An installed-base item: a serialised unit, an unserialised goods line or a contract."""

    __tablename__ = "aftersales_assets"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", "unit_no", name="uq_aftersales_assets_unit"),
    )

    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="aftersales_accounts.id", max_length=36, index=True)
    kind: str = Field(max_length=20)  # goods | contract
    sku: str = Field(max_length=128)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    serial_number: str | None = Field(default=None, max_length=200, index=True)
    quantity: Decimal = Field(sa_column=Column(Numeric(18, 4), nullable=False))
    order_id: str = Field(max_length=128)
    order_number: str = Field(max_length=100)
    line_no: int
    unit_no: int
    fulfillment_id: str = Field(max_length=128)
    delivered_on: date = Field(sa_column=Column(Date, nullable=False))
    warranty_end: date | None = Field(default=None, sa_column=Column(Date, index=True))
    contract_end: date | None = Field(default=None, sa_column=Column(Date, index=True))
    correlation_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc())


class DeliveryRow(SQLModel, table=True):
    """A completed fulfilment taken into the installed base (guards redelivery)."""

    __tablename__ = "aftersales_deliveries"

    fulfillment_id: str = Field(primary_key=True, max_length=128)
    account_id: str = Field(max_length=36, index=True)
    order_id: str = Field(max_length=128)
    version: int
    completed_at: datetime = Field(sa_column=_utc())
    recorded_at: datetime = Field(sa_column=_utc())


class OrderRow(SQLModel, table=True):
    """Orders of customers as seen on ``orders.order.v1``: first and repeat orders."""

    __tablename__ = "aftersales_orders"

    order_id: str = Field(primary_key=True, max_length=128)
    order_number: str = Field(max_length=100)
    company_id: str = Field(max_length=128, index=True)
    account_id: str | None = Field(default=None, max_length=36, index=True)
    status: str = Field(max_length=40)
    channel: str = Field(max_length=40)
    version: int
    currency: str = Field(max_length=3)
    net_amount: Decimal | None = Field(default=None, sa_column=_money())
    lines: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    correlation_id: str = Field(max_length=64)
    first_seen_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())


class TicketRow(SQLModel, table=True):
    __tablename__ = "aftersales_tickets"
    __table_args__ = (
        Index("ix_aftersales_tickets_first_response_due", "first_response_due"),
        Index("ix_aftersales_tickets_resolution_due", "resolution_due"),
    )

    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="aftersales_accounts.id", max_length=36, index=True)
    asset_id: str | None = Field(default=None, max_length=36, index=True)
    channel: str = Field(max_length=40)
    severity: str = Field(max_length=2)
    summary: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=40, index=True)
    opened_by: str = Field(max_length=200, index=True)
    opened_at: datetime = Field(sa_column=_utc(index=True))
    first_responded_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    resolved_by: str | None = Field(default=None, max_length=200)
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # SLA: clock state and the targets' due times (None while paused or met)
    sla_consumed_seconds: int = 0
    sla_running_since: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    first_response_seconds: int | None = None
    resolution_seconds: int | None = None
    first_response_due: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    resolution_due: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    first_response_breached: bool = False
    resolution_breached: bool = False
    breached_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    correlation_id: str = Field(max_length=64)
    version: int = 1
    updated_at: datetime = Field(sa_column=_utc())


class TicketCommentRow(SQLModel, table=True):
    __tablename__ = "aftersales_ticket_comments"

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(foreign_key="aftersales_tickets.id", max_length=36, index=True)
    author: str = Field(max_length=200)
    author_kind: str = Field(max_length=20)  # agent | customer
    internal: bool = False  # an agents' note the customer does not see
    ticket_version: int = 0  # ticket version after the comment: orders comments stably
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_utc())


class TicketChangeRow(SQLModel, table=True):
    """Status history of a ticket."""

    __tablename__ = "aftersales_ticket_changes"

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(foreign_key="aftersales_tickets.id", max_length=36, index=True)
    from_status: str | None = Field(default=None, max_length=40)
    to_status: str = Field(max_length=40)
    changed_by: str = Field(max_length=200)
    ticket_version: int  # ticket version after the change: orders the history stably
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changed_at: datetime = Field(sa_column=_utc())


class FollowupRow(SQLModel, table=True):
    __tablename__ = "aftersales_followups"

    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="aftersales_accounts.id", max_length=36, index=True)
    kind: str = Field(max_length=20)
    description: str = Field(sa_column=Column(Text, nullable=False))
    estimated_amount: Decimal = Field(sa_column=Column(Numeric(18, 4), nullable=False))
    currency: str = Field(max_length=3)
    expected_close_date: date | None = Field(default=None, sa_column=Column(Date))
    due_date: date | None = Field(default=None, sa_column=Column(Date))
    asset_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ticket_id: str | None = Field(default=None, max_length=36)
    contact: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    identified_by: str | None = Field(default=None, max_length=200)
    owner: str = Field(max_length=200)
    team: str | None = Field(default=None, max_length=100)
    correlation_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc(index=True))


class RenewalRow(SQLModel, table=True):
    """A renewal raised for an asset: at most one per asset and kind."""

    __tablename__ = "aftersales_renewals"
    __table_args__ = (UniqueConstraint("asset_id", "kind", name="uq_aftersales_renewals_asset"),)

    id: str = Field(primary_key=True, max_length=36)
    asset_id: str = Field(foreign_key="aftersales_assets.id", max_length=36)
    kind: str = Field(max_length=20)  # warranty | contract
    account_id: str = Field(max_length=36, index=True)
    due_date: date = Field(sa_column=Column(Date, nullable=False))
    followup_id: str = Field(foreign_key="aftersales_followups.id", max_length=36)
    raised_at: datetime = Field(sa_column=_utc())
