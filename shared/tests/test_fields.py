"""Input every service takes alike: times, dates, ISO codes, page cursors, event times."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from salesflow.api.errors import Problem
from salesflow.api.fields import CalendarDate, Country, Currency, Email, Timestamp
from salesflow.api.pagination import PageParams, keyset
from salesflow.contracts.envelope import Envelope, MalformedEvent
from salesflow.contracts.types import to_utc
from salesflow.messaging.tables import OutboxRow
from salesflow.reference import currencies

TIMESTAMP = TypeAdapter(Timestamp)
DATE = TypeAdapter(CalendarDate)


def test_a_timestamp_comes_out_in_utc() -> None:
    assert TIMESTAMP.validate_python("2026-03-01T10:00:00+01:00") == datetime(
        2026, 3, 1, 9, tzinfo=UTC
    )
    assert TIMESTAMP.validate_python("1900-01-01T00:00:00Z").year == 1900
    assert TIMESTAMP.validate_python("2199-12-31T23:59:59Z").year == 2199


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+05:00",  # no UTC value at all
        "9999-12-31T23:59:59-05:00",
        "1899-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "2026-01-01T00:00:00",  # naive
        0,  # lax mode would read 1970-01-01
        1_700_000_000,
        "1700000000",  # lax mode would read a Unix time
        "2026-01-01",  # a date is no time
        True,
        "yesterday",
    ],
)
def test_a_timestamp_outside_the_calendar_or_without_zone_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        TIMESTAMP.validate_python(value)


@pytest.mark.parametrize(
    "value", ["1899-12-31", "2200-01-01", "9999-12-31", 0, "31.12.2026", "2026-02-01T00:00:00"]
)
def test_a_date_outside_the_range_or_not_iso_text_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        DATE.validate_python(value)
    assert DATE.validate_python("2026-12-31") == date(2026, 12, 31)


def test_currencies_and_countries_are_checked_against_the_iso_lists() -> None:
    assert TypeAdapter(Currency).validate_python("JPY") == "JPY"
    assert TypeAdapter(Country).validate_python("DE") == "DE"
    for code in ("XYZ", "XXX", "XAU", "eur", "EURO"):
        with pytest.raises(ValidationError):
            TypeAdapter(Currency).validate_python(code)
    for code in ("XX", "ZZ", "de", "DEU"):
        with pytest.raises(ValidationError):
            TypeAdapter(Country).validate_python(code)
    assert {"EUR", "USD", "CHF", "XOF", "XPF"} <= currencies()


def test_to_utc_refuses_what_cannot_be_stored() -> None:
    with pytest.raises(ValueError, match="out of range"):
        to_utc(datetime.fromisoformat("0001-01-01T00:00:00+05:00"))
    with pytest.raises(ValueError, match="timezone"):
        to_utc(datetime(2026, 1, 1))


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _page(values: Any, sort: Any = OutboxRow.created_at) -> Any:
    return keyset(
        select(OutboxRow), PageParams(limit=2, cursor=_cursor(values)), sort, OutboxRow.id
    )


@pytest.mark.parametrize(
    "values",
    [
        ["2026-01-01T00:00:00", 1],  # naive time
        ["0001-01-01T00:00:00+14:00", 1],  # no UTC value
        ["9999-12-31T23:59:59-14:00", 1],
        ["2026-01-01T00:00:00+00:00", 99999999999999999999999],  # beyond 64 bits
        ["2026-01-01T00:00:00+00:00", 1e30],
        ["2026-01-01T00:00:00+00:00", 1.5],
        ["2026-01-01T00:00:00+00:00", True],
        ["2026-01-01T00:00:00+00:00", None],
        [None, None],
        [["a"], {"b": 1}],
        [12, 1],  # a number for a time
    ],
)
def test_a_cursor_no_page_could_have_given_is_a_422(values: Any) -> None:
    with pytest.raises(Problem) as raised:
        _page(values)
    assert raised.value.status == 422


def test_infinity_in_a_cursor_is_a_422() -> None:
    raw = b'["2026-01-01T00:00:00+00:00", Infinity]'  # what Python's json writes and reads
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(Problem):
        keyset(
            select(OutboxRow),
            PageParams(limit=2, cursor=cursor),
            OutboxRow.created_at,
            OutboxRow.id,
        )


def test_a_cursor_a_page_gave_is_taken() -> None:
    stmt = _page(["2026-01-01 10:00:00+01:00", 7])  # str(datetime), as pages write it
    params = stmt.compile().params
    assert datetime(2026, 1, 1, 9, tzinfo=UTC) in params.values()
    assert 7 in params.values()
    assert "event-9" in _page(["event-9", "12"], sort=OutboxRow.event_id).compile().params.values()


def test_an_event_time_without_a_utc_value_is_a_malformed_event() -> None:
    event = Envelope("e1", "x.y.v1", "probe", "s", datetime.now(UTC), {}, correlation_id="c")
    assert Envelope.from_record(event.headers(), event.value()).time == event.time
    headers = [(k, v) for k, v in event.headers() if k != "ce_time"]
    headers.append(("ce_time", b"0001-01-01T00:00:00+05:00"))
    with pytest.raises(MalformedEvent, match="ce_time"):
        Envelope.from_record(headers, event.value())


def test_an_email_needs_one_at_and_a_domain_with_a_dot() -> None:
    email = TypeAdapter(Email)
    assert email.validate_python("jane.doe@example.com") == "jane.doe@example.com"
    for bad in ("not-an-email", "a@b", "a b@example.com", "@example.com", "a@-x.com", "a@x.c"):
        with pytest.raises(ValidationError):
            email.validate_python(bad)
