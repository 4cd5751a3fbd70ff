"""Business-hours calendar: which moments count towards an SLA.

Working windows are wall-clock times in the calendar's time zone (so 08:00 stays 08:00 across
daylight-saving changes); arithmetic happens in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
_SEARCH_LIMIT_DAYS = 3 * 366  # a calendar with no working time in three years is a config error


def parse_hhmm(text: str) -> int:
    """``"08:30"`` → 510 minutes after midnight; ``"24:00"`` is allowed as the end of a day."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(f"time {text!r} is not HH:MM") from None
    total = hours * 60 + minutes
    if not (0 <= minutes < 60 and 0 <= total <= MINUTES_PER_DAY):
        raise ValueError(f"time {text!r} is out of range")
    return total


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Europe/Berlin"
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    start_minute: int = 8 * 60
    end_minute: int = 17 * 60
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        if not self.workdays or not set(self.workdays) <= set(range(7)):
            raise ValueError("workdays must be a non-empty subset of 0 (Monday) … 6 (Sunday)")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError("business hours must start before they end, within one day")

    @classmethod
    def of(
        cls,
        *,
        timezone: str,
        workdays: Iterable[int],
        start: str,
        end: str,
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        return cls(
            timezone=timezone,
            workdays=frozenset(workdays),
            start_minute=parse_hhmm(start),
            end_minute=parse_hhmm(end),
            holidays=frozenset(holidays),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        return _aware(moment).astimezone(self.zone).date()

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of ``day`` in UTC, or None on a day off."""
        if day.weekday() not in self.workdays or day in self.holidays:
            return None
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        # aware + timedelta is wall-clock arithmetic: 08:00 stays 08:00 on DST days
        start = midnight + timedelta(minutes=self.start_minute)
        end = midnight + timedelta(minutes=self.end_minute)
        return start.astimezone(UTC), end.astimezone(UTC)

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Working seconds in ``[start, end)``."""
        start, end = _aware(start), _aware(end)
        if end <= start:
            return 0
        total = timedelta()
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            window = self.window(day)
            if window is not None:
                lo, hi = max(window[0], start), min(window[1], end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return int(total.total_seconds())

    def add_business_seconds(self, start: datetime, seconds: int) -> datetime:
        """The moment when ``seconds`` of working time have passed since ``start``."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        start = _aware(start)
        remaining = timedelta(seconds=seconds)
        day = self.local_date(start)
        for _ in range(_SEARCH_LIMIT_DAYS):
            window = self.window(day)
            if window is not None:
                lo, hi = max(window[0], start), window[1]
                if hi > lo:
                    if remaining <= hi - lo:
                        return lo + remaining
                    remaining -= hi - lo
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in the next three years")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass timezone-aware times")
    return moment.astimezone(UTC)
