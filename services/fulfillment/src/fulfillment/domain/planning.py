"""Drafting a fulfilment plan from a confirmed order: goods lines become shipments, service lines
become implementation tasks with a kind, an assignee and a due date."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum


class SplitRule(StrEnum):
    """How goods lines are grouped into shipments."""

    REQUESTED_DATE = "requested_date"  # one shipment per requested delivery date
    SINGLE = "single"  # everything in one shipment, on the latest requested date
    PER_LINE = "per_line"  # one shipment per goods line


class LineKind(StrEnum):
    GOODS = "goods"
    SERVICE = "service"


# Matched against SKU and description, in this order; German terms because customers write them.
DEFAULT_TASK_KEYWORDS: dict[str, str] = {
    "commission": "commissioning",
    "inbetriebnahme": "commissioning",
    "install": "installation",
    "montage": "installation",
    "train": "training",
    "schulung": "training",
    "einweisung": "training",
    "configur": "configuration",
    "konfigur": "configuration",
}
# Days after the last planned delivery of the order by which a task of this kind is due.
DEFAULT_TASK_OFFSET_DAYS: dict[str, int] = {
    "installation": 3,
    "commissioning": 5,
    "configuration": 5,
    "training": 10,
}


@dataclass(frozen=True)
class OrderLineIn:
    line_no: int
    sku: str
    description: str
    quantity: Decimal
    unit: str
    kind: LineKind
    requested_date: date | None = None


@dataclass(frozen=True)
class PlanningRules:
    split: SplitRule = SplitRule.REQUESTED_DATE
    default_lead_days: int = 14  # when neither line nor order names a date
    task_keywords: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TASK_KEYWORDS))
    default_task_kind: str = "implementation"
    task_assignees: Mapping[str, str] = field(default_factory=dict)  # kind -> user id
    default_assignee: str | None = "implementation-team"
    task_offset_days: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_TASK_OFFSET_DAYS)
    )
    default_task_offset_days: int = 7


@dataclass(frozen=True)
class ShipmentDraft:
    seq: int
    planned_date: date
    lines: tuple[OrderLineIn, ...]


@dataclass(frozen=True)
class TaskDraft:
    seq: int
    line: OrderLineIn
    kind: str
    assignee: str | None
    due_date: date


@dataclass(frozen=True)
class PlanDraft:
    shipments: tuple[ShipmentDraft, ...]
    tasks: tuple[TaskDraft, ...]


def draft_plan(
    lines: Sequence[OrderLineIn],
    *,
    requested_date: date | None,
    today: date,
    rules: PlanningRules,
) -> PlanDraft:
    """``today`` is the day the order was confirmed (so a replay plans the same dates)."""
    fallback = requested_date or days_after(today, rules.default_lead_days)
    goods = sorted((ln for ln in lines if ln.kind is LineKind.GOODS), key=lambda ln: ln.line_no)
    services = sorted(
        (ln for ln in lines if ln.kind is LineKind.SERVICE), key=lambda ln: ln.line_no
    )
    shipments = _split(goods, fallback, rules.split)
    last_delivery = max((s.planned_date for s in shipments), default=None)
    tasks = tuple(
        _task(seq, line, fallback, last_delivery, rules)
        for seq, line in enumerate(services, start=1)
    )
    return PlanDraft(shipments=shipments, tasks=tasks)


def days_after(day: date, days: int) -> date:
    """``day`` plus ``days``, at most the calendar's last day: a date near its end (however odd)
    must still get a plan rather than fail the confirmed order for good."""
    if (date.max - day).days < days:
        return date.max
    return day + timedelta(days=days)


def task_kind(sku: str, description: str, rules: PlanningRules) -> str:
    text = f"{sku} {description}".lower()
    for keyword, kind in rules.task_keywords.items():
        if keyword.lower() in text:
            return kind
    return rules.default_task_kind


def _split(
    goods: Sequence[OrderLineIn], fallback: date, rule: SplitRule
) -> tuple[ShipmentDraft, ...]:
    if not goods:
        return ()

    def when(line: OrderLineIn) -> date:
        return line.requested_date or fallback

    if rule is SplitRule.SINGLE:
        groups = [(max(when(ln) for ln in goods), list(goods))]
    elif rule is SplitRule.PER_LINE:
        groups = [(when(ln), [ln]) for ln in goods]
    else:
        by_date: dict[date, list[OrderLineIn]] = {}
        for line in goods:
            by_date.setdefault(when(line), []).append(line)
        groups = sorted(by_date.items())
    return tuple(
        ShipmentDraft(seq=i, planned_date=day, lines=tuple(group))
        for i, (day, group) in enumerate(groups, start=1)
    )


def _task(
    seq: int,
    line: OrderLineIn,
    fallback: date,
    last_delivery: date | None,
    rules: PlanningRules,
) -> TaskDraft:
    kind = task_kind(line.sku, line.description, rules)
    if line.requested_date is not None:  # the customer named a date for this very service
        due = line.requested_date
    elif last_delivery is not None:  # implementation follows the goods
        offset = rules.task_offset_days.get(kind, rules.default_task_offset_days)
        due = days_after(max(fallback, last_delivery), offset)
    else:
        due = fallback
    assignee = rules.task_assignees.get(kind, rules.default_assignee)
    return TaskDraft(seq=seq, line=line, kind=kind, assignee=assignee, due_date=due)
