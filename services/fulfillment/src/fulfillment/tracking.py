"""Status reports from production and logistics — one path for the webhook and the topic.

A report is applied at most once (its ``status_event_id`` is kept in the timeline), folded into
its shipment's history where it belongs in time, and refused with the reason if impossible.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from fulfillment import outgoing, store
from fulfillment.config import Settings
from fulfillment.domain import progress
from fulfillment.domain.progress import FulfillmentStatus
from fulfillment.domain.shipment import (
    Accepted,
    ImpossibleTransition,
    ReportLine,
    ShipmentState,
    Stage,
    StatusReport,
    accept,
    fractional_pieces,
    frozen,
)
from fulfillment.store import Plan
from fulfillment.tables import ShipmentLineRow, ShipmentRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.logistics import ShipmentStatusReported
from salesflow.messaging.handlers import emit

log = logging.getLogger(__name__)


# what the quantity columns hold exactly (NUMERIC(24, 8))
MIN_QUANTITY, MAX_QUANTITY = Decimal("0.00000001"), Decimal("1e16")
EARTH_AHEAD = timedelta(hours=14)  # the furthest any timezone is ahead of UTC


class InvalidReport(Exception):
    """The report is malformed in a way the schema cannot see (e.g. it happened in the future)."""


class Unroutable(Exception):
    """The report names no shipment of its order unambiguously."""


def emit_for(
    session: AsyncSession,
    settings: Settings,
    plan: Plan,
    type_: str,
    data: BaseModel,
    cause: Envelope | None,
) -> None:
    """Every event of a plan carries the order's correlation id, whatever channel caused it."""
    emit(
        session,
        settings,
        type_,
        plan.row.id,
        data,
        cause=cause,
        correlation_id=plan.row.correlation_id,
    )


def to_report(payload: ShipmentStatusReported, settings: Settings, now: datetime) -> StatusReport:
    latest = now + timedelta(seconds=settings.status_max_future_skew_s)
    if payload.occurred_at > latest:
        raise InvalidReport(
            f"occurred_at {payload.occurred_at.isoformat()} lies in the future "
            f"(now {now.isoformat()})"
        )
    for line in payload.lines:
        if not MIN_QUANTITY <= line.quantity < MAX_QUANTITY:
            raise InvalidReport(f"line {line.line_no}: quantity {line.quantity} is out of range")
    pod = payload.proof_of_delivery
    # a date has no timezone: "in the future" once it is past midnight nowhere on earth (UTC+14)
    if pod and pod.received_at and pod.received_at > (latest + EARTH_AHEAD).date():
        raise InvalidReport(
            f"proof_of_delivery.received_at {pod.received_at.isoformat()} lies in the future "
            f"(now {now.isoformat()})"
        )
    return StatusReport(
        event_id=payload.status_event_id,
        status=Stage(payload.status.value),
        occurred_at=payload.occurred_at,
        lines=tuple(
            ReportLine(ln.line_no, ln.sku, ln.quantity, tuple(ln.serial_numbers))
            for ln in payload.lines
        )
        or None,  # no lines: the whole shipment
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        tracking_url=payload.tracking_url,
        proof_of_delivery=pod.model_dump(mode="json", exclude_none=True) if pod else None,
        received_on=pod.received_at if pod else None,
        reason=payload.reason,
    )


def route(
    plan: Plan, payload: ShipmentStatusReported
) -> list[tuple[ShipmentRow, ShipmentStatusReported]]:
    """The shipment(s) a topic report concerns: the named one, the one known by the sender's
    consignment id, or those holding the reported lines. A report whose lines span several
    shipments (the sender groups goods its own way) is split into one part per shipment."""
    if payload.shipment_id:
        shipment = plan.shipment(payload.shipment_id)
        if shipment is None:
            raise Unroutable(
                f"shipment {payload.shipment_id} is not part of order {plan.row.order_number}"
            )
        return [(shipment, payload)]
    if not plan.shipments:
        raise Unroutable(f"order {plan.row.order_number} has no goods to ship")
    if payload.lines:
        holders = {
            line.line_no: shipment
            for shipment in plan.shipments
            for line in plan.lines[shipment.id]
        }
        unknown = sorted({ln.line_no for ln in payload.lines} - holders.keys())
        if unknown:
            raise Unroutable(f"order {plan.row.order_number} has no goods line {unknown[0]}")
        parts: dict[str, list] = {}
        for line in payload.lines:
            parts.setdefault(holders[line.line_no].id, []).append(line)
        return [
            (
                shipment,
                payload.model_copy(
                    update={"shipment_id": shipment.id, "lines": parts[shipment.id]}
                ),
            )
            for shipment in plan.shipments
            if shipment.id in parts
        ]
    known = [s for s in plan.shipments if payload.external_shipment_id in s.external_ids]
    if payload.external_shipment_id and known:
        return [(s, payload.model_copy(update={"shipment_id": s.id})) for s in known]
    if len(plan.shipments) == 1:
        return [(plan.shipments[0], payload)]
    raise Unroutable(
        f"order {plan.row.order_number} has {len(plan.shipments)} shipments: name the shipment "
        "(shipment_id), a consignment reported before (external_shipment_id) or the lines"
    )


@dataclass
class _Decision:
    shipment: ShipmentRow
    payload: ShipmentStatusReported
    report: StatusReport
    accepted: Accepted


