"""Pure planning and progress rules: shipment splits, tasks, status, due dates, cancellation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fulfillment.domain.planning import (
    LineKind,
    OrderLineIn,
    PlanningRules,
    SplitRule,
    draft_plan,
    task_kind,
)
from fulfillment.domain.progress import (
    CancelEffect,
    FulfillmentStatus,
    GoodsLine,
    Task,
    TaskStatus,
    cancellation_effect,
    derive_status,
    goods_delivery,
    is_overdue,
    next_due,
    report_refusal,
    task_completion_refusal,
)

TODAY = date(2026, 3, 2)
APR1, APR15 = date(2026, 4, 1), date(2026, 4, 15)


def goods(n: int, when: date | None = None, sku: str = "LATHE") -> OrderLineIn:
    return OrderLineIn(n, f"{sku}-{n}", "Lathe", Decimal(2), "C62", LineKind.GOODS, when)


def service(n: int, text: str, when: date | None = None) -> OrderLineIn:
    return OrderLineIn(n, f"SRV-{n}", text, Decimal("7.5"), "HUR", LineKind.SERVICE, when)


ORDER = [goods(1, APR1), goods(2), goods(3, APR1), service(4, "Installation vor Ort"), goods(5)]


def test_goods_split_by_requested_date_with_the_order_date_as_default() -> None:
    plan = draft_plan(ORDER, requested_date=APR15, today=TODAY, rules=PlanningRules())
    assert [(s.planned_date, [ln.line_no for ln in s.lines]) for s in plan.shipments] == [
        (APR1, [1, 3]),
        (APR15, [2, 5]),
    ]
    assert [s.seq for s in plan.shipments] == [1, 2]


def test_other_split_rules() -> None:
    single = draft_plan(
        ORDER, requested_date=APR15, today=TODAY, rules=PlanningRules(split=SplitRule.SINGLE)
    )
    assert [(s.planned_date, len(s.lines)) for s in single.shipments] == [(APR15, 4)]
    per_line = draft_plan(
        ORDER, requested_date=None, today=TODAY, rules=PlanningRules(split=SplitRule.PER_LINE)
    )
    assert [s.planned_date for s in per_line.shipments] == [
        APR1,
        date(2026, 3, 16),
        APR1,
        date(2026, 3, 16),
    ]


def test_service_lines_become_tasks_with_kind_assignee_and_due_date() -> None:
    rules = PlanningRules(task_assignees={"training": "trainer-1"})
    lines = [
        *ORDER,
        service(6, "Schulung Bediener"),
        service(7, "Remote support", date(2026, 5, 4)),
    ]
    plan = draft_plan(lines, requested_date=APR15, today=TODAY, rules=rules)
    assert [(t.line.line_no, t.kind, t.assignee, t.due_date) for t in plan.tasks] == [
        (4, "installation", "implementation-team", date(2026, 4, 18)),  # 3 days after delivery
        (6, "training", "trainer-1", date(2026, 4, 25)),
        (7, "implementation", "implementation-team", date(2026, 5, 4)),  # the line's own date
    ]


def test_services_only_are_due_on_the_requested_date() -> None:
    plan = draft_plan(
        [service(1, "Commissioning")], requested_date=None, today=TODAY, rules=PlanningRules()
    )
    assert plan.shipments == ()
    assert plan.tasks[0].kind == "commissioning"
    assert plan.tasks[0].due_date == date(2026, 3, 16)  # default lead of 14 days


def test_task_kind_keywords_are_configurable() -> None:
    rules = PlanningRules(task_keywords={"audit": "audit"}, default_task_kind="service")
    assert task_kind("SRV-AUDIT", "Security audit", rules) == "audit"
    assert task_kind("SRV-1", "Installation", rules) == "service"


def test_fulfillment_status_follows_deliveries_and_tasks() -> None:
    open_task, done_task = Task(TaskStatus.OPEN), Task(TaskStatus.DONE)
    none = [GoodsLine(1, Decimal(2), Decimal(0))]
    part = [GoodsLine(1, Decimal(2), Decimal(1))]
    full = [GoodsLine(1, Decimal(2), Decimal(2))]
    assert (
        derive_status(none, [open_task], started=False, cancelled=False)
        is FulfillmentStatus.PLANNED
    )
    assert (
        derive_status(none, [open_task], started=True, cancelled=False)
        is FulfillmentStatus.IN_PROGRESS
    )
    assert (
        derive_status(part, [], started=True, cancelled=False)
        is FulfillmentStatus.PARTIALLY_DELIVERED
    )
    assert (
        derive_status(full, [open_task], started=True, cancelled=False)
        is FulfillmentStatus.DELIVERED
    )
    assert (
        derive_status(full, [done_task], started=True, cancelled=False)
        is FulfillmentStatus.COMPLETED
    )
    assert (
        derive_status([], [done_task], started=False, cancelled=False)
        is FulfillmentStatus.COMPLETED
    )
    assert derive_status([], [open_task, done_task], started=False, cancelled=False) is (
        FulfillmentStatus.IN_PROGRESS
    )
    assert (
        derive_status(full, [done_task], started=True, cancelled=True)
        is FulfillmentStatus.CANCELLED
    )
    assert goods_delivery(part) == "partially_delivered" and goods_delivery(full) == "delivered"


def test_due_dates_and_overdue() -> None:
    assert next_due([None, APR15, APR1]) == APR1
    assert next_due([]) is None
    assert is_overdue(FulfillmentStatus.IN_PROGRESS, APR1, date(2026, 4, 2))
    assert not is_overdue(FulfillmentStatus.IN_PROGRESS, APR1, APR1)
    assert not is_overdue(FulfillmentStatus.COMPLETED, APR1, APR15)
    assert not is_overdue(FulfillmentStatus.PLANNED, None, APR15)


def test_cancellation_before_and_after_dispatch() -> None:
    assert (
        cancellation_effect(FulfillmentStatus.IN_PROGRESS, goods_left=False) is CancelEffect.CANCEL
    )
    assert cancellation_effect(FulfillmentStatus.IN_PROGRESS, goods_left=True) is CancelEffect.FLAG
    assert cancellation_effect(FulfillmentStatus.COMPLETED, goods_left=False) is CancelEffect.FLAG
    assert cancellation_effect(FulfillmentStatus.CANCELLED, goods_left=False) is CancelEffect.NONE
    # a task done is service work performed: orders refuses the cancellation, as after dispatch
    done = cancellation_effect(FulfillmentStatus.IN_PROGRESS, goods_left=False, task_done=True)
    assert done is CancelEffect.FLAG
    assert (
        cancellation_effect(FulfillmentStatus.CANCELLED, goods_left=False, task_done=True)
        is CancelEffect.NONE
    )


def test_task_completion_rules() -> None:
    assert task_completion_refusal(TaskStatus.OPEN, FulfillmentStatus.PLANNED) is None
    assert "already done" in task_completion_refusal(TaskStatus.DONE, FulfillmentStatus.DELIVERED)
    assert "cancelled" in task_completion_refusal(TaskStatus.OPEN, FulfillmentStatus.CANCELLED)


def test_reports_are_refused_only_for_cancelled_fulfilments() -> None:
    assert "cancelled" in report_refusal(FulfillmentStatus.CANCELLED)
    assert report_refusal(FulfillmentStatus.COMPLETED) is None  # the shipments decide
