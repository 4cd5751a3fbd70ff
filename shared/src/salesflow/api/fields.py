"""Field types for request bodies and query parameters, the same in every service.

- ``Timestamp``: an ISO 8601 string with a timezone, converted to UTC, between 1900 and 2199.
  A time at the calendar's edge (``0001-01-01T00:00:00+05:00``) has no UTC value; it, and times
  no sales process has, are refused here instead of failing where the value is stored.
- ``CalendarDate``: an ISO 8601 date between 1900 and 2199.
- ``NonBlank``: text stripped of surrounding whitespace, at least one character left.
- ``Email``: the shape of an e-mail address (one @, a domain with a dot), at most 254 chars.
- ``Currency``, ``Country``: ISO 4217 currency and ISO 3166-1 alpha-2 codes, checked against
  the lists (``salesflow.reference``), not just their shape.

FastAPI validates bodies in pydantic's lax Python mode, which would read ``0`` or
``"1700000000"`` as a Unix time and ``"2026-02-01T00:00:00"`` as a date; the time types take ISO
8601 text only, as the OpenAPI schema says.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from salesflow.contracts.types import to_utc
from salesflow.reference import countries, currencies

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def _iso_date(value: Any) -> Any:
    # pydantic alone also takes Unix times ("0", 0.5) and date-times with a zero time
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.match(value):
        return value
    raise ValueError("expected an ISO 8601 date, YYYY-MM-DD")


def _iso_datetime(value: Any) -> Any:
    # pydantic alone also takes Unix times ("1700000000", 0) and times without an offset
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATETIME.match(value):
        return value
    raise ValueError("expected an ISO 8601 date-time with offset, e.g. 2026-01-31T09:00:00Z")


def _in_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError("date must lie between 1900 and 2199")
    return value


def _iso4217(code: str) -> str:
    if code not in currencies():
        raise ValueError(f"{code} is not an ISO 4217 currency code")
    return code


def _iso3166(code: str) -> str:
    if code not in countries():
        raise ValueError(f"{code} is not an ISO 3166-1 alpha-2 country code")
    return code


# Text that must say something: "   " names no one. Surrounding whitespace is dropped, then at
# least one character must remain; length bounds added where used
# (``Annotated[NonBlank, Field(max_length=200)]``) count the stripped text. Constraints only, no
# validator function, so that a ``Field`` around it keeps pydantic's plain messages. (NUL
# characters are refused for every body by ``BodyGuard``.)
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Timestamp = Annotated[datetime, BeforeValidator(_iso_datetime), AfterValidator(to_utc)]
CalendarDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_in_calendar)]
Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code", examples=["EUR"]),
    AfterValidator(_iso4217),
]
Email = Annotated[
    str,
    Field(
        max_length=254,
        pattern=r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.[A-Za-z]{2,63}$",
        description="E-mail address (local part @ a domain with a dot)",
        examples=["jane.doe@example.com"],
    ),
]
Country = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code", examples=["DE"]),
    AfterValidator(_iso3166),
]

__all__ = ["CalendarDate", "Country", "Currency", "Email", "NonBlank", "Timestamp", "to_utc"]
