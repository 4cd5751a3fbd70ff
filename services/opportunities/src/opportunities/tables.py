"""Tables of the opportunities service (all named ``opportunities*``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Numeric, String, TypeDecorator
from sqlmodel import Field, SQLModel

from opportunities.domain.money import exact, trim
from salesflow.db import UTCDateTime


class Amount(TypeDecorator[Decimal]):
    """Money amounts as exact decimals with 4 places: NUMERIC(18, 4) on PostgreSQL, text on
    SQLite (whose NUMERIC goes through float). Read back with trailing zeros trimmed to at
    least two places, the same on both databases."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        stored = exact(value)
        return str(stored) if dialect.name == "sqlite" else stored

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return trim(Decimal(str(value)))


def _utc(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class OpportunityRow(SQLModel, table=True):
    """One deal. ``version`` grows with every change: it is the ETag and the event version."""

    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_created", "created_at", "id"),
        Index("ix_opportunities_open_activity", "stage", "last_activity_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    stage: str = Field(max_length=40, index=True)
    owner: str = Field(max_length=200, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    source: str = Field(max_length=20)
    lead_id: str | None = Field(default=None, max_length=128, unique=True)
    followup_id: str | None = Field(default=None, max_length=128, unique=True)
    account_id: str | None = Field(default=None, max_length=128, index=True)
    account: dict = Field(sa_column=Column(JSON, nullable=False))
    contact: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    currency: str = Field(max_length=3)
    amount: Decimal | None = Field(default=None, sa_column=Column(Amount(), nullable=True))
    probability: int
    probability_override: int | None = None
    expected_close_date: date | None = None
    next_step: str | None = Field(default=None, max_length=500)
    next_step_date: date | None = None
    needs: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    lost_reason: str | None = Field(default=None, max_length=500)
    won_offer_id: str | None = Field(default=None, max_length=128)
    won_offer_version: int | None = None
    source_channel: str | None = Field(default=None, max_length=100)
    source_campaign: str | None = Field(default=None, max_length=200)
    opened_by: str | None = Field(default=None, max_length=200)
    correlation_id: str = Field(max_length=100)
    related_correlation_ids: list = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    version: int = 1
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
    stage_entered_at: datetime = Field(sa_column=_utc())
    last_activity_at: datetime = Field(sa_column=_utc())
    closed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


_BigId = BigInteger().with_variant(Integer(), "sqlite")


class StageSpanRow(SQLModel, table=True):
    """One visit of an opportunity to a stage; the open one has no ``left_at``."""

    __tablename__ = "opportunities_stage_history"

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    opportunity_id: str = Field(max_length=36, foreign_key="opportunities.id", index=True)
    stage: str = Field(max_length=40)
    entered_at: datetime = Field(sa_column=_utc())
    left_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    trigger: str = Field(max_length=100)
    changed_by: str | None = Field(default=None, max_length=200)
    offer_id: str | None = Field(default=None, max_length=128)


class ActivityRow(SQLModel, table=True):
    """A call, meeting, e-mail or note on an opportunity."""

    __tablename__ = "opportunities_activities"
    __table_args__ = (Index("ix_opportunities_activities_list", "opportunity_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=36)
    opportunity_id: str = Field(max_length=36, foreign_key="opportunities.id")
    kind: str = Field(max_length=20)
    subject: str = Field(max_length=200)
    notes: str | None = Field(default=None, max_length=5000)
    occurred_at: datetime = Field(sa_column=_utc())
    next_step: str | None = Field(default=None, max_length=500)
    next_step_date: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_utc())


class OfferTrackRow(SQLModel, table=True):
    """The latest known state of one offer, from offer events (to tell open offers and stale
    events apart)."""

    __tablename__ = "opportunities_offers"

    offer_id: str = Field(primary_key=True, max_length=128)
    opportunity_id: str = Field(max_length=36, index=True)
    version: int
    offer_version: int
    status: str = Field(max_length=40)
    currency: str = Field(max_length=3)
    net: Decimal = Field(sa_column=Column(Amount(), nullable=False))
    updated_at: datetime = Field(sa_column=_utc())
