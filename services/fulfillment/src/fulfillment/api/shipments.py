"""The status webhook for production and logistics systems."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fulfillment import store, tracking
from fulfillment.api.common import now, shipment_out
from fulfillment.domain.progress import FulfillmentStatus
from fulfillment.domain.shipment import ImpossibleTransition
from fulfillment.schemas import StatusEventIn, StatusEventResult
from fulfillment.store import Plan
from fulfillment.tables import ShipmentRow
from salesflow.api import Problem, not_found
from salesflow.auth import Principal, require
from salesflow.contracts.events.logistics import ShipmentStatusReported

router = APIRouter(tags=["shipments"])


@router.post(
    "/shipments/{shipment_id}/events",
    response_model=StatusEventResult,
    summary="Report a production or logistics status of a shipment",
    description="The `shipment.status` payload of `logistics.status.v1`. A repeated "
    "`status_event_id` changes nothing (`outcome: duplicate`); a late event is placed where it "
    "belongs by `occurred_at`; an impossible transition is refused with 409 and the reason.",
)
async def report_status(
    request: Request,
    body: StatusEventIn,
    shipment_id: str = Path(max_length=36),
    principal: Principal = Depends(require("logistics_system")),
) -> StatusEventResult:
    db = request.app.state.db
    settings = request.app.state.settings
    for attempt in (1, 2):
        try:
            async with db.session() as session, session.begin():
                fulfillment_id = (
                    await session.exec(
                        select(ShipmentRow.fulfillment_id).where(ShipmentRow.id == shipment_id)
                    )
                ).first()
                plan = (
                    None
                    if fulfillment_id is None
                    else await store.lock_plan(session, fulfillment_id)
                )
                shipment = None if plan is None else plan.shipment(shipment_id)
                if plan is None or shipment is None:
                    raise not_found("shipment")
                payload = _payload(body, plan, shipment_id)
                try:
                    applied = await tracking.record_status(
                        session,
                        settings,
                        plan,
                        [(shipment, payload)],
                        channel="webhook",
                        actor=principal.sub,
                        cause=None,
                        now=now(request),
                    )
                except ImpossibleTransition as exc:
                    raise Problem(
                        409,
                        exc.reason,
                        title="Impossible status transition",
                        code="impossible_transition",
                        status_event_id=body.status_event_id,
                        shipment_status=shipment.status,
                    ) from None
                except tracking.InvalidReport as exc:
                    raise Problem(422, str(exc)) from None
                return StatusEventResult(
                    outcome="applied" if applied else "duplicate",
                    status_event_id=body.status_event_id,
                    fulfillment_id=plan.row.id,
                    fulfillment_status=FulfillmentStatus(plan.row.status),
                    shipment=shipment_out(shipment, plan.lines[shipment.id]),
                )
        except IntegrityError:  # the same status event committed concurrently: now a duplicate
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _payload(body: StatusEventIn, plan: Plan, shipment_id: str) -> ShipmentStatusReported:
    row = plan.row
    mismatches = [
        name
        for name, given, actual in (
            ("shipment_id", body.shipment_id, shipment_id),
            ("order_id", body.order_id, row.order_id),
            ("order_number", body.order_number, row.order_number),
        )
        if given is not None and given != actual
    ]
    if mismatches:
        raise Problem(422, f"{', '.join(mismatches)} do(es) not match the shipment in the path")
    return ShipmentStatusReported.model_validate(
        {
            **body.model_dump(),
            "shipment_id": shipment_id,
            "order_id": row.order_id,
            "order_number": row.order_number,
        }
    )
