"""Pure rules: pricing and rounding, validation reasons, the state machine, number formats."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.domain.lifecycle import (
    OPEN_STATUSES,
    advance,
    cancellation_refused,
    fulfilment_target,
    implies_dispatch,
    implies_work,
)
from orders.domain.money import fits, from_minor, minor_units, round_money, to_minor
from orders.domain.numbering import format_number, series_of
from orders.domain.pricing import LineToPrice, price_line, totals_of
from orders.domain.validation import Credit, check_order
from salesflow.contracts.events.common import Address, LineKind
from salesflow.contracts.events.orders import OrderStatus as S
from salesflow.contracts.types import Money

TODAY = date(2026, 3, 2)
ADDRESS = Address(street="Hauptstr. 1", postal_code="80331", city="München", country="DE")


def line(no: int = 1, qty: str = "2", price: str = "10.00", rate: str = "19", **kw) -> LineToPrice:
    return LineToPrice(
        line_no=no,
        sku=f"SKU-{no}",
        name="Thing",
        quantity=Decimal(qty),
        unit=kw.pop("unit", "C62"),
        kind=LineKind.GOODS,
        unit_price=Decimal(price),
        tax_rate=Decimal(rate),
        **kw,
    )


# --- money and pricing --------------------------------------------------------------------------


def test_rounding_follows_the_currency_minor_unit() -> None:
    assert minor_units("EUR") == 2 and minor_units("JPY") == 0 and minor_units("BHD") == 3
    assert round_money(Decimal("0.125"), "EUR") == Decimal("0.13")  # half up
    assert round_money(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert round_money(Decimal("1.2345"), "BHD") == Decimal("1.235")
    assert to_minor(Decimal("59.50"), "EUR") == 5950
    assert from_minor(5950, "EUR") == Decimal("59.50")
    assert to_minor(Decimal("1.235"), "BHD") == 1235


def test_line_price_with_discount_and_tax() -> None:
    priced = price_line(line(qty="3", price="19.99", discount_percent=Decimal("12.5")), "EUR")
    assert priced.net.amount == Decimal("52.47")  # 59.97 less 12.5 % = 52.47375
    assert priced.tax.amount == Decimal("9.97")  # 19 % of 52.47 = 9.9693


def test_totals_per_rate_add_up() -> None:
    lines = [
        price_line(line(1, "1", "0.05", "19"), "EUR"),
        price_line(line(2, "1", "0.05", "19"), "EUR"),
        price_line(line(3, "1", "10.00", "7"), "EUR"),
    ]
    totals = totals_of(lines, "EUR")
    assert totals.net.amount == Decimal("10.10")
    assert totals.tax.amount == sum(t.tax.amount for t in totals.tax_by_rate)
    assert totals.gross.amount == totals.net.amount + totals.tax.amount
    assert [t.rate for t in totals.tax_by_rate] == [Decimal("7"), Decimal("19")]


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=4),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=4),
            st.sampled_from([Decimal("0"), Decimal("7"), Decimal("19"), Decimal("20")]),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["EUR", "JPY", "BHD"]),
)
def test_no_cent_is_lost(specs, currency) -> None:
    lines = [
        price_line(line(i + 1, str(q), str(p), str(r), discount_percent=d), currency)
        for i, (q, p, r, d) in enumerate(specs)
    ]
    totals = totals_of(lines, currency)
    assert totals.net.amount == sum(x.net.amount for x in lines)
    assert totals.tax.amount == sum(x.tax.amount for x in lines)
    assert totals.gross.amount == totals.net.amount + totals.tax.amount
    assert sum(t.net.amount for t in totals.tax_by_rate) == totals.net.amount
    exponent = -minor_units(currency)
    assert all(x.net.amount.as_tuple().exponent >= exponent for x in lines)


# --- validation ---------------------------------------------------------------------------------


def check(lines=None, bill_to=ADDRESS, ship_to=ADDRESS, credit=Credit(None), **kw):
    priced = [price_line(x, "EUR") for x in (lines or [line()])]
    return check_order(
        currency="EUR",
        lines=priced,
        totals=kw.pop("totals", totals_of(priced, "EUR")),
        bill_to=bill_to,
        ship_to=ship_to,
        requested_delivery_date=kw.pop("requested", None),
        credit=credit,
        today=TODAY,
        countries_without_postal_code={"HK"},
    )


def codes(reasons) -> list[str]:
    return [r.code for r in reasons]


def test_a_good_order_has_no_reasons() -> None:
    assert check() == []


def test_addresses_must_be_complete() -> None:
    assert codes(check(ship_to=None)) == ["missing_ship_to"]
    no_zip = Address(street="Dock 1", city="Hamburg", country="DE")
    [reason] = check(bill_to=no_zip)
    assert reason.code == "incomplete_bill_to" and "postal_code" in reason.message
    assert check(ship_to=Address(street="1 Queen's Rd", city="Hong Kong", country="HK")) == []
    blank = Address(street="  ", postal_code="1", city="X", country="DE")
    assert codes(check(ship_to=blank)) == ["incomplete_ship_to"]


def test_lines_are_checked_one_by_one() -> None:
    reasons = check(
        lines=[line(1, qty="1.5"), line(1), line(2, qty="1.5", unit="KGM")],
        requested=date(2026, 3, 1),
    )
    assert ("fractional_quantity", 1) in [(r.code, r.line_no) for r in reasons]
    assert ("duplicate_line_no", 1) in [(r.code, r.line_no) for r in reasons]
    assert "fractional_quantity" not in [r.code for r in reasons if r.line_no == 2]  # kg
    assert codes(reasons).count("delivery_date_in_past") == 3
    assert check(requested=TODAY) == []


def test_credit_limit_on_open_value_plus_this_order() -> None:
    # the order is 23.80 gross
    assert (
        check(credit=Credit(Money(amount=Decimal("100"), currency="EUR"), Decimal("76.20"))) == []
    )
    [reason] = check(credit=Credit(Money(amount=Decimal("100"), currency="EUR"), Decimal("76.21")))
    assert reason.code == "credit_limit_exceeded"
    usd = Credit(Money(amount=Decimal("1e9"), currency="USD"))
    assert codes(check(credit=usd)) == ["credit_limit_currency_mismatch"]
    # every reason at once: an address problem does not hide the credit problem
    tight = Credit(Money(amount=Decimal("1"), currency="EUR"))
    assert codes(check(ship_to=None, credit=tight)) == ["missing_ship_to", "credit_limit_exceeded"]


def test_amounts_too_large_to_keep_reject_the_order() -> None:
    assert fits(Decimal("9999999999999.99"), "EUR") and not fits(Decimal("1e13"), "EUR")
    assert not fits(Decimal("1E+999999"), "EUR")  # no Decimal overflow on the way
    big = [line(1, qty="2", price="4500000000000")]  # the line fits, its gross with VAT not
    assert [(r.code, r.line_no) for r in check(lines=big)] == [("amount_too_large", None)]
    huge = line(1, qty="1", price="1e20")
    reasons = check(lines=[huge], credit=Credit(Money(amount=Decimal("1"), currency="EUR")))
    # no credit check on an order value that cannot be kept
    assert [(r.code, r.line_no) for r in reasons] == [
        ("amount_too_large", 1),
        ("amount_too_large", None),
    ]


# --- state machine ------------------------------------------------------------------------------


def test_fulfilment_targets() -> None:
    assert fulfilment_target("fulfillment.planned.v1") == S.IN_FULFILLMENT
    assert fulfilment_target("shipment.dispatched.v1") == S.IN_FULFILLMENT
    assert (
        fulfilment_target("shipment.delivered.v1", "partially_delivered") == S.PARTIALLY_DELIVERED
    )
    assert fulfilment_target("shipment.delivered.v1", "delivered") == S.DELIVERED
    assert fulfilment_target("fulfillment.completed.v1") == S.COMPLETED
    assert fulfilment_target("task.completed.v1") == S.IN_FULFILLMENT
    assert implies_work("task.completed.v1") and not implies_dispatch("task.completed.v1")
    assert not implies_work("shipment.dispatched.v1")
    assert implies_dispatch("shipment.delivered.v1") and not implies_dispatch(
        "fulfillment.planned.v1"
    )
    with pytest.raises(ValueError):
        fulfilment_target("order.confirmed.v1")


CHAIN = [S.CONFIRMED, S.IN_FULFILLMENT, S.PARTIALLY_DELIVERED, S.DELIVERED, S.COMPLETED]


@given(st.lists(st.sampled_from(CHAIN[1:]), min_size=1, max_size=12))
def test_status_never_moves_backwards_whatever_the_arrival_order(targets) -> None:
    status = S.CONFIRMED
    for target in targets:
        step = advance(status, target)
        assert CHAIN.index(step.status) >= CHAIN.index(status)
        status = step.status
    assert status == max(targets, key=CHAIN.index)


def test_final_states_are_not_moved_by_fulfilment() -> None:
    for final in (S.CANCELLED, S.REJECTED):
        assert advance(final, S.DELIVERED).changed is False
    assert advance(S.COMPLETED, S.DELIVERED).changed is False


def test_cancellation_only_before_dispatch() -> None:
    assert cancellation_refused(S.CONFIRMED, dispatched=False) is None
    assert cancellation_refused(S.IN_FULFILLMENT, dispatched=False) is None
    assert "dispatched" in cancellation_refused(S.IN_FULFILLMENT, dispatched=True)
    for status in (S.CONFIRMED, S.IN_FULFILLMENT):
        refused = cancellation_refused(status, dispatched=False, work_performed=True)
        assert refused is not None and "service work" in refused
    for status in (S.PARTIALLY_DELIVERED, S.DELIVERED, S.COMPLETED, S.CANCELLED, S.REJECTED):
        assert cancellation_refused(status, dispatched=False) is not None
    assert set(OPEN_STATUSES) == {S.CONFIRMED, S.IN_FULFILLMENT, S.PARTIALLY_DELIVERED, S.DELIVERED}


# --- numbers ------------------------------------------------------------------------------------


def test_numbers_and_series() -> None:
    assert format_number("SO-2026", 123) == "SO-2026-000123"
    assert format_number("SO-2026", 1234567) == "SO-2026-1234567"
    new_year_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert series_of("SO", new_year_utc) == "SO-2026"
    assert series_of("SO", new_year_utc, "Europe/Berlin") == "SO-2027"
    with pytest.raises(ValueError):
        format_number("SO-2026", 0)
