"""Renewals: a warranty or service contract ending within the notice period is offered for
renewal once; assets of one account ending on the same day with the same kind share one
follow-up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

RenewalKind = Literal["warranty", "contract"]
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Coverage:
    """What an asset is covered by and until when."""

    asset_id: str
    account_id: str
    warranty_end: date | None
    contract_end: date | None


@dataclass(frozen=True)
class RenewalDue:
    asset_id: str
    account_id: str
    kind: RenewalKind
    due_date: date


def renewals_due(coverage: Coverage, today: date, notice_days: int) -> list[RenewalDue]:
    """Coverage ending between today and ``today + notice_days`` (inclusive)."""
    horizon = today + timedelta(days=notice_days)
    due: list[RenewalDue] = []
    for kind, end in (("warranty", coverage.warranty_end), ("contract", coverage.contract_end)):
        if end is not None and today <= end <= horizon:
            due.append(RenewalDue(coverage.asset_id, coverage.account_id, kind, end))  # type: ignore[arg-type]
    return due


def group(due: Iterable[RenewalDue]) -> dict[tuple[str, RenewalKind, date], list[RenewalDue]]:
    """One follow-up per account, kind and end date."""
    groups: dict[tuple[str, RenewalKind, date], list[RenewalDue]] = {}
    for item in sorted(due, key=lambda d: (d.account_id, d.kind, d.due_date, d.asset_id)):
        groups.setdefault((item.account_id, item.kind, item.due_date), []).append(item)
    return groups


def estimated_value(
    kind: RenewalKind,
    line_net: Decimal | None,
    line_quantity: Decimal | None,
    asset_quantity: Decimal,
    warranty_extension_rate: Decimal,
) -> Decimal:
    """A contract renews at its last price; a warranty extension costs a share of the goods'
    price. Unknown prices give 0: sales fills in the figure."""
    if line_net is None or not line_quantity:
        return Decimal("0.00")
    share = line_net * asset_quantity / line_quantity
    if kind == "warranty":
        share *= warranty_extension_rate
    return share.quantize(CENT, rounding=ROUND_HALF_UP)
