"""Platform tables every service has: outbox, inbox, dead letters, idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from salesflow.db import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


def _utc_column(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unpublished", "published_at", "id"),)

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    event_id: str = Field(max_length=64, unique=True)
    topic: str = Field(max_length=200)
    key: str = Field(max_length=200)
    type: str = Field(max_length=200)
    headers: dict = Field(sa_column=Column(JSON, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_utc_column(index=True))
    published_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class InboxRow(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=200)
    processed_at: datetime = Field(sa_column=_utc_column())


class DeadLetterRow(SQLModel, table=True):
    __tablename__ = "dead_letters"

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    consumer: str = Field(max_length=100, index=True)
    event_id: str = Field(max_length=64, index=True)
    event_type: str = Field(max_length=200)
    topic: str = Field(max_length=200)
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    key: str | None = Field(default=None, max_length=200)
    headers: dict = Field(sa_column=Column(JSON, nullable=False))
    value: str = Field(sa_column=Column(Text, nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int
    failed_at: datetime = Field(sa_column=_utc_column())
    replayed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    route: str = Field(max_length=300)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_headers: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(sa_column=_utc_column(index=True))
    completed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


PLATFORM_TABLES = [
    OutboxRow.__table__,
    InboxRow.__table__,
    DeadLetterRow.__table__,
    IdempotencyRow.__table__,
]
