"""Time as a dependency: routes and the expiry task ask the app's clock, tests move it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, timezone: str = "UTC") -> None:
        self.zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """The business day in the configured zone: offers are valid through their last day."""
        return self.now().astimezone(self.zone).date()


class FixedClock(Clock):
    """A clock that stands still until moved (tests, benchmarks)."""

    def __init__(self, at: datetime, timezone: str = "UTC") -> None:
        super().__init__(timezone)
        if at.tzinfo is None:
            raise ValueError("a fixed clock needs a timezone-aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
