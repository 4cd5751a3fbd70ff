"""Times that callers report: when something happened can lie a little ahead of our clock (the
caller's clock runs ahead), never further. A touchpoint dated years ahead would keep its full
points without decay (scoring counts a future touchpoint as happening now) and a first contact
in the future would distort the time-to-first-contact figures downstream."""

from __future__ import annotations

from datetime import datetime, timedelta

CLOCK_SKEW = timedelta(minutes=5)


def future_reason(field: str, value: datetime, now: datetime) -> str | None:
    """Why ``value`` cannot be a time that already happened (it lies further ahead of ``now``
    than clocks plausibly disagree), or None if it can."""
    if value > now + CLOCK_SKEW:
        minutes = int(CLOCK_SKEW.total_seconds() // 60)
        return f"{field} {value.isoformat()} lies in the future (more than {minutes} minutes ahead)"
    return None
