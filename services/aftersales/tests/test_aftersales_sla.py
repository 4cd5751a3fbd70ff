"""SLA clock in business hours, with injected times only: calendar arithmetic, pauses while
waiting for the customer, breaches, and the ticket lifecycle driving the clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.domain.calendar import BusinessCalendar, parse_hhmm
from aftersales.domain.sla import SlaClock, SlaPolicy, SlaTarget, TicketSla
from aftersales.domain.tickets import InvalidTransition, transition
from salesflow.contracts.events.aftersales import TicketStatus as S

BERLIN = ZoneInfo("Europe/Berlin")
CAL = BusinessCalendar.of(
    timezone="Europe/Berlin",
    workdays=range(5),
    start="08:00",
    end="17:00",
    holidays=[date(2026, 4, 3)],  # Good Friday
)
P2 = SlaTarget(first_response_minutes=4 * 60, resolution_minutes=3 * 9 * 60)
HOUR = 3600


def berlin(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=BERLIN)


# --- calendar ---------------------------------------------------------------------------------


def test_business_seconds_skip_nights_and_weekends() -> None:
    assert CAL.business_seconds(berlin("2026-03-02", "09:00"), berlin("2026-03-02", "11:30")) == (
        2.5 * HOUR
    )
    # Friday 16:00 → Monday 09:00: one hour on Friday, one on Monday
    assert CAL.business_seconds(berlin("2026-03-06", "16:00"), berlin("2026-03-09", "09:00")) == (
        2 * HOUR
    )
    # entirely outside business hours
    assert CAL.business_seconds(berlin("2026-03-07", "10:00"), berlin("2026-03-08", "20:00")) == 0
    assert CAL.business_seconds(berlin("2026-03-02", "11:00"), berlin("2026-03-02", "10:00")) == 0


def test_add_business_time_rolls_over_to_the_next_working_moment() -> None:
    assert CAL.add_business_seconds(berlin("2026-03-06", "16:30"), HOUR) == berlin(
        "2026-03-09", "08:30"
    )
    assert CAL.add_business_seconds(berlin("2026-03-02", "06:00"), 30 * 60) == berlin(
        "2026-03-02", "08:30"
    )
    # a full nine-hour day from a Thursday evening ends on Friday evening
    assert CAL.add_business_seconds(berlin("2026-03-05", "17:00"), 9 * HOUR) == berlin(
        "2026-03-06", "17:00"
    )


def test_holidays_are_not_business_days() -> None:
    # Thursday 16:00 + 2h: one hour Thursday, Good Friday off, weekend off → Monday 09:00
    assert CAL.add_business_seconds(berlin("2026-04-02", "16:00"), 2 * HOUR) == berlin(
        "2026-04-06", "09:00"
    )
    assert CAL.business_seconds(berlin("2026-04-03", "00:00"), berlin("2026-04-04", "00:00")) == 0


def test_business_hours_are_wall_clock_across_daylight_saving() -> None:
    before, after = CAL.window(date(2026, 3, 27)), CAL.window(date(2026, 3, 30))
    assert before is not None and after is not None
    assert before[0] == datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # CET: 08:00 = 07:00 UTC
    assert after[0] == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # CEST: 08:00 = 06:00 UTC
    # 24x7 counts real elapsed time: the DST night has 23 hours
    always = BusinessCalendar.of(
        timezone="Europe/Berlin", workdays=range(7), start="00:00", end="24:00"
    )
    assert always.business_seconds(
        berlin("2026-03-28", "12:00"), berlin("2026-03-29", "12:00")
    ) == (23 * HOUR)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timezone": "Mars/Olympus"},
        {"workdays": []},
        {"workdays": [7]},
        {"start": "17:00", "end": "08:00"},
        {"start": "8h", "end": "17:00"},
        {"start": "08:00", "end": "24:30"},
    ],
)
def test_invalid_calendars_are_refused(kwargs: dict) -> None:
    args = {"timezone": "Europe/Berlin", "workdays": range(5), "start": "08:00", "end": "17:00"}
    with pytest.raises(ValueError):
        BusinessCalendar.of(**{**args, **kwargs})


def test_parse_hhmm() -> None:
    assert parse_hhmm("08:30") == 510
    assert parse_hhmm("24:00") == 1440


def test_policy_needs_every_severity_and_sane_targets() -> None:
    with pytest.raises(ValueError):
        SlaPolicy(CAL, {"P1": P2})
    with pytest.raises(ValueError):
        SlaTarget(first_response_minutes=60, resolution_minutes=30)


# --- SLA clock --------------------------------------------------------------------------------


def test_due_times_count_business_hours_only() -> None:
    opened = berlin("2026-03-06", "15:00")  # Friday afternoon
    sla = TicketSla.opened(P2, opened)
    # 2h on Friday, 2h on Monday
    assert sla.first_response_due(CAL) == berlin("2026-03-09", "10:00")
    # 27h: 2h Fri + 9h Mon + 9h Tue + 7h Wed
    assert sla.resolution_due(CAL) == berlin("2026-03-11", "15:00")


def test_waiting_for_the_customer_pauses_the_clock() -> None:
    opened = berlin("2026-03-02", "09:00")  # Monday
    sla = TicketSla.opened(P2, opened)
    sla = transition(S.OPEN, S.IN_PROGRESS, sla, berlin("2026-03-02", "09:30"), CAL)
    sla = transition(S.IN_PROGRESS, S.WAITING_CUSTOMER, sla, berlin("2026-03-02", "11:00"), CAL)
    assert sla.clock.consumed_seconds == 2 * HOUR
    assert sla.resolution_due(CAL) is None  # unknown while paused
    # two days later nothing more was consumed
    assert sla.clock.elapsed(berlin("2026-03-04", "11:00"), CAL) == 2 * HOUR
    assert not sla.check(berlin("2026-03-06", "16:00"), CAL).resolution_breached
    sla = transition(S.WAITING_CUSTOMER, S.IN_PROGRESS, sla, berlin("2026-03-04", "11:00"), CAL)
    # 25 h left from Wednesday 11:00: 6h Wed, 9h Thu, 9h Fri, 1h Mon
    assert sla.resolution_due(CAL) == berlin("2026-03-09", "09:00")
    resolved = transition(S.IN_PROGRESS, S.RESOLVED, sla, berlin("2026-03-04", "12:00"), CAL)
    assert resolved.resolution_seconds == 3 * HOUR
    assert not resolved.resolution_breached


def test_breach_is_flagged_when_the_due_time_passes_untouched() -> None:
    opened = berlin("2026-03-02", "09:00")
    sla = TicketSla.opened(P2, opened)
    due = sla.first_response_due(CAL)
    assert due == berlin("2026-03-02", "13:00")
    assert not sla.check(due, CAL).first_response_breached
    late = sla.check(due + timedelta(minutes=1), CAL)
    assert late.first_response_breached and not late.resolution_breached
    assert late.check(berlin("2026-03-05", "12:00"), CAL).resolution_breached
    # over the weekend nothing is consumed: Friday evening → Monday 07:59 is not a breach
    friday = TicketSla.opened(P2, berlin("2026-03-06", "16:00"))
    assert not friday.check(berlin("2026-03-09", "07:59"), CAL).first_response_breached


def test_a_target_is_missed_once_its_due_time_passes_even_after_hours() -> None:
    p1 = SlaTarget(first_response_minutes=60, resolution_minutes=8 * 60)
    sla = TicketSla.opened(p1, berlin("2026-03-02", "09:00")).respond(
        berlin("2026-03-02", "09:05"), CAL
    )
    assert sla.resolution_due(CAL) == berlin("2026-03-02", "17:00")
    assert not sla.check(berlin("2026-03-02", "17:00"), CAL).resolution_breached
    assert sla.check(berlin("2026-03-02", "17:30"), CAL).resolution_breached
    # resolving (or starting to wait) after the due time is late, though no business time
    # passed since 17:00
    assert sla.resolve(berlin("2026-03-02", "17:30"), CAL).resolution_breached
    assert not sla.resolve(berlin("2026-03-02", "16:59"), CAL).resolution_breached
    waiting = transition(S.IN_PROGRESS, S.WAITING_CUSTOMER, sla, berlin("2026-03-02", "17:30"), CAL)
    assert waiting.resolution_breached


def test_a_late_first_response_is_a_breach_and_stays_one() -> None:
    sla = TicketSla.opened(P2, berlin("2026-03-02", "09:00"))
    sla = transition(S.OPEN, S.IN_PROGRESS, sla, berlin("2026-03-02", "14:00"), CAL)
    assert sla.first_response_breached
    assert sla.first_response_due(CAL) is None  # met (late)
    resolved = transition(S.IN_PROGRESS, S.RESOLVED, sla, berlin("2026-03-02", "15:00"), CAL)
    reopened = transition(S.RESOLVED, S.IN_PROGRESS, resolved, berlin("2026-03-03", "09:00"), CAL)
    assert reopened.first_response_breached
    assert reopened.resolution_seconds is None and reopened.clock.running
    # the clock goes on from the 6h consumed before resolution
    assert reopened.clock.elapsed(berlin("2026-03-03", "10:00"), CAL) == 7 * HOUR


def test_resolving_late_flags_the_resolution_target() -> None:
    sla = TicketSla.opened(P2, berlin("2026-03-02", "08:00"))
    sla = sla.respond(berlin("2026-03-02", "08:10"), CAL)
    resolved = sla.resolve(berlin("2026-03-05", "12:00"), CAL)  # 3 days + 4h = 31h > 27h
    assert resolved.resolution_breached
    assert resolved.resolution_seconds == 31 * HOUR
    assert not resolved.first_response_breached


def test_clock_operations_are_idempotent() -> None:
    clock = SlaClock.started(berlin("2026-03-02", "09:00"))
    paused = clock.pause(berlin("2026-03-02", "10:00"), CAL)
    assert paused.pause(berlin("2026-03-02", "12:00"), CAL) == paused
    running = paused.resume(berlin("2026-03-02", "12:00"))
    assert running.resume(berlin("2026-03-02", "13:00")) == running


# --- lifecycle --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.OPEN, S.CLOSED),
        (S.OPEN, S.OPEN),
        (S.IN_PROGRESS, S.OPEN),
        (S.IN_PROGRESS, S.CLOSED),
        (S.WAITING_CUSTOMER, S.CLOSED),
        (S.RESOLVED, S.WAITING_CUSTOMER),
        (S.CLOSED, S.IN_PROGRESS),
        (S.CLOSED, S.RESOLVED),
    ],
)
def test_invalid_transitions_are_refused(current: S, target: S) -> None:
    sla = TicketSla.opened(P2, berlin("2026-03-02", "09:00"))
    with pytest.raises(InvalidTransition):
        transition(current, target, sla, berlin("2026-03-02", "10:00"), CAL)


def test_the_whole_lifecycle() -> None:
    at = berlin("2026-03-02", "09:00")
    sla = TicketSla.opened(P2, at)
    path = [S.OPEN, S.IN_PROGRESS, S.WAITING_CUSTOMER, S.IN_PROGRESS, S.RESOLVED, S.CLOSED]
    for i, (a, b) in enumerate(itertools.pairwise(path), start=1):
        sla = transition(a, b, sla, at + timedelta(minutes=10 * i), CAL)
    assert sla.resolved and sla.responded and not sla.clock.running
    assert sla.first_response_seconds == 600
