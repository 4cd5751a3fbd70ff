"""SLA clock of a ticket: business time consumed, paused while waiting for the customer.

Everything is a value: operations return a new state, so the rules are unit-tested with
injected times only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from aftersales.domain.calendar import BusinessCalendar

SEVERITIES = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True)
class SlaTarget:
    """Business minutes allowed for the first response and for the resolution."""

    first_response_minutes: int
    resolution_minutes: int

    def __post_init__(self) -> None:
        if not 0 < self.first_response_minutes <= self.resolution_minutes:
            raise ValueError("SLA targets: 0 < first response ≤ resolution (business minutes)")

    @property
    def first_response_seconds(self) -> int:
        return self.first_response_minutes * 60

    @property
    def resolution_seconds(self) -> int:
        return self.resolution_minutes * 60


@dataclass(frozen=True)
class SlaPolicy:
    calendar: BusinessCalendar
    targets: Mapping[str, SlaTarget]

    def __post_init__(self) -> None:
        missing = [s for s in SEVERITIES if s not in self.targets]
        if missing:
            raise ValueError(f"SLA targets missing for {', '.join(missing)}")

    def target(self, severity: str) -> SlaTarget:
        return self.targets[severity]


@dataclass(frozen=True)
class SlaClock:
    """Business seconds consumed so far; running from ``running_since`` unless paused."""

    consumed_seconds: int = 0
    running_since: datetime | None = None

    @classmethod
    def started(cls, now: datetime) -> SlaClock:
        return cls(0, now)

    @property
    def running(self) -> bool:
        return self.running_since is not None

    def elapsed(self, now: datetime, calendar: BusinessCalendar) -> int:
        if self.running_since is None:
            return self.consumed_seconds
        return self.consumed_seconds + calendar.business_seconds(self.running_since, now)

    def pause(self, now: datetime, calendar: BusinessCalendar) -> SlaClock:
        if not self.running:
            return self
        return SlaClock(self.elapsed(now, calendar), None)

    def resume(self, now: datetime) -> SlaClock:
        return self if self.running else SlaClock(self.consumed_seconds, now)

    def due(self, budget_seconds: int, calendar: BusinessCalendar) -> datetime | None:
        """When ``budget_seconds`` will be used up; None while paused (the date is unknown)."""
        if self.running_since is None:
            return None
        left = max(0, budget_seconds - self.consumed_seconds)
        return calendar.add_business_seconds(self.running_since, left)


@dataclass(frozen=True)
class TicketSla:
    """A ticket's SLA state: clock, the moments that stop the targets, breach flags.

    Breach flags only ever go from False to True: a breach stays a breach after a reopen.
    """

    target: SlaTarget
    clock: SlaClock
    first_response_seconds: int | None = None  # business seconds at the first response
    resolution_seconds: int | None = None  # business seconds at resolution
    first_response_breached: bool = False
    resolution_breached: bool = False

    @classmethod
    def opened(cls, target: SlaTarget, now: datetime) -> TicketSla:
        return cls(target=target, clock=SlaClock.started(now))

    @property
    def responded(self) -> bool:
        return self.first_response_seconds is not None

    @property
    def resolved(self) -> bool:
        return self.resolution_seconds is not None

    def first_response_due(self, calendar: BusinessCalendar) -> datetime | None:
        if self.responded:
            return None
        return self.clock.due(self.target.first_response_seconds, calendar)

    def resolution_due(self, calendar: BusinessCalendar) -> datetime | None:
        if self.resolved:
            return None
        return self.clock.due(self.target.resolution_seconds, calendar)

    def _overrun(self, budget_seconds: int, now: datetime, calendar: BusinessCalendar) -> bool:
        """Past the due moment. A target is missed once its due time has passed, even if the
        time since lies outside business hours (due 17:00, still open at 17:30: missed)."""
        due = self.clock.due(budget_seconds, calendar)
        if due is None:  # paused: only time consumed before the pause counts
            return self.clock.consumed_seconds > budget_seconds
        return now > due

    def respond(self, now: datetime, calendar: BusinessCalendar) -> TicketSla:
        """The first response by the service team (later ones change nothing)."""
        if self.responded:
            return self
        return replace(
            self,
            first_response_seconds=self.clock.elapsed(now, calendar),
            first_response_breached=self.first_response_breached
            or self._overrun(self.target.first_response_seconds, now, calendar),
        )

    def pause(self, now: datetime, calendar: BusinessCalendar) -> TicketSla:
        checked = self.check(now, calendar)  # a target missed before the pause stays missed
        return replace(checked, clock=self.clock.pause(now, calendar))

    def resume(self, now: datetime) -> TicketSla:
        return replace(self, clock=self.clock.resume(now), resolution_seconds=None)

    def resolve(self, now: datetime, calendar: BusinessCalendar) -> TicketSla:
        responded = self.respond(now, calendar)
        return replace(
            responded,
            clock=responded.clock.pause(now, calendar),
            resolution_seconds=responded.clock.elapsed(now, calendar),
            resolution_breached=self.resolution_breached
            or responded._overrun(self.target.resolution_seconds, now, calendar),
        )

    def check(self, now: datetime, calendar: BusinessCalendar) -> TicketSla:
        """Flag targets that ``now`` has overrun, also when nobody touched the ticket."""
        first = self.first_response_breached or (
            not self.responded and self._overrun(self.target.first_response_seconds, now, calendar)
        )
        resolution = self.resolution_breached or (
            not self.resolved and self._overrun(self.target.resolution_seconds, now, calendar)
        )
        return replace(self, first_response_breached=first, resolution_breached=resolution)
