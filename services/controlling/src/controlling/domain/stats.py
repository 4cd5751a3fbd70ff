"""Percentiles and rates exactly as the API reports them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

RATE_PLACES = 4
MONEY_PLACES = Decimal("0.01")


def percentile(values: Iterable[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100) by linear interpolation between closest ranks (the
    definition of numpy's default and Excel's PERCENTILE.INC); ``None`` without values.

    The median is ``percentile(values, 50)``: the middle value, or the mean of the two middle
    values for an even count.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def median(values: Iterable[float]) -> float | None:
    return percentile(values, 50)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to four places; ``None`` when there is nothing to divide by."""
    if whole <= 0:
        return None
    return round(part / whole, RATE_PLACES)


def money(value: Decimal) -> Decimal:
    """Sums of money as reported: two decimal places, banker's rounding."""
    return value.quantize(MONEY_PLACES, rounding=ROUND_HALF_EVEN)


def seconds(values: Sequence[float]) -> dict[str, float | None]:
    """Median and p90 of durations in seconds, as the funnel and lead controlling report them."""
    return {"median_s": median(values), "p90_s": percentile(values, 90)}
