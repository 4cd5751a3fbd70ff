"""Pure rules: installed base from a delivery, warranty terms, renewals, account health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from aftersales.domain.health import HealthInputs, health_score
from aftersales.domain.installed_base import (
    ProductTerms,
    add_months,
    asset_id,
    assets_from_delivery,
    lookup,
    term_end,
)
from aftersales.domain.renewals import Coverage, estimated_value, group, renewals_due
from aftersales.domain.tickets import warranty_status


@dataclass
class Item:
    line_no: int
    sku: str
    kind: str
    quantity: Decimal
    serial_numbers: list[str] = field(default_factory=list)
    delivered_on: date = date(2026, 3, 2)
    description: str | None = None


TERMS = ProductTerms(
    default_warranty_months=24,
    warranty_months={"LATHE-*": 36, "LATHE-MINI": 12, "CABLE-*": 0},
    contract_months={"SVC-CARE-*": 12},
)


def test_warranty_terms_exact_sku_before_longest_pattern() -> None:
    assert TERMS.warranty_for("LATHE-MINI") == 12
    assert TERMS.warranty_for("LATHE-500") == 36
    assert TERMS.warranty_for("DRILL-1") == 24
    assert lookup({"A*": 1, "AB*": 2}, "ABC") == 2
    assert TERMS.contract_for("SVC-INSTALL") is None
    assert TERMS.contract_for("SVC-CARE-GOLD") == 12


def test_term_end_is_the_last_day_and_clamps_month_ends() -> None:
    assert term_end(date(2026, 3, 2), 24) == date(2028, 3, 1)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert term_end(date(2026, 3, 2), 0) is None


def test_assets_one_per_serial_rest_as_one_line_contracts_kept_work_dropped() -> None:
    items = [
        Item(1, "LATHE-500", "goods", Decimal(3), ["SN-1", "SN-2", "SN-2", ""]),
        Item(2, "CABLE-10", "goods", Decimal("12.5")),
        Item(3, "SVC-INSTALL", "service", Decimal(1)),
        Item(4, "SVC-CARE-GOLD", "service", Decimal(1)),
    ]
    assets = assets_from_delivery("ord-1", items, TERMS)
    summary = [(a.line_no, a.unit_no, a.kind, a.serial_number, a.quantity) for a in assets]
    assert summary == [
        (1, 1, "goods", "SN-1", Decimal(1)),
        (1, 2, "goods", "SN-2", Decimal(1)),
        (1, 0, "goods", None, Decimal(1)),  # the third lathe came without a serial
        (2, 0, "goods", None, Decimal("12.5")),
        (4, 0, "contract", None, Decimal(1)),
    ]
    lathe, cable, contract = assets[0], assets[3], assets[4]
    assert lathe.warranty_end == date(2029, 3, 1) and lathe.contract_end is None
    assert cable.warranty_end is None  # 0 months: no warranty
    assert contract.contract_end == date(2027, 3, 1) and contract.warranty_end is None


def test_asset_ids_are_stable_across_redeliveries() -> None:
    items = [Item(1, "LATHE-500", "goods", Decimal(1), ["SN-1"])]
    first = assets_from_delivery("ord-1", items, TERMS)
    again = assets_from_delivery("ord-1", items, TERMS)
    assert [a.asset_id for a in first] == [a.asset_id for a in again]
    assert first[0].asset_id == asset_id("ord-1", 1, 1) != asset_id("ord-2", 1, 1)


def test_warranty_status() -> None:
    end = date(2028, 3, 1)
    assert warranty_status(end, date(2028, 3, 1)) == "in_warranty"
    assert warranty_status(end, date(2028, 3, 2)) == "out_of_warranty"
    assert warranty_status(None, date(2028, 3, 2)) == "unknown"


# --- renewals ---------------------------------------------------------------------------------


def test_renewals_due_within_the_notice_period_only() -> None:
    today = date(2026, 6, 1)
    cov = Coverage("a1", "acc", warranty_end=date(2026, 8, 30), contract_end=date(2026, 9, 1))
    due = renewals_due(cov, today, notice_days=90)
    assert [(d.kind, d.due_date) for d in due] == [("warranty", date(2026, 8, 30))]
    assert renewals_due(cov, today, notice_days=92)[1].kind == "contract"
    ended = Coverage("a2", "acc", warranty_end=date(2026, 5, 31), contract_end=None)
    assert renewals_due(ended, today, notice_days=90) == []


def test_renewals_grouped_per_account_kind_and_day() -> None:
    today = date(2026, 6, 1)
    due = [
        d
        for cov in (
            Coverage("a1", "acc-1", date(2026, 7, 1), None),
            Coverage("a2", "acc-1", date(2026, 7, 1), None),
            Coverage("a3", "acc-1", date(2026, 7, 2), None),
            Coverage("a4", "acc-2", date(2026, 7, 1), date(2026, 7, 1)),
        )
        for d in renewals_due(cov, today, 90)
    ]
    groups = group(due)
    assert sorted((k, [d.asset_id for d in v]) for k, v in groups.items()) == [
        (("acc-1", "warranty", date(2026, 7, 1)), ["a1", "a2"]),
        (("acc-1", "warranty", date(2026, 7, 2)), ["a3"]),
        (("acc-2", "contract", date(2026, 7, 1)), ["a4"]),
        (("acc-2", "warranty", date(2026, 7, 1)), ["a4"]),
    ]


def test_renewal_estimates() -> None:
    rate = Decimal("0.08")
    # a contract renews at its price; a warranty costs 8 % of the unit's share of the line
    assert estimated_value("contract", Decimal("1200"), Decimal(1), Decimal(1), rate) == Decimal(
        "1200.00"
    )
    assert estimated_value("warranty", Decimal("30000"), Decimal(3), Decimal(1), rate) == Decimal(
        "800.00"
    )
    assert estimated_value("warranty", None, None, Decimal(1), rate) == Decimal("0.00")


# --- health -----------------------------------------------------------------------------------


def test_a_quiet_account_is_healthy() -> None:
    health = health_score(HealthInputs({}, 0, 0, 0))
    assert (health.score, health.band) == (75, "healthy")
    assert [f.factor for f in health.breakdown] == [
        "base",
        "open_tickets",
        "sla_breaches",
        "repeat_orders",
        "renewals_due",
    ]


def test_health_breakdown_adds_up_and_caps_each_factor() -> None:
    health = health_score(HealthInputs({"P1": 1, "P3": 2}, 1, 1, 2))
    points = {f.factor: f.points for f in health.breakdown}
    assert points == {
        "base": 75,
        "open_tickets": -23,
        "sla_breaches": -10,
        "repeat_orders": 10,
        "renewals_due": -10,
    }
    assert health.score == sum(points.values()) == 42
    assert health.band == "at_risk"
    worst = health_score(HealthInputs({"P1": 9}, 9, 0, 9))
    assert {f.factor: f.points for f in worst.breakdown}["open_tickets"] == -30
    assert (worst.score, worst.band) == (0, "critical")
    best = health_score(HealthInputs({}, 0, 50, 0))
    assert best.score == 100 and best.band == "healthy"


@pytest.mark.parametrize(("repeat", "band"), [(0, "at_risk"), (2, "healthy")])
def test_repeat_business_offsets_a_breach(repeat: int, band: str) -> None:
    assert health_score(HealthInputs({"P2": 1}, 1, repeat, 0)).band == band
