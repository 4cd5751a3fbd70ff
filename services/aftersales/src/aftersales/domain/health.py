"""Account health: a score of 0-100 with its breakdown, from open tickets, SLA breaches, repeat
orders and renewals coming due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Band = Literal["healthy", "at_risk", "critical"]
BANDS: tuple[Band, ...] = ("healthy", "at_risk", "critical")


@dataclass(frozen=True)
class HealthWeights:
    base: int = 75
    open_ticket_points: Mapping[str, int] = field(
        default_factory=lambda: {"P1": 15, "P2": 8, "P3": 4, "P4": 2}
    )
    open_tickets_cap: int = 30
    breach_points: int = 10
    breaches_cap: int = 30
    repeat_order_points: int = 10
    repeat_orders_cap: int = 25
    renewal_due_points: int = 5
    renewals_cap: int = 15
    healthy_from: int = 70
    at_risk_from: int = 40


@dataclass(frozen=True)
class HealthInputs:
    open_tickets: Mapping[str, int]  # by severity
    sla_breaches: int  # tickets with a breached target in the health window
    repeat_orders: int
    renewals_due: int  # warranties / contracts ending within the notice period


@dataclass(frozen=True)
class HealthFactor:
    factor: str
    count: int
    points: int
    detail: str


@dataclass(frozen=True)
class Health:
    score: int
    band: Band
    breakdown: list[HealthFactor]


def health_score(inputs: HealthInputs, weights: HealthWeights | None = None) -> Health:
    w = weights or HealthWeights()
    open_count = sum(inputs.open_tickets.values())
    ticket_points = sum(
        w.open_ticket_points.get(sev, 0) * n for sev, n in sorted(inputs.open_tickets.items())
    )
    by_sev = ", ".join(f"{n}×{s}" for s, n in sorted(inputs.open_tickets.items()) if n) or "none"
    factors = [
        HealthFactor("base", 0, w.base, "starting point of every account"),
        HealthFactor(
            "open_tickets",
            open_count,
            -min(ticket_points, w.open_tickets_cap),
            f"open tickets by severity: {by_sev}",
        ),
        HealthFactor(
            "sla_breaches",
            inputs.sla_breaches,
            -min(inputs.sla_breaches * w.breach_points, w.breaches_cap),
            "tickets that missed a response or resolution target",
        ),
        HealthFactor(
            "repeat_orders",
            inputs.repeat_orders,
            min(inputs.repeat_orders * w.repeat_order_points, w.repeat_orders_cap),
            "orders after the first one",
        ),
        HealthFactor(
            "renewals_due",
            inputs.renewals_due,
            -min(inputs.renewals_due * w.renewal_due_points, w.renewals_cap),
            "warranties and contracts ending soon: at risk until renewed",
        ),
    ]
    score = max(0, min(100, sum(f.points for f in factors)))
    band: Band = (
        "healthy"
        if score >= w.healthy_from
        else "at_risk"
        if score >= w.at_risk_from
        else "critical"
    )
    return Health(score=score, band=band, breakdown=factors)
