"""The shipment state machine (pure): stages, out-of-order reports, impossible transitions,
partial quantities and serial numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from fulfillment.domain.shipment import (
    ImpossibleTransition,
    PlannedLine,
    ReportLine,
    ShipmentStatus,
    Stage,
    StatusReport,
    accept,
    fold,
    frozen,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LATHE = PlannedLine(1, "LATHE-500", Decimal("3"))
CHUCK = PlannedLine(2, "CHUCK-8", Decimal("1"))
PLAN = (LATHE, CHUCK)


def report(
    event_id: str,
    status: Stage,
    minute: int,
    lines: tuple[ReportLine, ...] | None = None,
    **kw,
) -> StatusReport:
    return StatusReport(
        event_id=event_id,
        status=status,
        occurred_at=T0 + timedelta(minutes=minute),
        lines=lines,
        **kw,
    )


def lathe(qty: str, *serials: str) -> ReportLine:
    return ReportLine(1, "LATHE-500", Decimal(qty), tuple(serials))


def chuck(qty: str = "1", *serials: str) -> ReportLine:
    return ReportLine(2, "CHUCK-8", Decimal(qty), tuple(serials))


def run(*reports: StatusReport, plan=PLAN):
    """Accept ``reports`` one by one in arrival order, as the service does; return the state."""
    history: list[StatusReport] = []
    state = None
    for r in reports:
        result = accept(plan, history, r)
        history.append(frozen(r, result.lines))
        state = result.state
    return state


def test_happy_path_through_every_stage() -> None:
    state = run(
        report("a", Stage.IN_PRODUCTION, 1),
        report("b", Stage.READY, 2),
        report("c", Stage.PICKED, 3),
        report("d", Stage.DISPATCHED, 4, carrier="DHL", tracking_number="JD1"),
        report("e", Stage.DELIVERED, 5, proof_of_delivery={"signed_by": "Meier"}),
    )
    assert state.status is ShipmentStatus.DELIVERED
    assert state.carrier == "DHL" and state.tracking_number == "JD1"
    assert state.dispatched_at == T0 + timedelta(minutes=4)
    assert state.proof_of_delivery == {"signed_by": "Meier"}
    assert all(line.done for line in state.lines.values())


def test_delivered_before_dispatched_ends_delivered_with_the_dispatch_details() -> None:
    state = run(
        report("del", Stage.DELIVERED, 5, (lathe("3", "S1", "S2", "S3"), chuck("1", "C1"))),
        report("dis", Stage.DISPATCHED, 4, carrier="DHL", tracking_number="JD1"),
        report("pick", Stage.PICKED, 3),
    )
    assert state.status is ShipmentStatus.DELIVERED
    assert state.carrier == "DHL"
    assert state.lines[1].serial_numbers == ["S1", "S2", "S3"]
    assert state.last_status is Stage.DELIVERED


def test_a_later_stage_implies_the_earlier_ones() -> None:
    assert run(report("x", Stage.DELIVERED, 1)).status is ShipmentStatus.DELIVERED
    assert run(report("x", Stage.DELIVERY_FAILED, 1)).status is ShipmentStatus.DELIVERY_FAILED
    assert run(report("x", Stage.PICKED, 1)).status is ShipmentStatus.PICKED


@pytest.mark.parametrize(
    ("first", "then", "reason"),
    [
        (Stage.PICKED, Stage.READY, "cannot go back to ready"),
        (Stage.DISPATCHED, Stage.IN_PRODUCTION, "already dispatched"),
        (Stage.DELIVERY_FAILED, Stage.PICKED, "already delivery_failed"),
        (Stage.DELIVERED, Stage.PICKED, "already fully delivered"),
        (Stage.DELIVERED, Stage.DISPATCHED, "already fully delivered"),
        (Stage.DELIVERED, Stage.DELIVERY_FAILED, "already fully delivered"),
        (Stage.DELIVERED, Stage.RETURNED, "returns after delivery go through after-sales"),
    ],
)
def test_impossible_transitions_are_refused_with_the_reason(
    first: Stage, then: Stage, reason: str
) -> None:
    history = [report("1", first, 1)]
    with pytest.raises(ImpossibleTransition, match=reason):
        accept(PLAN, history, report("2", then, 2))


def test_a_late_report_that_contradicts_later_history_names_the_event_it_contradicts() -> None:
    history = [report("dis", Stage.DISPATCHED, 5)]
    with pytest.raises(ImpossibleTransition) as info:
        accept(PLAN, history, report("ready", Stage.READY, 9))
    assert "already dispatched" in info.value.reason
    # the same report placed *before* the dispatch is fine
    assert accept(PLAN, history, report("ready2", Stage.READY, 1)).state.status is (
        ShipmentStatus.DISPATCHED
    )
    # a late whole-shipment delivery at 3 makes the dispatch at 5 impossible
    history = [report("dis", Stage.DISPATCHED, 5, (lathe("3"),))]
    with pytest.raises(ImpossibleTransition) as info:
        accept(PLAN, history, report("del", Stage.DELIVERED, 3))
    assert "contradicts status event dis" in info.value.reason


def test_partial_deliveries_are_tracked_per_line() -> None:
    state = run(
        report("d1", Stage.DISPATCHED, 1),
        report("p1", Stage.DELIVERED, 2, (lathe("1", "S1"), chuck("1", "C1"))),
    )
    assert state.status is ShipmentStatus.PARTIALLY_DELIVERED
    assert state.lines[1].delivered == Decimal("1") and state.lines[1].remaining == Decimal("2")
    assert state.lines[2].done
    # the rest is a backorder: produced and shipped anew, then delivered
    state = run(
        report("d1", Stage.DISPATCHED, 1),
        report("p1", Stage.DELIVERED, 2, (lathe("1", "S1"), chuck("1", "C1"))),
        report("pr", Stage.IN_PRODUCTION, 3, (lathe("2"),)),
        report("d2", Stage.DISPATCHED, 4),
        report("p2", Stage.DELIVERED, 5, (lathe("2", "S2", "S3"),)),
    )
    assert state.status is ShipmentStatus.DELIVERED
    assert state.lines[1].serial_numbers == ["S1", "S2", "S3"]


def test_quantities_and_serials_are_checked() -> None:
    with pytest.raises(ImpossibleTransition, match="exceeds the 3 not yet delivered"):
        run(report("x", Stage.DELIVERED, 1, (lathe("4"),)))
    with pytest.raises(ImpossibleTransition, match="exceeds the 1 not yet delivered"):
        run(
            report("a", Stage.DELIVERED, 1, (lathe("2"),)),
            report("b", Stage.DELIVERED, 2, (lathe("2"),)),
        )
    with pytest.raises(ImpossibleTransition, match="serial number S1 was delivered before"):
        run(
            report("a", Stage.DELIVERED, 1, (lathe("1", "S1"),)),
            report("b", Stage.DELIVERED, 2, (lathe("1", "S1"),)),
        )
    with pytest.raises(ImpossibleTransition, match="2 serial numbers for 1 units"):
        run(report("a", Stage.DELIVERED, 1, (lathe("1", "S1", "S2"),)))
    with pytest.raises(ImpossibleTransition, match="not part of this shipment"):
        run(report("a", Stage.DISPATCHED, 1, (ReportLine(9, "X", Decimal(1)),)))
    with pytest.raises(ImpossibleTransition, match="is LATHE-500, not LATHE-600"):
        run(report("a", Stage.DISPATCHED, 1, (ReportLine(1, "LATHE-600", Decimal(1)),)))
    with pytest.raises(ImpossibleTransition, match="reported twice"):
        run(report("a", Stage.DISPATCHED, 1, (lathe("1"), lathe("1"))))


def test_a_whole_shipment_report_covers_only_the_lines_still_open() -> None:
    history = [report("c", Stage.DELIVERED, 1, (chuck(),))]
    result = accept(PLAN, history, report("d", Stage.DISPATCHED, 2))
    assert result.lines == (ReportLine(1, "LATHE-500", Decimal("3")),)
    assert result.state.lines[1].stage is Stage.DISPATCHED


def test_a_whole_shipment_delivery_keeps_its_quantities_so_nothing_counts_twice() -> None:
    whole = report("all", Stage.DELIVERED, 5)
    result = accept(PLAN, [], whole)
    kept = frozen(whole, result.lines)
    assert kept.lines == (
        ReportLine(1, "LATHE-500", Decimal(3)),
        ReportLine(2, "CHUCK-8", Decimal(1)),
    )
    # an earlier partial delivery that arrives late would deliver line 2 twice
    with pytest.raises(ImpossibleTransition, match="contradicts status event all"):
        accept(PLAN, [kept], report("early", Stage.DELIVERED, 2, (chuck(),)))


def test_failed_delivery_then_redelivery_or_return() -> None:
    state = run(
        report("d", Stage.DISPATCHED, 1, tracking_number="T1"),
        report("f", Stage.DELIVERY_FAILED, 2, reason="nobody home"),
    )
    assert state.status is ShipmentStatus.DELIVERY_FAILED
    assert state.failure_reason == "nobody home"
    state = run(
        report("d", Stage.DISPATCHED, 1, tracking_number="T1"),
        report("f", Stage.DELIVERY_FAILED, 2, reason="nobody home"),
        report("r", Stage.RETURNED, 3, reason="undeliverable"),
    )
    assert state.status is ShipmentStatus.RETURNED
    state = run(
        report("d", Stage.DISPATCHED, 1, tracking_number="T1"),
        report("f", Stage.DELIVERY_FAILED, 2),
        report("r", Stage.RETURNED, 3),
        report("p", Stage.PICKED, 4),
        report("d2", Stage.DISPATCHED, 5, tracking_number="T2"),
        report("ok", Stage.DELIVERED, 6),
    )
    assert state.status is ShipmentStatus.DELIVERED
    assert state.tracking_number == "T2"
    assert state.failure_reason is None


def test_same_instant_reports_fold_in_process_order() -> None:
    state = fold(
        PLAN,
        [
            report("z", Stage.DELIVERED, 1),
            report("a", Stage.DISPATCHED, 1),
            report("m", Stage.PICKED, 1),
        ],
    )
    assert state.status is ShipmentStatus.DELIVERED


def test_mixed_line_stages_show_the_least_advanced_or_the_problem() -> None:
    state = run(
        report("a", Stage.DISPATCHED, 1, (chuck(),)), report("b", Stage.READY, 2, (lathe("3"),))
    )
    assert state.status is ShipmentStatus.READY
    state = run(report("a", Stage.DISPATCHED, 1), report("b", Stage.DELIVERY_FAILED, 2, (chuck(),)))
    assert state.status is ShipmentStatus.DELIVERY_FAILED
    state = run(
        report("a", Stage.DELIVERED, 1, (chuck(),)),
        report("b", Stage.DELIVERY_FAILED, 2, (lathe("3"),)),
    )
    assert state.status is ShipmentStatus.DELIVERY_FAILED  # the open problem shows first
    assert not run(report("a", Stage.PICKED, 1)).goods_left
    assert run(report("a", Stage.DISPATCHED, 1, (chuck(),))).goods_left


def test_a_cancelled_shipment_accepts_nothing() -> None:
    with pytest.raises(ImpossibleTransition, match="cancelled"):
        accept(PLAN, [], report("a", Stage.IN_PRODUCTION, 1), cancelled=True)


def test_delivery_date_comes_from_the_proof_of_delivery_when_given() -> None:
    state = run(report("a", Stage.DELIVERED, 1, (chuck(),), received_on=date(2026, 3, 1)))
    assert state.lines[2].delivered_on == date(2026, 3, 1)
    state = run(report("a", Stage.DELIVERED, 1, (chuck(),)))
    assert state.lines[2].delivered_on == T0.date()
