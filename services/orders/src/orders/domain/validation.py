"""Checks before an order is confirmed: customer data complete, lines valid, credit limit.

Every failed rule yields a reason (code, message, line); an order with reasons is rejected.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from orders.domain.money import fits, largest
from salesflow.contracts.events.common import (
    PIECE_UNITS,
    Address,
    PricedLine,
    Totals,
    missing_for_order,
)
from salesflow.contracts.types import Money


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    line_no: int | None = None


@dataclass(frozen=True)
class Credit:
    """The customer's credit limit (None = none) and the gross value of its open orders in the
    limit's currency."""

    limit: Money | None
    open_value: Decimal = Decimal(0)


def address_problems(
    role: str, address: Address | None, no_postal_code: Collection[str]
) -> list[Reason]:
    if address is None:
        return [Reason(f"missing_{role}", f"the order has no {role.replace('_', '-')} address")]
    missing = missing_for_order(address, no_postal_code)
    if not missing:
        return []
    return [
        Reason(
            f"incomplete_{role}",
            f"the {role.replace('_', '-')} address lacks {', '.join(missing)}",
        )
    ]


def line_problems(
    lines: list[PricedLine], currency: str, today: date, order_date: date | None
) -> list[Reason]:
    reasons: list[Reason] = []
    seen: set[int] = set()
    for line in lines:
        no = line.line_no
        if no in seen:
            reasons.append(Reason("duplicate_line_no", f"line number {no} occurs twice", no))
        seen.add(no)
        if line.unit in PIECE_UNITS and line.quantity != line.quantity.to_integral_value():
            reasons.append(
                Reason("fractional_quantity", f"{line.quantity} {line.unit} of {line.sku}", no)
            )
        amounts = (line.unit_price, line.net, line.tax)
        if any(m.currency != currency for m in amounts):
            reasons.append(Reason("currency_mismatch", f"line is not in {currency}", no))
        if any(m.amount < 0 for m in amounts):
            reasons.append(Reason("negative_amount", "price, net or tax below zero", no))
        wanted = line.requested_delivery_date or order_date
        if wanted is not None and wanted < today:
            reasons.append(
                Reason("delivery_date_in_past", f"requested delivery date {wanted} has passed", no)
            )
    return reasons


def totals_problems(totals: Totals, currency: str) -> list[Reason]:
    if any(m.currency != currency for m in (totals.net, totals.tax, totals.gross)):
        return [Reason("currency_mismatch", f"totals are not in {currency}")]
    if totals.net.amount + totals.tax.amount != totals.gross.amount:
        return [Reason("totals_inconsistent", "net plus tax differs from gross")]
    if totals.tax_by_rate and sum(t.tax.amount for t in totals.tax_by_rate) != totals.tax.amount:
        return [Reason("totals_inconsistent", "tax per rate does not add up to the tax")]
    return []


def size_problems(lines: list[PricedLine], totals: Totals, currency: str) -> list[Reason]:
    """Amounts too large to keep as minor units (``money.MAX_MINOR``). Direct intake refuses
    them with a 422 before this; an accepted offer still becomes an order, a rejected one."""
    limit = f"{largest(currency)} {currency}"
    reasons = [
        Reason("amount_too_large", f"line amounts of {line.sku} exceed {limit}", line.line_no)
        for line in lines
        if not all(fits(m.amount, currency) for m in (line.unit_price, line.net, line.tax))
    ]
    if not all(fits(m.amount, currency) for m in (totals.net, totals.tax, totals.gross)):
        reasons.append(
            Reason("amount_too_large", f"the order's totals exceed {limit}, the largest amount")
        )
    return reasons


def credit_problems(credit: Credit, order_value: Money) -> list[Reason]:
    limit = credit.limit
    if limit is None:
        return []
    if limit.currency != order_value.currency:
        return [
            Reason(
                "credit_limit_currency_mismatch",
                f"credit limit is kept in {limit.currency}, the order is in "
                f"{order_value.currency}: the order desk must check it",
            )
        ]
    exposure = credit.open_value + order_value.amount
    if exposure > limit.amount:
        return [
            Reason(
                "credit_limit_exceeded",
                f"open orders {credit.open_value} + this order {order_value.amount} = "
                f"{exposure} {limit.currency} exceed the credit limit of {limit.amount}",
            )
        ]
    return []


def check_order(
    *,
    currency: str,
    lines: list[PricedLine],
    totals: Totals,
    bill_to: Address | None,
    ship_to: Address | None,
    requested_delivery_date: date | None,
    credit: Credit,
    today: date,
    countries_without_postal_code: Collection[str] = (),
) -> list[Reason]:
    """Every reason not to confirm the order (empty: confirm it)."""
    reasons = address_problems("bill_to", bill_to, countries_without_postal_code)
    reasons += address_problems("ship_to", ship_to, countries_without_postal_code)
    reasons += line_problems(lines, currency, today, requested_delivery_date)
    # sums of amounts too large to keep are not checked (nor worth the arithmetic)
    value_problems = size_problems(lines, totals, currency) or totals_problems(totals, currency)
    reasons += value_problems
    if not value_problems:  # the credit check needs a trustworthy order value
        reasons += credit_problems(credit, totals.gross)
    return reasons