async def record_status(
    session: AsyncSession,
    settings: Settings,
    plan: Plan,
    parts: list[tuple[ShipmentRow, ShipmentStatusReported]],
    *,
    channel: str,
    actor: str | None,
    cause: Envelope | None,
    now: datetime,
    seen_checked: bool = False,
) -> bool:
    """Apply one status report (in one part per shipment) to a locked plan; False if the status
    event was seen before (``seen_checked``: the caller has just asked, under the lock). Every
    part is decided before anything is written, so a refusal (InvalidReport,
    ImpossibleTransition) leaves no trace."""
    if not seen_checked and await store.status_seen(session, parts[0][1].status_event_id):
        return False
    refusal = progress.report_refusal(plan.status)
    if refusal:
        raise ImpossibleTransition(refusal)
    decisions = []
    for shipment, payload in parts:
        report = to_report(payload, settings, now)
        fractional = fractional_pieces(plan.lines[shipment.id], report)
        if fractional:
            raise InvalidReport(fractional)
        history = await store.shipment_history(session, shipment.id)
        accepted = accept(
            store.planned_lines(plan.lines[shipment.id]),
            history,
            report,
            cancelled=shipment.status == "cancelled",
        )
        decisions.append(_Decision(shipment, payload, report, accepted))

    before = plan.status
    for decision in decisions:
        await _write(
            session, settings, plan, decision, channel=channel, actor=actor, cause=cause, now=now
        )
    if completes(plan, before):
        store.set_loaded(plan.row, completed_values(plan, now))
        await store.insert_timeline(session, plan, **completed_entry(now))
        emit_completed(session, settings, plan, now, cause)
    await store.write_through(session, plan, [d.shipment for d in decisions])
    return True


async def _write(
    session: AsyncSession,
    settings: Settings,
    plan: Plan,
    decision: _Decision,
    *,
    channel: str,
    actor: str | None,
    cause: Envelope | None,
    now: datetime,
) -> None:
    shipment, payload, report = decision.shipment, decision.payload, decision.report
    lines = decision.accepted.lines
    # new values as loaded state; written by ``store.write_through`` once all parts are done
    _set_shipment(
        shipment,
        plan.lines[shipment.id],
        decision.accepted.state,
        payload.external_shipment_id,
        now,
    )
    # one version per change, so that no event of it looks stale
    store.set_loaded(plan.row, plan.touched(now))
    await store.insert_timeline(
        session,
        plan,
        "status",
        occurred_at=report.occurred_at,
        recorded_at=now,
        channel=channel,
        actor=actor,
        shipment_id=shipment.id,
        status=str(report.status),
        status_event_id=report.event_id,
        detail=store.report_detail(
            frozen(report, lines),
            external_shipment_id=payload.external_shipment_id,
            note=payload.note,
        ),
    )
    if report.status is Stage.DISPATCHED:
        data = outgoing.dispatched(plan, shipment, report, lines)
        emit_for(session, settings, plan, outgoing.DISPATCHED, data, cause)
    elif report.status is Stage.DELIVERED:
        data = outgoing.delivered(plan, shipment, report, lines)
        emit_for(session, settings, plan, outgoing.DELIVERED, data, cause)


def complete_if_done(
    session: AsyncSession,
    settings: Settings,
    plan: Plan,
    before: FulfillmentStatus,
    now: datetime,
    cause: Envelope | None,
) -> None:
    """``fulfillment.completed`` once, when the last line is delivered and the last task done."""
    if not completes(plan, before):
        return
    mark_completed(plan, now)
    store.add_timeline(session, plan, **completed_entry(now))
    emit_completed(session, settings, plan, now, cause)


def completes(plan: Plan, before: FulfillmentStatus) -> bool:
    return plan.status is FulfillmentStatus.COMPLETED and before is not FulfillmentStatus.COMPLETED


def mark_completed(plan: Plan, now: datetime) -> None:
    for key, value in completed_values(plan, now).items():
        setattr(plan.row, key, value)


def completed_values(plan: Plan, now: datetime) -> dict[str, Any]:
    # its own version, so that no consumer drops it as stale
    return {"completed_at": now, "version": plan.row.version + 1}


def completed_entry(now: datetime) -> dict[str, Any]:
    return {"kind": "completed", "occurred_at": now, "recorded_at": now, "channel": "system"}


def emit_completed(
    session: AsyncSession,
    settings: Settings,
    plan: Plan,
    now: datetime,
    cause: Envelope | None,
) -> None:
    emit_for(session, settings, plan, outgoing.COMPLETED, outgoing.completed(plan, now), cause)


def _set_shipment(
    shipment: ShipmentRow,
    lines: list[ShipmentLineRow],
    state: ShipmentState,
    external_id: str | None,
    now: datetime,
) -> None:
    for row in lines:
        line = state.lines[row.line_no]
        store.set_loaded(
            row,
            {
                "delivered_quantity": line.delivered,
                "stage": line.stage,
                "serial_numbers": list(line.serial_numbers),
                "delivered_on": line.delivered_on,
            },
        )
    external_ids = shipment.external_ids
    if external_id and external_id not in external_ids:
        external_ids = [*external_ids, external_id]
    store.set_loaded(
        shipment,
        {
            "status": state.status,
            "carrier": state.carrier,
            "tracking_number": state.tracking_number,
            "tracking_url": state.tracking_url,
            "dispatched_at": state.dispatched_at,
            "delivered_at": state.delivered_at,
            "proof_of_delivery": dict(state.proof_of_delivery) if state.proof_of_delivery else None,
            "failure_reason": state.failure_reason,
            "last_status_at": state.last_status_at,
            "external_ids": external_ids,
            "version": shipment.version + 1,
            "updated_at": now,
        },
    )
