"""Weighted pipeline: amount × probability, bucketed by the expected close period, per owner
and per team, never summed across currencies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from salesflow.reference import minor_units

Period = Literal["month", "quarter"]


@dataclass(frozen=True)
class Deal:
    owner: str
    team: str | None
    currency: str
    amount: Decimal
    probability: int
    expected_close: date


@dataclass(frozen=True)
class Line:
    period: str
    currency: str
    key: str | None  # owner, team or None for the total
    count: int
    amount: Decimal
    weighted: Decimal


def period_of(day: date, period: Period) -> str:
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def weighted(amount: Decimal, probability: int) -> Decimal:
    return amount * probability / Decimal(100)


def group(deals: Iterable[Deal], period: Period, key: Callable[[Deal], str | None]) -> list[Line]:
    sums: dict[tuple[str, str, str | None], tuple[int, Decimal, Decimal]] = {}
    for deal in deals:
        slot = (period_of(deal.expected_close, period), deal.currency, key(deal))
        count, amount, weight = sums.get(slot, (0, Decimal(0), Decimal(0)))
        sums[slot] = (
            count + 1,
            amount + deal.amount,
            weight + weighted(deal.amount, deal.probability),
        )
    lines = [
        Line(p, c, k, n, a.quantize(_unit(c)), w.quantize(_unit(c)))
        for (p, c, k), (n, a, w) in sums.items()
    ]
    return sorted(lines, key=lambda line: (line.period, line.currency, line.key or ""))


def _unit(currency: str) -> Decimal:
    """Sums are rounded to the currency's minor unit (cents, whole yen, fils)."""
    return Decimal(1).scaleb(-minor_units(currency))


@dataclass(frozen=True)
class Forecast:
    by_owner: list[Line]
    by_team: list[Line]
    totals: list[Line]


def forecast(deals: Iterable[Deal], period: Period) -> Forecast:
    items = list(deals)
    return Forecast(
        by_owner=group(items, period, lambda d: d.owner),
        by_team=group(items, period, lambda d: d.team),
        totals=group(items, period, lambda d: None),
    )
