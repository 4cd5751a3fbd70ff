"""Ticket lifecycle: open → in_progress ⇄ waiting_customer → resolved → closed.

Each status change also says what it does to the SLA clock: waiting for the customer pauses
it, resolving stops it, reopening resumes it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from aftersales.domain.calendar import BusinessCalendar
from aftersales.domain.sla import TicketSla
from salesflow.contracts.events.aftersales import TicketStatus

OPEN, IN_PROGRESS, WAITING, RESOLVED, CLOSED = (
    TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_CUSTOMER,
    TicketStatus.RESOLVED,
    TicketStatus.CLOSED,
)

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    OPEN: frozenset({IN_PROGRESS, WAITING, RESOLVED}),
    IN_PROGRESS: frozenset({WAITING, RESOLVED}),
    WAITING: frozenset({IN_PROGRESS, RESOLVED}),
    RESOLVED: frozenset({IN_PROGRESS, CLOSED}),  # in_progress = reopened
    CLOSED: frozenset(),
}
ACTIVE = frozenset({OPEN, IN_PROGRESS, WAITING})  # the SLA still matters

Warranty = Literal["in_warranty", "out_of_warranty", "unknown"]


class TicketConflict(Exception):
    """The ticket's status does not allow the request."""


class InvalidTransition(TicketConflict):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        super().__init__(f"cannot go from {current} to {target} (allowed: {allowed})")
        self.current = current
        self.target = target


def check_open_for_comments(current: TicketStatus) -> None:
    if current == CLOSED:
        raise TicketConflict("the ticket is closed: open a new one")


def check_transition(current: TicketStatus, target: TicketStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)


def transition(
    current: TicketStatus,
    target: TicketStatus,
    sla: TicketSla,
    now: datetime,
    calendar: BusinessCalendar,
) -> TicketSla:
    """Validate the move and return the SLA state after it."""
    check_transition(current, target)
    if target == RESOLVED:
        return sla.resolve(now, calendar)
    if target == CLOSED:
        return sla.pause(now, calendar)
    sla = sla.respond(now, calendar)  # any move out of open is the team's first response
    if target == WAITING:
        return sla.pause(now, calendar)
    return sla.resume(now)  # in_progress: after waiting, or reopened


def warranty_status(warranty_end: date | None, today: date) -> Warranty:
    if warranty_end is None:
        return "unknown"
    return "in_warranty" if today <= warranty_end else "out_of_warranty"
