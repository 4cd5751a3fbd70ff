"""Lead scoring: fit (firmographics) + engagement (touchpoints, decayed by a half-life, capped).

Score = min(fit, fit_cap) + min(Σ_kind min(Σ decayed points of that kind, kind cap), engagement
cap). A touchpoint's points decay as ``points · 0.5^(age_days / half_life_days)``; a touchpoint in
the future counts as if it happened now. Scores are Decimals rounded to 0.01.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal, Protocol

from leads.domain.nace import NaceTable

FitField = Literal["nace", "size_class", "country", "region"]
CENT = Decimal("0.01")


def _q(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


class CompanyFacts(Protocol):
    nace: str | None
    nace_rev: str | None
    size_class: str | None
    country: str
    region: str | None


@dataclass(frozen=True)
class FitRule:
    field: FitField
    value: str
    points: Decimal

    def applies(self, company: CompanyFacts, table: NaceTable) -> bool:
        if self.field == "nace":
            return (
                company.nace is not None
                and company.nace_rev == table.revision
                and table.covers(self.value, company.nace)
            )
        if self.field == "region":
            return company.region is not None and company.region.startswith(self.value)
        if self.field == "size_class":
            return company.size_class == self.value
        return company.country == self.value


@dataclass(frozen=True)
class KindPoints:
    points: Decimal
    cap: Decimal | None = None


@dataclass(frozen=True)
class ScoringModel:
    version: int
    mql_threshold: Decimal
    fit_rules: tuple[FitRule, ...] = ()
    fit_cap: Decimal | None = None
    engagement: dict[str, KindPoints] = field(default_factory=dict)
    default_points: Decimal = Decimal(0)
    half_life_days: Decimal | None = Decimal(30)
    engagement_cap: Decimal | None = None
    nace_rev: str = "2.1"


DEFAULT_MODEL = ScoringModel(
    version=1,
    mql_threshold=Decimal(50),
    engagement={
        "demo_request": KindPoints(Decimal(40)),
        "webinar_registered": KindPoints(Decimal(15), Decimal(30)),
        "event_visit": KindPoints(Decimal(15), Decimal(30)),
        "whitepaper_download": KindPoints(Decimal(10), Decimal(30)),
        "form_submit": KindPoints(Decimal(10), Decimal(20)),
        "newsletter_signup": KindPoints(Decimal(5), Decimal(5)),
        "email_click": KindPoints(Decimal(2), Decimal(10)),
        "page_visit": KindPoints(Decimal(1), Decimal(10)),
    },
    half_life_days=Decimal(30),
    engagement_cap=Decimal(80),
)
"""Used until someone stores a model with ``PUT /scoring-model`` (whose first version is 2)."""


class Touch(Protocol):
    kind: str
    occurred_at: datetime


@dataclass(frozen=True)
class FitLine:
    field: str
    value: str
    points: Decimal


@dataclass(frozen=True)
class EngagementLine:
    kind: str
    touchpoints: int
    points: Decimal  # before decay
    decayed: Decimal  # after decay, before the kind's cap
    counted: Decimal  # after the kind's cap


@dataclass(frozen=True)
class Breakdown:
    model_version: int
    fit: Decimal
    engagement: Decimal
    total: Decimal
    fit_lines: tuple[FitLine, ...]
    engagement_lines: tuple[EngagementLine, ...]
    fit_capped: bool
    engagement_capped: bool
    computed_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "fit": str(self.fit),
            "engagement": str(self.engagement),
            "total": str(self.total),
            "fit_capped": self.fit_capped,
            "engagement_capped": self.engagement_capped,
            "computed_at": self.computed_at.isoformat(),
            "fit_rules": [
                {"field": f.field, "value": f.value, "points": str(f.points)}
                for f in self.fit_lines
            ],
            "engagement_by_kind": [
                {
                    "kind": e.kind,
                    "touchpoints": e.touchpoints,
                    "points": str(e.points),
                    "decayed": str(e.decayed),
                    "counted": str(e.counted),
                }
                for e in self.engagement_lines
            ],
        }


def decay_factor(age_days: float, half_life_days: Decimal | None) -> float:
    if not half_life_days or age_days <= 0:
        return 1.0
    return 0.5 ** (age_days / float(half_life_days))


def score(
    model: ScoringModel,
    company: CompanyFacts,
    touches: Iterable[Touch],
    now: datetime,
    table: NaceTable,
) -> Breakdown:
    fit_lines = tuple(
        FitLine(r.field, r.value, r.points) for r in model.fit_rules if r.applies(company, table)
    )
    fit = sum((f.points for f in fit_lines), Decimal(0))
    fit_capped = model.fit_cap is not None and fit > model.fit_cap
    if fit_capped:
        fit = model.fit_cap  # type: ignore[assignment]

    per_kind: dict[str, list[float]] = {}
    raw: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for touch in touches:
        rule = model.engagement.get(touch.kind)
        points = rule.points if rule else model.default_points
        age = (now - touch.occurred_at).total_seconds() / 86400
        per_kind.setdefault(touch.kind, []).append(
            float(points) * decay_factor(age, model.half_life_days)
        )
        raw[touch.kind] = raw.get(touch.kind, Decimal(0)) + points
        counts[touch.kind] = counts.get(touch.kind, 0) + 1

    lines = []
    for kind in sorted(per_kind):
        decayed = _q(sum(per_kind[kind]))
        rule = model.engagement.get(kind)
        counted = min(decayed, rule.cap) if rule and rule.cap is not None else decayed
        lines.append(EngagementLine(kind, counts[kind], raw[kind], decayed, counted))
    engagement = sum((line.counted for line in lines), Decimal(0))
    engagement_capped = model.engagement_cap is not None and engagement > model.engagement_cap
    if engagement_capped:
        engagement = model.engagement_cap  # type: ignore[assignment]
    fit, engagement = _q(fit), _q(engagement)
    return Breakdown(
        model_version=model.version,
        fit=fit,
        engagement=engagement,
        total=fit + engagement,
        fit_lines=fit_lines,
        engagement_lines=tuple(lines),
        fit_capped=fit_capped,
        engagement_capped=engagement_capped,
        computed_at=now,
    )


MQL_ELIGIBLE = frozenset({"unqualified", "nurturing"})


def crosses_mql(status: str, new_score: Decimal, threshold: Decimal) -> bool:
    """An unqualified or nurturing lead whose score reached the threshold becomes an MQL. MQL is
    sticky (a later, lower score does not undo it); a recycled lead counts engagement afresh, so
    it has to cross the threshold again."""
    return status in MQL_ELIGIBLE and new_score >= threshold
