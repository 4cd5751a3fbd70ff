"""The shipment state machine: pure, replayable, tolerant of reports that arrive out of order.

A shipment's state is the fold of its accepted status reports in the order in which they
*happened* (``occurred_at``), not the order in which they arrived. A late report is put where it
belongs and the whole history is folded again; if the fold breaks anywhere, the report is
impossible and is refused with the reason.

Stages are tracked per line, because a report may concern only some lines (a logistics system
ships one consignment per requested date, a carrier delivers part of a line). The stage of a line
is the stage of its undelivered remainder; delivered quantities and serial numbers are counted
separately.

Rules, in the words a logistics integrator needs:
- A later stage implies the earlier ones: ``delivered`` may arrive before ``dispatched`` (or with
  no ``dispatched`` at all); ``delivery_failed`` and ``returned`` imply a dispatch.
- Production and warehouse stages (in_production → ready → picked) only move forward, and not
  while the goods are on the road (dispatched, delivery_failed). After ``returned`` (the goods are
  back at the sender) or after a partial delivery (the rest is a backorder) a new cycle may start.
- A fully delivered line accepts no further report: returns after delivery belong to after-sales.
- Quantities of a report never exceed what is not yet delivered; serial numbers are delivered once.
- A report with no lines concerns every line not yet delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from salesflow.contracts.events.common import PIECE_UNITS


class Stage(StrEnum):
    """Stage of a line's undelivered remainder (and the statuses a report may carry)."""

    PLANNED = "planned"
    IN_PRODUCTION = "in_production"
    READY = "ready"
    PICKED = "picked"
    DISPATCHED = "dispatched"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED = "returned"
    DELIVERED = "delivered"


class ShipmentStatus(StrEnum):
    """Status of a whole shipment, derived from its lines."""

    PLANNED = "planned"
    IN_PRODUCTION = "in_production"
    READY = "ready"
    PICKED = "picked"
    DISPATCHED = "dispatched"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED = "returned"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


REPORTABLE = frozenset(Stage) - {Stage.PLANNED}
WAREHOUSE = {Stage.PLANNED: 0, Stage.IN_PRODUCTION: 1, Stage.READY: 2, Stage.PICKED: 3}
ON_THE_ROAD = frozenset({Stage.DISPATCHED, Stage.DELIVERY_FAILED})
GOODS_LEFT = frozenset({Stage.DISPATCHED, Stage.DELIVERY_FAILED, Stage.RETURNED, Stage.DELIVERED})
# Reports that happened at the same instant are folded in the natural order of the process.
_SAME_INSTANT_ORDER = {
    Stage.IN_PRODUCTION: 1,
    Stage.READY: 2,
    Stage.PICKED: 3,
    Stage.DISPATCHED: 4,
    Stage.DELIVERY_FAILED: 5,
    Stage.RETURNED: 6,
    Stage.DELIVERED: 7,
}


