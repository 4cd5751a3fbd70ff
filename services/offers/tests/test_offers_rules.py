"""Pure rules: configuration constraints, price book precedence, approval, lifecycle, diffs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from offers.domain import lifecycle
from offers.domain.approval import approval_reasons, approval_refusal, discount_limit
from offers.domain.configuration import (
    Component,
    Condition,
    LineRequest,
    OptionDef,
    ProductDef,
    Rule,
    RuleKind,
    configure_line,
    configure_offer,
    definition_problems,
)
from offers.domain.lifecycle import NotAllowed
from offers.domain.pricebooks import PriceBookDef, PriceEntryDef, PriceList
from offers.domain.revisions import describe_changes

LATHE = ProductDef(
    sku="LATHE",
    name="Lathe",
    kind="goods",
    options=(
        OptionDef("voltage", "Voltage", ("230V", "400V", "480V"), required=True),
        OptionDef("plug", "Plug", ("EU", "US")),
        OptionDef("cooling", "Cooling", ("air", "water"), default="air"),
        OptionDef("engraving", "Engraving"),
    ),
    rules=(
        Rule(RuleKind.REQUIRES, Condition("voltage", "480V"), Condition("plug", "US")),
        Rule(
            RuleKind.EXCLUDES,
            Condition("cooling", "water"),
            Condition("voltage", "230V"),
            name="no-water-on-230V",
        ),
    ),
)
INSTALL = ProductDef(sku="INSTALL", name="Installation", kind="service", requires_skus=("LATHE",))
OLD = ProductDef(sku="OLD", name="Old lathe", kind="goods", active=False, excludes_skus=("LATHE",))


def test_a_valid_configuration_gets_its_defaults() -> None:
    line, problems = configure_line(LATHE, LineRequest(1, "LATHE", (("voltage", "400V"),)))
    assert problems == []
    assert line.options == {"voltage": "400V", "cooling": "air"}


def test_every_violated_rule_is_named() -> None:
    request = LineRequest(
        1,
        "LATHE",
        (
            ("voltage", "480V"),  # requires plug=US, which is missing
            ("cooling", "water"),
            ("colour", "red"),  # unknown option
            ("plug", "UK"),  # not an allowed value
            ("cooling", "air"),  # chosen twice
        ),
    )
    _, problems = configure_line(LATHE, request)
    rules = sorted(p.rule for p in problems)
    assert rules == [
        "duplicate_option",
        "requires:voltage=480V requires plug=US",
        "unknown_option",
        "value_not_allowed",
    ]
    _, problems = configure_line(
        LATHE, LineRequest(2, "LATHE", (("voltage", "230V"), ("cooling", "water")))
    )
    assert [p.rule for p in problems] == ["excludes:no-water-on-230V"]
    _, problems = configure_line(LATHE, LineRequest(3, "LATHE", (("engraving", ""),)))
    assert sorted(p.rule for p in problems) == ["option_required", "value_not_allowed"]


def test_product_rules_across_lines() -> None:
    products = {p.sku: p for p in (LATHE, INSTALL, OLD)}
    _, problems = configure_offer(
        products,
        [LineRequest(1, "INSTALL"), LineRequest(2, "OLD"), LineRequest(3, "NOPE")],
    )
    assert sorted(p.rule for p in problems) == [
        "product_inactive",
        "product_requires:INSTALL->LATHE",
        "unknown_sku",
    ]
    _, problems = configure_offer(
        products, [LineRequest(1, "LATHE", (("voltage", "400V"),)), LineRequest(2, "OLD")]
    )
    assert sorted(p.rule for p in problems) == [
        "product_excludes:OLD->LATHE",
        "product_inactive",
    ]


def test_definitions_are_checked() -> None:
    bundle = ProductDef(
        sku="KIT",
        name="Kit",
        kind="goods",
        options=(
            OptionDef("a", "A", ("x", "x"), default="y"),
            OptionDef("a", "A again", ("x",)),
        ),
        rules=(Rule(RuleKind.REQUIRES, Condition("a", "z"), Condition("b")),),
        components=(Component("KIT", D(1)), Component("GHOST", D(0)), Component("LATHE", D(1))),
        requires_skus=("LATHE",),
        excludes_skus=("LATHE",),
    )
    problems = {p.rule for p in definition_problems(bundle, {"LATHE": LATHE})}
    assert problems == {
        "duplicate_option",
        "duplicate_value",
        "default_not_allowed",
        "rule_unknown_value",
        "rule_unknown_option",
        "bundle_self",
        "bundle_unknown_component",
        "bundle_quantity",
        "requires_and_excludes",
    }
    nested = ProductDef("BIG", "Big", "goods", components=(Component("KIT", D(1)),))
    kit = ProductDef("KIT", "Kit", "goods", components=(Component("LATHE", D(1)),))
    assert [p.rule for p in definition_problems(nested, {"KIT": kit})] == ["bundle_nested"]


def _book(id_: str, **kw) -> PriceBookDef:
    return PriceBookDef(
        id=id_,
        name=id_,
        currency=kw.pop("currency", "EUR"),
        valid_from=kw.pop("valid_from", date(2026, 1, 1)),
        **kw,
    )


def test_customer_prices_override_segment_prices_override_list_prices() -> None:
    books = [
        _book("list"),
        _book("list-new", valid_from=date(2026, 3, 1)),
        _book("large", segment="large"),
        _book("acme", customer_id="acme"),
        _book("acme-expired", customer_id="acme", valid_to=date(2026, 2, 1), priority=9),
        _book("usd", currency="USD"),
        _book("inactive", customer_id="acme", active=False, priority=9),
    ]
    entries = [
        PriceEntryDef("list", "A", D("100")),
        PriceEntryDef("list-new", "A", D("105")),
        PriceEntryDef("list", "B", D("50")),
        PriceEntryDef("large", "A", D("90")),
        PriceEntryDef("large", "B", D("45")),
        PriceEntryDef("acme", "A", D("80")),
        PriceEntryDef("acme-expired", "A", D("1")),
        PriceEntryDef("inactive", "A", D("2")),
        PriceEntryDef("usd", "A", D("3")),
        PriceEntryDef("list", "A", D("15"), option_code="voltage", option_value="400V"),
    ]

    def price(customer: str | None, segment: str | None, sku: str, on=date(2026, 3, 2)):
        rule = PriceList(
            books, entries, currency="EUR", customer_id=customer, segment=segment, on=on
        ).price(sku)
        return rule.list_price if rule else None

    assert price("acme", "large", "A") == D("80")  # customer-specific wins
    assert price("acme", "large", "B") == D("45")  # falls back to the segment book
    assert price("other", "small", "A") == D("105")  # newest general book
    assert price("other", "small", "A", on=date(2026, 2, 1)) == D("100")
    assert price("other", None, "C") is None
    plist = PriceList(
        books, entries, currency="EUR", customer_id=None, segment=None, on=date(2026, 3, 2)
    )
    assert plist.surcharge("A", "voltage", "400V") == D("15")
    assert plist.surcharge("A", "voltage", "230V") == D("0")


def test_discount_limits_and_reasons() -> None:
    limits = {"sales_rep": D("10"), "sales_manager": D("20")}
    rep = discount_limit({"sales_rep"}, limits)
    assert rep.percent == D("10")
    assert discount_limit({"sales_rep", "sales_manager"}, limits).percent == D("20")
    assert discount_limit({"analyst"}, limits).percent == D("0")
    assert approval_reasons(D("0"), [(1, D("10")), (2, D("5"))], rep) == []
    reasons = approval_reasons(D("12"), [(1, D("12")), (2, D("15.5"))], rep)
    assert reasons == [
        "document discount 12% > 10% allowed for sales_rep",
        "line 1: discount 12% > 10% allowed for sales_rep",
        "line 2: discount 15.5% > 10% allowed for sales_rep",
    ]


def test_self_approval_is_refused() -> None:
    assert approval_refusal("bob", {"sales_manager"}, "alice", "alice") is None
    assert "owner" in approval_refusal("alice", {"sales_manager"}, "alice", "carol")
    assert "requested" in approval_refusal("carol", {"sales_manager"}, "alice", "carol")
    assert "sales_manager" in approval_refusal("dave", {"sales_rep"}, "alice", "alice")


def test_lifecycle_guards() -> None:
    today = date(2026, 3, 2)
    lifecycle.check_send("draft", "not_required", today, today)
    lifecycle.check_send("approved", "approved", today, today)
    for status, approval, until in (
        ("approval_pending", "pending", today),
        ("draft", "rejected", today),
        ("sent", "not_required", today),
        ("accepted", "not_required", today),
        ("draft", "not_required", date(2026, 3, 1)),
    ):
        with pytest.raises(NotAllowed):
            lifecycle.check_send(status, approval, until, today)
    ok = {"latest": 2, "requested": None, "action": "accept"}
    lifecycle.check_customer_answer("sent", today, today, **ok)
    with pytest.raises(NotAllowed, match="latest"):
        lifecycle.check_customer_answer(
            "sent", today, today, latest=2, requested=1, action="accept"
        )
    with pytest.raises(NotAllowed, match="not been sent"):
        lifecycle.check_customer_answer("draft", today, today, **ok)
    with pytest.raises(NotAllowed, match="already accepted"):
        lifecycle.check_customer_answer("accepted", today, today, **ok)
    with pytest.raises(NotAllowed, match="expired"):
        lifecycle.check_customer_answer("sent", date(2026, 3, 1), today, **ok)
    assert lifecycle.is_expired("sent", date(2026, 3, 1), today)
    assert not lifecycle.is_expired("sent", today, today)  # valid through its last day
    assert not lifecycle.is_expired("accepted", date(2026, 3, 1), today)


def test_changes_between_versions_are_described() -> None:
    line = {
        "line_no": 1,
        "sku": "A",
        "quantity": "2",
        "line_discount_percent": "5",
        "unit_price": "10.00",
        "net": "19.00",
        "tax_rate": "19",
        "options": [{"code": "voltage", "value": "230V"}],
    }
    old = {
        "currency": "EUR",
        "lines": [line, {**line, "line_no": 2, "sku": "B"}],
        "discount_percent": "0",
        "terms": {"payment_days": 30, "incoterms": "EXW"},
        "valid_until": "2026-04-01",
        "totals": {"net": {"amount": "38.00"}, "gross": {"amount": "45.22"}},
    }
    new = {
        **old,
        "lines": [
            {
                **line,
                "quantity": "3.0",
                "line_discount_percent": "10",
                "options": [{"code": "voltage", "value": "400V"}],
            },
            {**line, "line_no": 3, "sku": "C"},
        ],
        "discount_percent": "2",
        "terms": {"payment_days": 14, "incoterms": "EXW"},
        "totals": {"net": {"amount": "40.00"}, "gross": {"amount": "47.60"}},
    }
    assert describe_changes(old, new) == [
        "line 2 removed (B)",
        "line 3 added: 2 × C",
        "line 1 quantity 2 -> 3",
        "line 1 discount % 5 -> 10",
        "line 1 option voltage 230V -> 400V",
        "document discount 0% -> 2%",
        "payment days 30 -> 14",
        "total net 38.00 -> 40.00 EUR",
        "total gross 45.22 -> 47.60 EUR",
    ]
    assert describe_changes(old, old) == []
