"""The offer's states and which action is allowed in which state."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from salesflow.contracts.events.offers import OfferStatus

OPEN = frozenset(
    {OfferStatus.DRAFT, OfferStatus.APPROVAL_PENDING, OfferStatus.APPROVED, OfferStatus.SENT}
)
CLOSED_OPPORTUNITY_STAGES = frozenset({"won", "lost"})


class Approval(StrEnum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class NotAllowed(Exception):
    """The action is not allowed in the offer's state (HTTP 409)."""


def status_after_pricing(approval_needed: bool) -> tuple[OfferStatus, Approval]:
    if approval_needed:
        return OfferStatus.APPROVAL_PENDING, Approval.PENDING
    return OfferStatus.DRAFT, Approval.NOT_REQUIRED


def check_open(status: str, action: str) -> None:
    if status not in OPEN:
        raise NotAllowed(f"cannot {action} an offer that is {status}")


def check_decide(status: str) -> None:
    if status != OfferStatus.APPROVAL_PENDING:
        raise NotAllowed(f"the offer is {status}, no approval is pending")


def check_send(status: str, approval: str, valid_until: date, today: date) -> None:
    if status == OfferStatus.SENT:
        raise NotAllowed("this version was already sent; revise the offer to send a new one")
    check_open(status, "send")
    if approval == Approval.PENDING:
        raise NotAllowed("the discount awaits approval by a sales manager")
    if approval == Approval.REJECTED:
        raise NotAllowed("the discount approval was rejected; revise the offer")
    if valid_until < today:
        raise NotAllowed(f"the offer expired on {valid_until.isoformat()}")


def check_customer_answer(
    status: str,
    valid_until: date,
    today: date,
    *,
    latest: int,
    requested: int | None,
    action: str,
) -> None:
    """Accept or reject: only the latest version, only once it was sent, only before expiry."""
    if status in (OfferStatus.ACCEPTED, OfferStatus.REJECTED, OfferStatus.EXPIRED):
        raise NotAllowed(f"the offer is already {status}")
    if requested is not None and requested != latest:
        raise NotAllowed(f"only the latest version (v{latest}) can be {action}ed")
    if status != OfferStatus.SENT:
        raise NotAllowed(f"the latest version (v{latest}) has not been sent")
    if valid_until < today:
        raise NotAllowed(f"the offer expired on {valid_until.isoformat()}")


def is_expired(status: str, valid_until: date, today: date) -> bool:
    return status in OPEN and valid_until < today
