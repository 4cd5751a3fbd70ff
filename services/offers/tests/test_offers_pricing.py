"""Properties of the pricing engine (hypothesis) and worked examples."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offers.domain.money import allocate, minor_units, round_money, round_price
from offers.domain.pricing import (
    LineInput,
    PriceRule,
    Tier,
    TierMode,
    base_amount,
    combine_discounts,
    price_document,
    tier_price,
    tier_problems,
)

CURRENCIES = ["EUR", "JPY", "BHD", "USD", "KWD", "CLP"]
RATES = [D("0"), D("5"), D("7"), D("19"), D("20"), D("21"), D("7.7"), D("2.5")]

prices = st.decimals(min_value=D("0"), max_value=D("50000"), places=4)
quantities = st.decimals(min_value=D("0.0001"), max_value=D("10000"), places=4)
percents = st.decimals(min_value=D("0"), max_value=D("100"), places=2)


@st.composite
def price_rules(draw: st.DrawFn) -> PriceRule:
    list_price = draw(prices)
    tiers = []
    threshold, price = D(0), list_price
    for _ in range(draw(st.integers(0, 3))):
        threshold += draw(st.decimals(min_value=D("0.5"), max_value=D("500"), places=1))
        price = draw(st.decimals(min_value=D(0), max_value=price, places=4))
        tiers.append(Tier(threshold, price))
    return PriceRule(list_price, tuple(tiers), draw(st.sampled_from(list(TierMode))))


@st.composite
def documents(draw: st.DrawFn):
    currency = draw(st.sampled_from(CURRENCIES))
    count = draw(st.integers(1, 8))
    lines = [
        LineInput(
            line_no=i,
            quantity=draw(quantities),
            price=draw(price_rules()),
            tax_rate=draw(st.sampled_from(RATES)),
            surcharge=draw(st.decimals(min_value=D(0), max_value=D(500), places=2)),
            discount_percent=draw(percents),
        )
        for i in range(1, count + 1)
    ]
    return currency, lines, draw(percents)


def _places(value: D) -> int:
    return max(0, -value.as_tuple().exponent)  # type: ignore[operator]


@settings(max_examples=80, deadline=None)
@given(documents())
def test_totals_equal_the_sum_of_the_lines(case) -> None:
    currency, lines, discount = case
    doc = price_document(currency, lines, discount)
    assert doc.net == sum(line.net for line in doc.lines)
    assert doc.tax == sum(line.tax for line in doc.lines)
    assert doc.tax == sum(rate.tax for rate in doc.by_rate)
    assert doc.gross == doc.net + doc.tax


@settings(max_examples=80, deadline=None)
@given(documents())
def test_tax_per_rate_is_consistent(case) -> None:
    currency, lines, discount = case
    doc = price_document(currency, lines, discount)
    rates = {rate.rate for rate in doc.by_rate}
    assert rates == {line.tax_rate for line in lines}
    for rate in doc.by_rate:
        members = [line for line in doc.lines if line.tax_rate == rate.rate]
        assert rate.net == sum(line.net for line in members)
        assert rate.tax == round_money(rate.net * rate.rate / 100, currency)
        assert sum(line.tax for line in members) == rate.tax  # no lost cent
        unit = D(1).scaleb(-minor_units(currency))
        for line in members:  # each line's share is within one minor unit of exact
            assert abs(line.tax - line.net * rate.rate / 100) <= unit


@settings(max_examples=80, deadline=None)
@given(documents())
def test_amounts_are_rounded_to_the_currency_minor_unit(case) -> None:
    currency, lines, discount = case
    places = minor_units(currency)
    doc = price_document(currency, lines, discount)
    amounts = [doc.net, doc.tax, doc.gross, *(r.tax for r in doc.by_rate)]
    for line in doc.lines:
        amounts += [line.net, line.tax, line.tier_discount, line.discount_amount]
        assert line.net >= 0 and line.tax >= 0 and line.discount_amount >= 0
        assert _places(line.unit_price) <= places + 4
    for amount in amounts:
        assert _places(amount) <= places, (currency, amount)


@settings(max_examples=150, deadline=None)
@given(price_rules(), quantities, quantities)
def test_tiers_are_monotone(rule: PriceRule, a: D, b: D) -> None:
    small, large = sorted((a, b))
    # unit price never rises with quantity, in both modes
    assert base_amount(rule, large) / large <= base_amount(rule, small) / small
    if rule.mode is TierMode.SLAB:
        assert base_amount(rule, large) >= base_amount(rule, small)  # more never costs less
    range_rule = PriceRule(rule.list_price, rule.tiers, TierMode.RANGE)
    slab_rule = PriceRule(rule.list_price, rule.tiers, TierMode.SLAB)
    assert base_amount(range_rule, large) <= base_amount(slab_rule, large)


@settings(max_examples=150, deadline=None)
@given(
    st.decimals(min_value=D(0), max_value=D("1000000"), places=2),
    st.lists(st.decimals(min_value=D(0), max_value=D("10000"), places=2), min_size=1, max_size=30),
    st.sampled_from(CURRENCIES),
)
def test_allocation_never_loses_a_cent(total: D, weights: list[D], currency: str) -> None:
    total = round_money(total, currency)
    parts = allocate(total, weights, currency)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)


@given(percents, percents)
def test_combined_discount_equals_applying_both(line: D, document: D) -> None:
    amount = D("1000")
    stepwise = amount * (100 - line) / 100 * (100 - document) / 100
    assert amount * (100 - combine_discounts(line, document)) / 100 == stepwise


@pytest.mark.parametrize(
    ("currency", "amount", "expected"),
    [
        ("EUR", D("10.005"), D("10.01")),
        ("EUR", D("10.004"), D("10.00")),
        ("JPY", D("1234.5"), D("1235")),
        ("JPY", D("1234.49"), D("1234")),
        ("BHD", D("1.2345"), D("1.235")),
        ("BHD", D("1.2344"), D("1.234")),
    ],
)
def test_rounding_per_currency(currency: str, amount: D, expected: D) -> None:
    rounded = round_money(amount, currency)
    assert rounded == expected
    assert _places(rounded) == minor_units(currency)


def test_a_worked_example_with_tiers_options_and_two_rates() -> None:
    lathe = PriceRule(D("10000"), (Tier(D("5"), D("9500")),), TierMode.RANGE)
    hours = PriceRule(D("120"), (Tier(D("10"), D("100")), Tier(D("50"), D("90"))), TierMode.SLAB)
    doc = price_document(
        "EUR",
        [
            LineInput(1, D("6"), lathe, D("19"), surcharge=D("250"), discount_percent=D("5")),
            LineInput(2, D("60"), hours, D("19")),
            LineInput(3, D("3"), PriceRule(D("19.99")), D("7")),
        ],
        discount_percent=D("2"),
    )
    one, two, three = doc.lines
    assert one.unit_price == D("9750.00")  # tier 9500 + option 250
    assert one.tier_discount == D("3000.00")  # 6 × 500
    assert one.discount_percent == D("6.9")  # 5 % then 2 %
    assert one.net == D("54463.50")  # 58500 × 0.931
    # slab: 10 × 120 + 40 × 100 + 10 × 90 = 6100, average 101.666667 (6 places)
    assert two.unit_price == D("101.666667")
    assert two.net == D("5978.00")
    assert three.net == D("58.77")  # 59.97 × 0.98 = 58.7706
    assert doc.by_rate[0].rate == D("7") and doc.by_rate[0].tax == D("4.11")
    assert doc.by_rate[1].net == D("60441.50") and doc.by_rate[1].tax == D("11483.89")
    assert doc.net == D("60500.27")
    assert doc.gross == D("71988.27")


def test_unit_prices_keep_only_the_places_they_need() -> None:
    assert round_price(D("10"), "EUR") == D("10.00")
    assert str(round_price(D("10"), "EUR")) == "10.00"
    assert str(round_price(D("10.333"), "EUR")) == "10.333"
    assert str(round_price(D("100") / 3, "JPY")) == "33.3333"


def test_tier_tables_must_rise_in_quantity_and_not_in_price() -> None:
    assert tier_problems(D("10"), [Tier(D("5"), D("9")), Tier(D("10"), D("8"))]) == []
    problems = tier_problems(D("10"), [Tier(D("5"), D("11")), Tier(D("5"), D("8"))])
    assert len(problems) == 2
    with pytest.raises(ValueError):
        PriceRule(D("10"), (Tier(D("5"), D("12")),))
    assert tier_price(PriceRule(D("10"), (Tier(D("5"), D("9")),)), D("4.9999")) == D("10")


def test_invalid_inputs_are_refused() -> None:
    rule = PriceRule(D("1"))
    with pytest.raises(ValueError):
        price_document("EUR", [LineInput(1, D("0"), rule, D("19"))])
    with pytest.raises(ValueError):
        price_document("EUR", [LineInput(1, D("1"), rule, D("19"), discount_percent=D("101"))])
    with pytest.raises(ValueError):
        price_document("XXX", [LineInput(1, D("1"), rule, D("19"))])
