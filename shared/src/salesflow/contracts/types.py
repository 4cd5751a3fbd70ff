"""Value types shared by payloads: money, currency codes, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class Payload(BaseModel):
    """Base of every event payload: consumers ignore unknown fields (additive evolution)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(BaseModel):
    # ignore unknown fields: a field added later must not break older consumers
    model_config = ConfigDict(extra="ignore", frozen=True)

    amount: Decimal
    currency: CurrencyCode


def utcnow() -> datetime:
    return datetime.now(UTC)
