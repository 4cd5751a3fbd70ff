"""Read models of the controlling service, built from events only.

``journey_events`` is the event store (every catalog event once, with its payload); the
``controlling_*`` projections are folded from it per aggregate; ``controlling_records`` indexes
every record of every topic (and dead-letter topic) by partition and offset.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime

_ID = 128  # contract ids are at most 128 characters
_MONEY = 48  # decimal strings: exact on SQLite too


def _at(index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=index))


class JourneyEvent(SQLModel, table=True):
    """Every event of the catalog, once (primary key = ``ce_id``)."""

    __tablename__ = "journey_events"
    __table_args__ = (
        Index("ix_journey_events_aggregate", "aggregate", "aggregate_id"),
        Index("ix_journey_events_topic_type", "topic", "type"),
    )

    event_id: str = Field(primary_key=True, max_length=64)
    correlation_id: str = Field(max_length=64, index=True)
    causation_id: str | None = Field(default=None, max_length=64, index=True)
    type: str = Field(max_length=200)
    source: str = Field(max_length=200)
    subject: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    topic: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=100)
    aggregate: str | None = Field(default=None, max_length=100)
    aggregate_id: str | None = Field(default=None, max_length=_ID)
    version: int | None = None
    owner: str | None = Field(default=None, max_length=_ID)
    team: str | None = Field(default=None, max_length=200)
    company_id: str | None = Field(default=None, max_length=_ID, index=True)
    account_id: str | None = Field(default=None, max_length=_ID)
    data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ControllingJourneyLink(SQLModel, table=True):
    """A journey names an earlier journey of the same account (follow-ups)."""

    __tablename__ = "controlling_journey_links"

    correlation_id: str = Field(primary_key=True, max_length=64)
    earlier_correlation_id: str = Field(primary_key=True, max_length=64, index=True)
    event_id: str = Field(max_length=64)


class ControllingLead(SQLModel, table=True):
    __tablename__ = "controlling_leads"

    lead_id: str = Field(primary_key=True, max_length=_ID)
    version: int
    status: str | None = Field(default=None, max_length=40)
    company_id: str | None = Field(default=None, max_length=_ID)
    nace_section: str | None = Field(default=None, max_length=1)
    size_class: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    owner: str | None = Field(default=None, max_length=_ID, index=True)
    team: str | None = Field(default=None, max_length=200)
    source_channel: str | None = Field(default=None, max_length=200)
    existing_customer: bool = False
    account_id: str | None = Field(default=None, max_length=_ID)
    correlation_id: str = Field(max_length=64)
    created_at: datetime | None = _at()
    mql_at: datetime | None = _at()
    sql_at: datetime | None = _at()
    first_contact_at: datetime | None = _at()
    converted_at: datetime | None = _at()
    assigned_at: datetime | None = _at()
    closed_at: datetime | None = _at()


class ControllingOpportunity(SQLModel, table=True):
    __tablename__ = "controlling_opportunities"

    opportunity_id: str = Field(primary_key=True, max_length=_ID)
    version: int
    stage: str | None = Field(default=None, max_length=40)
    source: str | None = Field(default=None, max_length=40)
    lead_id: str | None = Field(default=None, max_length=_ID, index=True)
    followup_id: str | None = Field(default=None, max_length=_ID)
    account_id: str | None = Field(default=None, max_length=_ID)
    company_id: str | None = Field(default=None, max_length=_ID)
    nace_section: str | None = Field(default=None, max_length=1)
    size_class: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    owner: str | None = Field(default=None, max_length=_ID, index=True)
    team: str | None = Field(default=None, max_length=200)
    source_channel: str | None = Field(default=None, max_length=200)
    currency: str | None = Field(default=None, max_length=3)
    amount: str | None = Field(default=None, max_length=_MONEY)
    amount_currency: str | None = Field(default=None, max_length=3)
    probability: int | None = None
    correlation_id: str = Field(max_length=64)
    opened_at: datetime | None = _at()
    won_at: datetime | None = _at()
    lost_at: datetime | None = _at()
    closed_at: datetime | None = _at()


class ControllingOffer(SQLModel, table=True):
    __tablename__ = "controlling_offers"

    offer_id: str = Field(primary_key=True, max_length=_ID)
    version: int
    status: str | None = Field(default=None, max_length=40)
    opportunity_id: str | None = Field(default=None, max_length=_ID, index=True)
    company_id: str | None = Field(default=None, max_length=_ID)
    nace_section: str | None = Field(default=None, max_length=1)
    size_class: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    owner: str | None = Field(default=None, max_length=_ID)
    team: str | None = Field(default=None, max_length=200)
    currency: str | None = Field(default=None, max_length=3)
    net_amount: str | None = Field(default=None, max_length=_MONEY)
    correlation_id: str = Field(max_length=64)
    created_at: datetime | None = _at()
    first_sent_at: datetime | None = _at()
    accepted_at: datetime | None = _at()


class ControllingOrder(SQLModel, table=True):
    __tablename__ = "controlling_orders"

    order_id: str = Field(primary_key=True, max_length=_ID)
    version: int
    status: str | None = Field(default=None, max_length=40)
    channel: str | None = Field(default=None, max_length=40)
    offer_id: str | None = Field(default=None, max_length=_ID, index=True)
    opportunity_id: str | None = Field(default=None, max_length=_ID)
    account_id: str | None = Field(default=None, max_length=_ID)
    company_id: str | None = Field(default=None, max_length=_ID)
    nace_section: str | None = Field(default=None, max_length=1)
    size_class: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    owner: str | None = Field(default=None, max_length=_ID)
    team: str | None = Field(default=None, max_length=200)
    currency: str | None = Field(default=None, max_length=3)
    net_amount: str | None = Field(default=None, max_length=_MONEY)
    correlation_id: str = Field(max_length=64)
    received_at: datetime | None = _at()
    confirmed_at: datetime | None = _at()
    completed_at: datetime | None = _at()


class ControllingFulfillment(SQLModel, table=True):
    __tablename__ = "controlling_fulfillments"

    fulfillment_id: str = Field(primary_key=True, max_length=_ID)
    version: int
    status: str | None = Field(default=None, max_length=40)
    order_id: str | None = Field(default=None, max_length=_ID, index=True)
    correlation_id: str = Field(max_length=64)
    planned_at: datetime | None = _at()
    delivered_at: datetime | None = _at()
    completed_at: datetime | None = _at()


class ControllingUniverseChunk(SQLModel, table=True):
    """One committed chunk of an import (suspects) or a materialization run (prospects), and
    the event counted for it (a second event for the same chunk is not counted again)."""

    __tablename__ = "controlling_universe_chunks"

    stage: str = Field(primary_key=True, max_length=20)  # suspects | prospects
    segment_id: str = Field(primary_key=True, max_length=_ID)  # "" for imports
    batch_id: str = Field(primary_key=True, max_length=_ID)  # import id | run id
    chunk: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str = Field(max_length=64)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ControllingUniverseCell(SQLModel, table=True):
    """Companies per segment cell of the counted event of a chunk."""

    __tablename__ = "controlling_universe_cells"

    stage: str = Field(primary_key=True, max_length=20)
    segment_id: str = Field(primary_key=True, max_length=_ID)
    batch_id: str = Field(primary_key=True, max_length=_ID)
    chunk: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    cell_no: int = Field(primary_key=True)  # position in the event's list
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    nace_section: str | None = Field(default=None, max_length=1)
    size_class: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    source: str | None = Field(default=None, max_length=200)
    count: int = Field(sa_column=Column(BigInteger, nullable=False))


class ControllingRecord(SQLModel, table=True):
    """One record of a topic or dead-letter topic as it sits in the log (redeliveries too)."""

    __tablename__ = "controlling_records"
    __table_args__ = (Index("ix_controlling_records_topic_type", "topic", "event_type"),)

    topic: str = Field(primary_key=True, max_length=200)  # logical name, without prefix
    partition: int = Field(primary_key=True)
    offset: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str | None = Field(default=None, max_length=200)
    event_type: str | None = Field(default=None, max_length=200)
    dlq_consumer: str | None = Field(default=None, max_length=100)
    dlq_original_topic: str | None = Field(default=None, max_length=200)
    dlq_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


READ_MODELS = [
    JourneyEvent,
    ControllingJourneyLink,
    ControllingLead,
    ControllingOpportunity,
    ControllingOffer,
    ControllingOrder,
    ControllingFulfillment,
    ControllingUniverseChunk,
    ControllingUniverseCell,
    ControllingRecord,
]
"""Everything ``salesflow controlling rebuild`` empties and refills from the topics."""
