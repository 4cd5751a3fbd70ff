"""Pricing of direct-intake lines: line net and VAT rounded per line, totals as exact sums.

Every line is rounded to the currency's minor unit; the VAT of a rate is the sum of its lines'
VAT and the totals are the sums of the lines, so no cent is lost or invented on the way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from orders.domain.money import round_money
from salesflow.contracts.events.common import (
    LineKind,
    PricedLine,
    SelectedOption,
    TaxAmount,
    Totals,
)
from salesflow.contracts.types import Money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineToPrice:
    """A line whose price is known: from the price list or explicitly agreed."""

    line_no: int
    sku: str
    name: str
    quantity: Decimal
    unit: str
    kind: LineKind
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal = Decimal(0)
    description: str | None = None
    options: list[SelectedOption] = field(default_factory=list)
    requested_delivery_date: date | None = None


def price_line(line: LineToPrice, currency: str) -> PricedLine:
    gross_line = line.quantity * line.unit_price
    net = round_money(gross_line * (HUNDRED - line.discount_percent) / HUNDRED, currency)
    tax = round_money(net * line.tax_rate / HUNDRED, currency)
    return PricedLine(
        line_no=line.line_no,
        sku=line.sku,
        name=line.name,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        kind=line.kind,
        options=line.options,
        unit_price=Money(amount=line.unit_price, currency=currency),
        discount_percent=line.discount_percent,
        net=Money(amount=net, currency=currency),
        tax_rate=line.tax_rate,
        tax=Money(amount=tax, currency=currency),
        requested_delivery_date=line.requested_delivery_date,
    )


def totals_of(lines: list[PricedLine], currency: str) -> Totals:
    by_rate: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in lines:
        bucket = by_rate[line.tax_rate]
        bucket[0] += line.net.amount
        bucket[1] += line.tax.amount
    net = sum((line.net.amount for line in lines), Decimal(0))
    tax = sum((line.tax.amount for line in lines), Decimal(0))

    def money(amount: Decimal) -> Money:
        return Money(amount=round_money(amount, currency), currency=currency)

    return Totals(
        net=money(net),
        tax=money(tax),
        gross=money(net + tax),
        tax_by_rate=[
            TaxAmount(rate=rate, net=money(n), tax=money(t))
            for rate, (n, t) in sorted(by_rate.items())
        ],
    )
