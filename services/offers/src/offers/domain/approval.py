"""Discount approval: a discount above the limit of the requester's role needs a sales manager
who neither owns nor requested the offer."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from offers.domain.pricing import plain

APPROVER_ROLE = "sales_manager"


@dataclass(frozen=True)
class Limit:
    percent: Decimal
    role: str


def discount_limit(roles: Collection[str], limits: Mapping[str, Decimal]) -> Limit:
    """The most generous limit among the requester's roles (0 % for a role without one)."""
    best = Limit(Decimal(0), "no discount role")
    for role in sorted(roles):
        percent = limits.get(role)
        if percent is not None and percent > best.percent:
            best = Limit(Decimal(percent), role)
    return best


def approval_reasons(
    document_discount: Decimal, line_discounts: Iterable[tuple[int, Decimal]], limit: Limit
) -> list[str]:
    """Every approval rule an offer hits; empty ⇒ no approval needed. ``line_discounts`` are
    (line number, discount percent with the document discount included)."""
    reasons = []
    allowed = f"{plain(limit.percent)}% allowed for {limit.role}"
    if document_discount > limit.percent:
        reasons.append(f"document discount {plain(document_discount)}% > {allowed}")
    for line_no, percent in line_discounts:
        if percent > limit.percent:
            reasons.append(f"line {line_no}: discount {plain(percent)}% > {allowed}")
    return reasons


def approval_refusal(
    approver: str, approver_roles: Collection[str], owner: str, requester: str | None
) -> str | None:
    """Why ``approver`` may not decide (None if they may)."""
    if APPROVER_ROLE not in approver_roles and "admin" not in approver_roles:
        return f"only a {APPROVER_ROLE} may approve discounts"
    if approver == owner:
        return "the owner of an offer cannot approve its discounts"
    if requester is not None and approver == requester:
        return "whoever requested the discount cannot approve it"
    return None
