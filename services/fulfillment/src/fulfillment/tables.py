"""Tables of the fulfillment service."""

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime


class FulfillmentRow(SQLModel, table=True):
    __tablename__ = "fulfillments"

    id: str = Field(primary_key=True, max_length=36)
    status: str = Field(max_length=40, index=True)
    owner: str | None = Field(default=None, max_length=200, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    correlation_id: str = Field(max_length=64)
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
