"""Scoring: fit rules over the NACE hierarchy, decay by half-life, caps, MQL threshold."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from leads.domain.scoring import (
    FitRule,
    KindPoints,
    ScoringModel,
    crosses_mql,
    decay_factor,
    score,
)
from leads.reference import nace_table

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TABLE = nace_table("2.1")


@dataclass
class Company:
    nace: str | None = "62.10"
    nace_rev: str | None = "2.1"
    size_class: str | None = "medium"
    country: str = "DE"
    region: str | None = "DE212"


@dataclass
class Touch:
    kind: str
    occurred_at: datetime


def model(**kw: object) -> ScoringModel:
    values: dict = {
        "version": 3,
        "mql_threshold": Decimal(50),
        "engagement": {
            "demo_request": KindPoints(Decimal(40)),
            "page_visit": KindPoints(Decimal(2), cap=Decimal(5)),
        },
        "half_life_days": Decimal(10),
    }
    values.update(kw)
    return ScoringModel(**values)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_fit_rules_match_nace_at_any_level_and_add_up() -> None:
    rules = (
        FitRule("nace", "K", Decimal(10)),
        FitRule("nace", "62", Decimal(5)),
        FitRule("nace", "J", Decimal(100)),  # another section: no match
        FitRule("size_class", "medium", Decimal(7)),
        FitRule("country", "DE", Decimal(3)),
        FitRule("region", "DE2", Decimal(2)),
        FitRule("region", "DE1", Decimal(50)),
    )
    b = score(model(fit_rules=rules), Company(), [], NOW, TABLE)
    assert b.fit == Decimal("27.00")
    assert [(f.field, f.value) for f in b.fit_lines] == [
        ("nace", "K"),
        ("nace", "62"),
        ("size_class", "medium"),
        ("country", "DE"),
        ("region", "DE2"),
    ]
    assert b.total == b.fit and b.engagement == 0


def test_fit_cap() -> None:
    rules = (FitRule("country", "DE", Decimal(30)), FitRule("size_class", "medium", Decimal(30)))
    b = score(model(fit_rules=rules, fit_cap=Decimal(40)), Company(), [], NOW, TABLE)
    assert b.fit == Decimal("40.00") and b.fit_capped


def test_points_halve_every_half_life() -> None:
    m = model()
    assert score(m, Company(), [Touch("demo_request", NOW)], NOW, TABLE).engagement == 40
    assert score(m, Company(), [Touch("demo_request", ago(10))], NOW, TABLE).engagement == 20
    assert score(m, Company(), [Touch("demo_request", ago(20))], NOW, TABLE).engagement == 10
    assert score(m, Company(), [Touch("demo_request", ago(5))], NOW, TABLE).engagement == Decimal(
        "28.28"
    )
    # a touchpoint from the future counts as now; no half-life means no decay
    assert decay_factor(-3, Decimal(10)) == 1.0
    assert decay_factor(1000, None) == 1.0


def test_kind_cap_and_total_cap() -> None:
    visits = [Touch("page_visit", NOW) for _ in range(10)]  # 20 points, capped at 5
    b = score(model(), Company(), visits, NOW, TABLE)
    line = b.engagement_lines[0]
    assert (line.kind, line.touchpoints, line.points, line.decayed, line.counted) == (
        "page_visit",
        10,
        Decimal(20),
        Decimal("20.00"),
        Decimal(5),
    )
    assert b.engagement == 5
    both = [*visits, Touch("demo_request", NOW)]
    capped = score(model(engagement_cap=Decimal(30)), Company(), both, NOW, TABLE)
    assert capped.engagement == 30 and capped.engagement_capped


def test_unknown_kinds_get_default_points() -> None:
    b = score(model(default_points=Decimal(1)), Company(), [Touch("podcast", NOW)], NOW, TABLE)
    assert b.engagement == 1


def test_score_is_fit_plus_engagement_and_breakdown_serialises() -> None:
    m = model(fit_rules=(FitRule("country", "DE", Decimal(15)),))
    b = score(m, Company(), [Touch("demo_request", ago(10))], NOW, TABLE)
    assert b.total == Decimal("35.00")
    data = b.to_dict()
    assert data["total"] == "35.00" and data["model_version"] == 3
    assert data["engagement_by_kind"][0]["kind"] == "demo_request"


def test_threshold_crossing() -> None:
    t = Decimal(50)
    assert crosses_mql("unqualified", Decimal(50), t)
    assert crosses_mql("nurturing", Decimal(70), t)
    assert not crosses_mql("unqualified", Decimal("49.99"), t)
    assert not crosses_mql("mql", Decimal(80), t)  # already an MQL: no second crossing
    assert not crosses_mql("sql", Decimal(80), t)


def test_decay_moves_a_lead_below_and_a_new_touch_above_the_threshold() -> None:
    m = model()
    touches = [Touch("demo_request", ago(0))]
    assert (
        crosses_mql("unqualified", score(m, Company(), touches, NOW, TABLE).total, m.mql_threshold)
        is False
    )
    touches.append(Touch("demo_request", NOW))
    assert crosses_mql(
        "unqualified", score(m, Company(), touches, NOW, TABLE).total, m.mql_threshold
    )
    later = NOW + timedelta(days=30)  # 80 points → 10 after three half-lives
    assert score(m, Company(), touches, later, TABLE).total == 10
