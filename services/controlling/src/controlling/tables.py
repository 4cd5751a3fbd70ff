"""Read models of the controlling service, built from events only."""

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime


class JourneyEvent(SQLModel, table=True):
    """Every event of the catalog, once, as the journey trace's raw material."""

    __tablename__ = "journey_events"

    event_id: str = Field(primary_key=True, max_length=64)
    correlation_id: str = Field(max_length=64, index=True)
    causation_id: str | None = Field(default=None, max_length=64, index=True)
    type: str = Field(max_length=200)
    source: str = Field(max_length=200)
    subject: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