class ImpossibleTransition(Exception):
    """The report contradicts what is known about the shipment; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PlannedLine:
    line_no: int
    sku: str
    quantity: Decimal


@dataclass(frozen=True)
class ReportLine:
    line_no: int
    sku: str
    quantity: Decimal
    serial_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusReport:
    """One status event from production or logistics, as the state machine needs it."""

    event_id: str
    status: Stage
    occurred_at: datetime
    lines: tuple[ReportLine, ...] | None = None  # None: every line not yet delivered
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    proof_of_delivery: Mapping[str, Any] | None = None
    received_on: date | None = None  # date on the proof of delivery
    reason: str | None = None


@dataclass
class LineState:
    line_no: int
    sku: str
    quantity: Decimal
    stage: Stage = Stage.PLANNED
    delivered: Decimal = Decimal(0)
    serial_numbers: list[str] = field(default_factory=list)
    delivered_on: date | None = None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.delivered

    @property
    def done(self) -> bool:
        return self.delivered >= self.quantity


@dataclass
class ShipmentState:
    lines: dict[int, LineState]
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None
    proof_of_delivery: Mapping[str, Any] | None = None
    failure_reason: str | None = None
    last_status: Stage | None = None
    last_status_at: datetime | None = None

    @classmethod
    def initial(cls, lines: Iterable[PlannedLine]) -> ShipmentState:
        return cls(lines={pl.line_no: LineState(pl.line_no, pl.sku, pl.quantity) for pl in lines})

    @property
    def status(self) -> ShipmentStatus:
        lines = list(self.lines.values())
        if all(line.done for line in lines):
            return ShipmentStatus.DELIVERED
        stages = {line.stage for line in lines if not line.done}
        for problem in (Stage.RETURNED, Stage.DELIVERY_FAILED):
            if problem in stages:  # a problem with any open goods is what the shipment shows
                return ShipmentStatus(problem.value)
        if any(line.delivered > 0 for line in lines):
            return ShipmentStatus.PARTIALLY_DELIVERED
        if Stage.DISPATCHED in stages and stages <= {Stage.DISPATCHED}:
            return ShipmentStatus.DISPATCHED
        least = min((s for s in stages if s in WAREHOUSE), key=WAREHOUSE.__getitem__)
        return ShipmentStatus(least.value)

    @property
    def goods_left(self) -> bool:
        """Whether any goods of the shipment have been dispatched (or got further)."""
        return any(line.stage in GOODS_LEFT or line.delivered > 0 for line in self.lines.values())


@dataclass(frozen=True)
class Accepted:
    state: ShipmentState
    lines: tuple[ReportLine, ...]  # what the new report concerned, resolved


def chronological(reports: Iterable[StatusReport]) -> list[StatusReport]:
    return sorted(reports, key=lambda r: (r.occurred_at, _SAME_INSTANT_ORDER[r.status], r.event_id))


def fold(planned: Sequence[PlannedLine], reports: Iterable[StatusReport]) -> ShipmentState:
    """The state after ``reports`` (in the order they happened); raises ImpossibleTransition."""
    state = ShipmentState.initial(planned)
    for report in chronological(reports):
        _apply(state, report)
    return state


def accept(
    planned: Sequence[PlannedLine],
    history: Iterable[StatusReport],
    report: StatusReport,
    *,
    cancelled: bool = False,
) -> Accepted:
    """Fold ``report`` into the shipment's accepted ``history`` wherever it belongs in time.

    Returns the new state and the lines the report concerned (a report without lines resolved to
    the lines it covered at its place in history). Raises ImpossibleTransition with the reason.
    """
    if cancelled:
        raise ImpossibleTransition("the shipment was cancelled together with its order")
    if report.status not in REPORTABLE:
        raise ImpossibleTransition(f"{report.status} is not a status a system can report")
    state = ShipmentState.initial(planned)
    resolved: tuple[ReportLine, ...] = ()
    for current in chronological([*history, report]):
        try:
            lines = _apply(state, current)
        except ImpossibleTransition as exc:
            if current is report:
                raise
            raise ImpossibleTransition(
                f"placed at {report.occurred_at.isoformat()} it contradicts status event "
                f"{current.event_id} ({current.status} at {current.occurred_at.isoformat()}) "
                f"accepted before: {exc.reason}"
            ) from None
        if current is report:
            resolved = lines
    return Accepted(state=state, lines=resolved)


def frozen(report: StatusReport, lines: tuple[ReportLine, ...]) -> StatusReport:
    """The report as it is kept in history. A delivery keeps the quantities it was resolved to,
    so that a later-arriving earlier delivery cannot count the same goods twice; other reports
    keep "every open line" open, to be resolved again wherever history places them."""
    if report.status is Stage.DELIVERED and report.lines is None:
        return replace(report, lines=lines)
    return report


def _apply(state: ShipmentState, report: StatusReport) -> tuple[ReportLine, ...]:
    targets = _targets(state, report)
    for line, reported in targets:
        _check(line, report, reported)
    for line, reported in targets:
        _move(line, report, reported)
    _update_shipment(state, report)
    return tuple(reported for _, reported in targets)


def _targets(state: ShipmentState, report: StatusReport) -> list[tuple[LineState, ReportLine]]:
    if report.lines is None:
        open_lines = [line for line in state.lines.values() if not line.done]
        if not open_lines:
            raise ImpossibleTransition(
                f"every line of the shipment is already fully delivered: it cannot be "
                f"{report.status}{_after_delivery_hint(report.status)}"
            )
        return [(line, ReportLine(line.line_no, line.sku, line.remaining)) for line in open_lines]
    if not report.lines:
        raise ImpossibleTransition("the report names no lines")
    targets = []
    seen: set[int] = set()
    for reported in report.lines:
        if reported.line_no in seen:
            raise ImpossibleTransition(f"line {reported.line_no} is reported twice")
        seen.add(reported.line_no)
        line = state.lines.get(reported.line_no)
        if line is None:
            raise ImpossibleTransition(f"line {reported.line_no} is not part of this shipment")
        if reported.sku != line.sku:
            raise ImpossibleTransition(f"line {line.line_no} is {line.sku}, not {reported.sku}")
        targets.append((line, reported))
    return targets


def _check(line: LineState, report: StatusReport, reported: ReportLine) -> None:
    name = f"line {line.line_no} ({line.sku})"
    status = report.status
    if line.done:
        raise ImpossibleTransition(
            f"{name} is already fully delivered: it cannot be {status}"
            f"{_after_delivery_hint(status)}"
        )
    if reported.quantity <= 0:
        raise ImpossibleTransition(f"{name}: quantity must be positive")
    if reported.quantity > line.remaining:
        raise ImpossibleTransition(
            f"{name}: {status} quantity {reported.quantity} exceeds the {line.remaining} "
            "not yet delivered"
        )
    if status in WAREHOUSE:
        if line.stage in ON_THE_ROAD:
            raise ImpossibleTransition(
                f"{name} is already {line.stage}: it cannot be {status} any more"
            )
        if line.stage in WAREHOUSE and WAREHOUSE[status] < WAREHOUSE[line.stage]:
            raise ImpossibleTransition(
                f"{name} is already {line.stage}: it cannot go back to {status}"
            )
    if status is Stage.DELIVERED:
        serials = reported.serial_numbers
        if len(set(serials)) != len(serials):
            raise ImpossibleTransition(f"{name}: a serial number is reported twice")
        if serials and Decimal(len(serials)) > reported.quantity:
            raise ImpossibleTransition(
                f"{name}: {len(serials)} serial numbers for {reported.quantity} units"
            )
        again = sorted(set(serials).intersection(line.serial_numbers))
        if again:
            raise ImpossibleTransition(f"{name}: serial number {again[0]} was delivered before")


class _UnitLine(Protocol):
    line_no: int
    sku: str
    unit: str


def fractional_pieces(lines: Iterable[_UnitLine], report: StatusReport) -> str | None:
    """Why the report is malformed if it names a fraction of a line counted in pieces (else
    None). A report without lines concerns whole remainders, which are whole pieces."""
    units = {line.line_no: line.unit for line in lines}
    for reported in report.lines or ():
        quantity = reported.quantity
        if units.get(reported.line_no) in PIECE_UNITS and quantity != quantity.to_integral_value():
            unit = units[reported.line_no]
            return (
                f"line {reported.line_no} ({reported.sku}): {quantity} {unit} is not a whole "
                f"number of pieces"
            )
    return None


def _after_delivery_hint(status: Stage) -> str:
    return "; returns after delivery go through after-sales" if status is Stage.RETURNED else ""


def _move(line: LineState, report: StatusReport, reported: ReportLine) -> None:
    if report.status is not Stage.DELIVERED:
        line.stage = report.status
        return
    line.delivered += reported.quantity
    line.serial_numbers.extend(reported.serial_numbers)
    line.delivered_on = report.received_on or report.occurred_at.date()
    # a partial delivery leaves the rest as a backorder: it may be produced or shipped anew
    line.stage = Stage.DELIVERED if line.done else Stage.PLANNED


def _update_shipment(state: ShipmentState, report: StatusReport) -> None:
    state.carrier = report.carrier or state.carrier
    state.tracking_number = report.tracking_number or state.tracking_number
    state.tracking_url = report.tracking_url or state.tracking_url
    state.last_status = report.status
    state.last_status_at = report.occurred_at
    if report.status is Stage.DISPATCHED:
        state.dispatched_at = report.occurred_at
        state.failure_reason = None
    elif report.status is Stage.DELIVERED:
        state.delivered_at = report.occurred_at
        state.proof_of_delivery = report.proof_of_delivery or state.proof_of_delivery
        state.failure_reason = None
    elif report.status in (Stage.DELIVERY_FAILED, Stage.RETURNED):
        state.failure_reason = report.reason or str(report.status)
