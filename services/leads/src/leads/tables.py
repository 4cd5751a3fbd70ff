"""Tables of the leads service (all prefixed ``leads``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, TypeDecorator
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ScaledDecimal(TypeDecorator[Decimal]):
    """An exact Decimal stored as a scaled BIGINT (``scale`` decimal places): exact on SQLite too
    (whose NUMERIC is a float), and ranges compare as integers."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self._factor = Decimal(10) ** scale

    def process_bind_param(self, value: Decimal | None, dialect: object) -> int | None:
        return None if value is None else int((Decimal(value) * self._factor).to_integral_value())

    def process_result_value(self, value: int | None, dialect: object) -> Decimal | None:
        return (
            None
            if value is None
            else (Decimal(value) / self._factor).quantize(Decimal(1).scaleb(-self.scale))
        )


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


class CompanyRow(SQLModel, table=True):
    """One company of the universe (suspect → prospect → lead → customer)."""

    __tablename__ = "leads_companies"
    __table_args__ = (
        Index("ix_leads_companies_segment", "nace_rev", "nace_section", "size_class", "country"),
        Index("ix_leads_companies_domain", "domain"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    name: str = Field(max_length=300)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=5)
    postal_code: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=200)
    nace: str | None = Field(default=None, max_length=5)
    nace_rev: str | None = Field(default=None, max_length=3)
    nace_section: str | None = Field(default=None, max_length=1)
    employees: int | None = None
    size_class: str | None = Field(default=None, max_length=6)
    revenue: Decimal | None = Field(default=None, sa_column=Column(ScaledDecimal(4)))
    revenue_currency: str | None = Field(default=None, max_length=3)
    duns: str | None = Field(default=None, sa_column=Column(String(9), unique=True))
    vat_id: str | None = Field(default=None, sa_column=Column(String(15), unique=True))
    website: str | None = Field(default=None, max_length=300)
    domain: str | None = Field(default=None, max_length=253)
    source: str = Field(max_length=40)
    status: str = Field(max_length=10)
    match_key: str | None = Field(default=None, sa_column=Column(String(340), unique=True))
    account_id: str | None = Field(default=None, max_length=128)
    import_id: int | None = None
    import_line: int | None = None
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class ContactRow(SQLModel, table=True):
    __tablename__ = "leads_contacts"

    id: str = Field(primary_key=True, max_length=36)
    company_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    email_key: str | None = Field(default=None, sa_column=Column(String(254), unique=True))
    phone: str | None = Field(default=None, max_length=40)
    role: str | None = Field(default=None, max_length=100)
    consent_email: bool = False
    consent_phone: bool = False
    consent_tracking: bool = False
    version: int = 1
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class TouchpointRow(SQLModel, table=True):
    __tablename__ = "leads_touchpoints"
    __table_args__ = (Index("ix_leads_touchpoints_company", "company_id", "occurred_at"),)

    id: str = Field(primary_key=True, max_length=36)
    company_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    contact_id: str | None = Field(default=None, max_length=36)
    lead_id: str | None = Field(default=None, max_length=36, index=True)
    channel: str = Field(max_length=20)
    kind: str = Field(max_length=50)
    occurred_at: datetime = _utc()
    campaign: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, sa_column=Column(String(200), unique=True))
    existing_customer: bool = False
    created_interest: bool = False
    received_at: datetime = _utc()
    received_by: str = Field(max_length=200)


class LeadRow(SQLModel, table=True):
    __tablename__ = "leads"

    id: str = Field(primary_key=True, max_length=36)
    company_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    # = company_id while the lead is open, NULL after: one open lead per company (unique index)
    open_company_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, unique=True)
    )
    contact_id: str | None = Field(default=None, max_length=36)
    status: str = Field(max_length=20, index=True)
    owner: str | None = Field(default=None, max_length=200, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    queue: str | None = Field(default=None, max_length=100)
    correlation_id: str = Field(max_length=64)
    version: int = 1
    source_channel: str = Field(max_length=20)
    source_kind: str | None = Field(default=None, max_length=50)
    source_campaign: str | None = Field(default=None, max_length=200)
    touchpoint_id: str | None = Field(default=None, max_length=36)
    score: Decimal = Field(default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False))
    fit_score: Decimal = Field(
        default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False)
    )
    engagement_score: Decimal = Field(
        default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False)
    )
    score_breakdown: dict | None = _json()
    scoring_model_version: int = 1
    scored_at: datetime | None = _utc(nullable=True)
    engagement_since: datetime | None = _utc(nullable=True)
    existing_customer: bool = False
    account_id: str | None = Field(default=None, max_length=128)
    contact: dict | None = _json()
    needs: dict | None = _json()
    first_contact_at: datetime | None = _utc(nullable=True)
    qualified_by: str | None = Field(default=None, max_length=200)
    disqualify_reason: str | None = Field(default=None, max_length=500)
    disqualified_by: str | None = Field(default=None, max_length=200)
    converted_by: str | None = Field(default=None, max_length=200)
    expected_amount: Decimal | None = Field(default=None, sa_column=Column(ScaledDecimal(4)))
    expected_currency: str | None = Field(default=None, max_length=3)
    expected_close_date: date | None = None
    mql_at: datetime | None = _utc(nullable=True)
    assigned_at: datetime | None = _utc(nullable=True)
    sql_at: datetime | None = _utc(nullable=True)
    closed_at: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc(index=True)
    updated_at: datetime = _utc()


class SegmentRow(SQLModel, table=True):
    __tablename__ = "leads_segments"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    criteria: dict = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=200)
    members: int = 0
    materialized_at: datetime | None = _utc(nullable=True)
    version: int = 1
    created_at: datetime = _utc(index=True)
    updated_at: datetime = _utc()


class SegmentMemberRow(SQLModel, table=True):
    __tablename__ = "leads_segment_members"

    segment_id: str = Field(primary_key=True, max_length=36)
    company_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    added_at: datetime = _utc()


class ConfigRow(SQLModel, table=True):
    """Versioned configuration: the scoring model, routing rules, the interest definition."""

    __tablename__ = "leads_configs"

    kind: str = Field(primary_key=True, max_length=20)
    version: int = Field(primary_key=True)
    body: dict = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: datetime = _utc()


class RoutingCursorRow(SQLModel, table=True):
    """Round-robin position per team: the rep who got the team's last lead."""

    __tablename__ = "leads_routing_cursors"

    team: str = Field(primary_key=True, max_length=100)
    last_rep: str | None = Field(default=None, max_length=200)
    updated_at: datetime = _utc()


class AccountRow(SQLModel, table=True):
    """Existing customers, from ``account.onboarded``."""

    __tablename__ = "leads_accounts"

    account_id: str = Field(primary_key=True, max_length=128)
    company_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    version: int
    owner: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=100)
    order_id: str = Field(max_length=128)
    onboarded_at: datetime = _utc()


class ImportRow(SQLModel, table=True):
    __tablename__ = "leads_imports"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    created_by: str = Field(max_length=200)
    status: str = Field(max_length=20)
    source: str = Field(max_length=40)
    nace_revision: str = Field(max_length=3)
    rows: int = 0
    accepted: int = 0
    updated: int = 0
    rejected: int = 0
    started_at: datetime = _utc()
    finished_at: datetime | None = _utc(nullable=True)
