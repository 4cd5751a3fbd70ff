"""Percentiles, rates and money rounding as the API reports them."""

from decimal import Decimal

import pytest

from controlling.domain.stats import median, money, percentile, rate


def test_median_of_odd_and_even_counts() -> None:
    assert median([5, 1, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5
    assert median([]) is None


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert percentile(values, 90) == pytest.approx(91.0)  # rank 8.1 -> 90 + 0.1 * 10
    assert percentile(values, 99) == pytest.approx(99.1)
    assert percentile(values, 0) == 10
    assert percentile(values, 100) == 100
    assert percentile([7], 99) == 7


def test_percentile_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_rate_rounds_to_four_places_and_is_none_without_base() -> None:
    assert rate(2, 3) == 0.6667
    assert rate(0, 5) == 0.0
    assert rate(3, 0) is None


def test_money_rounds_half_even_to_cents() -> None:
    assert money(Decimal("1.005")) == Decimal("1.00")
    assert money(Decimal("1.015")) == Decimal("1.02")
    assert str(money(Decimal("3000"))) == "3000.00"
