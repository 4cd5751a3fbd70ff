"""Cursor pagination: ``limit`` (≤ 200) and an opaque cursor over a stable ordering."""

from __future__ import annotations

import base64
import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from salesflow.api.errors import Problem
from salesflow.contracts.types import to_utc

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description="page size, at most 200"),
    cursor: str | None = Query(None, max_length=500, description="from the previous page"),
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise _invalid() from None
    if not isinstance(values, list) or len(values) != arity:
        raise _invalid()
    return values


def keyset(
    stmt: Select, params: PageParams, sort: InstrumentedAttribute, tiebreak: InstrumentedAttribute
) -> Select:
    """Ascending keyset on (sort, tiebreak); fetches one extra row to know if more follow."""
    if params.cursor:
        after_sort, after_id = decode_cursor(params.cursor, 2)
        s, t = _coerce(sort, after_sort), _coerce(tiebreak, after_id)
        stmt = stmt.where(or_(sort > s, and_(sort == s, tiebreak > t)))
    return stmt.order_by(sort, tiebreak).limit(params.limit + 1)


_INT64 = (-(2**63), 2**63 - 1)


def _coerce(column: InstrumentedAttribute, value: Any) -> Any:
    """A cursor value as the column's type; 422 for anything a page of ours cannot have given
    (a cursor is opaque, but it arrives from outside like any other input)."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _invalid()
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = None
    try:
        if python_type is datetime:
            return to_utc(datetime.fromisoformat(value))  # aware, in range: or ValueError
        if python_type is date:
            return date.fromisoformat(value)
        if python_type is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            number = int(value)
            if not _INT64[0] <= number <= _INT64[1]:
                raise ValueError
            return number
        if python_type is float or python_type is Decimal:
            number = python_type(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if python_type is str:
            return value if isinstance(value, str) else str(value)
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        raise _invalid() from None
    return value


def _invalid() -> Problem:
    return Problem(422, "cursor is not valid")


def page_of(rows: list[Any], params: PageParams, key: Any) -> tuple[list[Any], str | None]:
    """Trim the extra row and build the next cursor from the last item via ``key(row)``."""
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        return rows, encode_cursor(list(key(rows[-1])))
    return rows, None
