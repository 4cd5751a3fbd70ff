"""Strict request types: what the OpenAPI document promises is what is accepted.

pydantic alone also takes Unix timestamps ("0", "0.5") for dates and times, and naive times;
the documented formats are ISO 8601, with an offset for times."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.match(value):
        raise ValueError("expected an ISO 8601 date, YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date, YYYY-MM-DD")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str) and not _DATETIME.match(value):
        raise ValueError("expected an ISO 8601 date-time with offset, e.g. 2026-01-31T09:00:00Z")
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date-time with offset, e.g. 2026-01-31T09:00:00Z")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("date-time needs an offset, e.g. Z")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime), AfterValidator(_aware)]
