"""The lead state machine. Invalid transitions raise ``TransitionError`` (HTTP 409)."""

from __future__ import annotations

from enum import StrEnum

from salesflow.contracts.events.leads import LeadStatus

OPEN = frozenset({LeadStatus.UNQUALIFIED, LeadStatus.NURTURING, LeadStatus.MQL, LeadStatus.SQL})


class Action(StrEnum):
    MQL = "mql"
    ASSIGN = "assign"
    QUALIFY = "qualify"
    CONVERT = "convert"
    DISQUALIFY = "disqualify"


class TransitionError(Exception):
    def __init__(self, status: str, action: Action, hint: str = "") -> None:
        detail = f"a lead in status {status!r} cannot be asked to {action.value}"
        super().__init__(f"{detail}{': ' + hint if hint else ''}")
        self.status = status
        self.action = action


_ALLOWED: dict[Action, frozenset[LeadStatus]] = {
    Action.MQL: frozenset({LeadStatus.UNQUALIFIED, LeadStatus.NURTURING}),
    Action.ASSIGN: OPEN,
    Action.QUALIFY: frozenset({LeadStatus.MQL}),
    Action.CONVERT: frozenset({LeadStatus.SQL}),
    Action.DISQUALIFY: OPEN,
}
_HINTS = {
    Action.QUALIFY: "only marketing qualified leads (mql) can be qualified",
    Action.CONVERT: "only sales qualified leads (sql) convert, or any open lead of an existing customer",
    Action.MQL: "only unqualified or nurturing leads become mql",
}
_RECYCLE_HINT = "a nurturing lead is recycled already (it may still be disqualified for good)"


def transition(
    status: str, action: Action, *, existing_customer: bool = False, recycle: bool = False
) -> LeadStatus:
    """The status after ``action``; existing customers may convert from any open status."""
    current = LeadStatus(status)
    allowed = _ALLOWED[action]
    if action is Action.CONVERT and existing_customer:
        allowed = OPEN
    if current not in allowed:
        raise TransitionError(current.value, action, _HINTS.get(action, ""))
    if action is Action.DISQUALIFY and recycle and current is LeadStatus.NURTURING:
        # recycling is the way into nurturing; again would only restart the engagement count
        raise TransitionError(current.value, action, _RECYCLE_HINT)
    return {
        Action.MQL: LeadStatus.MQL,
        Action.ASSIGN: current,
        Action.QUALIFY: LeadStatus.SQL,
        Action.CONVERT: LeadStatus.CONVERTED,
        Action.DISQUALIFY: LeadStatus.NURTURING if recycle else LeadStatus.DISQUALIFIED,
    }[action]


def is_open(status: str) -> bool:
    return status in OPEN
