"""Value types shared by payloads: money, currency codes, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC if it lies in the range every service accepts (1900–2199); else
    ValueError. A time at the calendar's edge (``0001-01-01T00:00:00+05:00``) has no UTC value
    at all: refused here rather than where it is stored."""
    if value.tzinfo is None:
        raise ValueError("a time needs a timezone (e.g. Z or +01:00)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError("time must lie between 1900 and 2199")
    return utc


UtcDateTime = Annotated[datetime, AfterValidator(to_utc)]


def _plain(value: Decimal) -> str:
    # pydantic writes str(Decimal): "1E+3" for a quantity typed 1e3, "1.85E+5" for a normalized
    # price; consumers (production, logistics, ERP) expect plain decimal text. Scale is kept.
    return format(value, "f")


PlainDecimal = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]
"""A Decimal that JSON always shows in plain notation ("1000", "100.00", never "1E+3")."""
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class Payload(BaseModel):
    """Base of every event payload: consumers ignore unknown fields (additive evolution)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(BaseModel):
    # ignore unknown fields: a field added later must not break older consumers
    model_config = ConfigDict(extra="ignore", frozen=True)

    amount: PlainDecimal
    currency: CurrencyCode


def utcnow() -> datetime:
    return datetime.now(UTC)
