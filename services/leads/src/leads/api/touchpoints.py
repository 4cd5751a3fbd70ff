"""Touchpoints from marketing systems, one or a batch per request."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import select

from leads.api.roles import READERS, TOUCHPOINT_WRITERS
from leads.app import leads as lead_cases
from leads.app import touchpoints as tp_cases
from leads.schemas.leads import (
    TouchpointBatchIn,
    TouchpointBatchResult,
    TouchpointIn,
    TouchpointItemResult,
    TouchpointOut,
    TouchpointResult,
)
from leads.tables import LeadRow, TouchpointRow
from salesflow.api import Problem, not_found
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.auth import Principal, require

router = APIRouter(tags=["touchpoints"])


@router.post(
    "/touchpoints",
    status_code=201,
    response_model=TouchpointResult,
    responses={200: {"model": TouchpointBatchResult, "description": "Batch: a result per item"}},
    summary="Record a touchpoint (201) or a batch of them (200, a result per item)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def post_touchpoints(
    body: TouchpointBatchIn | TouchpointIn,
    request: Request,
    principal: Principal = Depends(require(*TOUCHPOINT_WRITERS)),
) -> JSONResponse:
    settings = request.app.state.settings

    async def create(session):  # type: ignore[no-untyped-def]
        now = datetime.now(UTC)
        if isinstance(body, TouchpointIn):
            try:
                return 201, await tp_cases.record(session, settings, body, principal.sub, now)
            except tp_cases.TouchpointRejected as exc:
                named = {"field": exc.field} if exc.field else {}
                raise Problem(422, str(exc), **named) from None
        items = []
        for index, item in enumerate(body.items):
            try:
                async with session.begin_nested():
                    result = await tp_cases.record(session, settings, item, principal.sub, now)
                items.append(TouchpointItemResult(index=index, ok=True, result=result))
            except tp_cases.TouchpointRejected as exc:
                items.append(TouchpointItemResult(index=index, ok=False, error=str(exc)))
        accepted = sum(1 for i in items if i.ok)
        return 200, TouchpointBatchResult(
            accepted=accepted, rejected=len(items) - accepted, items=items
        )

    return await run_idempotent(request.app.state.db, request, principal.sub, body, create)


@router.get(
    "/touchpoints", response_model=list[TouchpointOut], summary="Touchpoints of a company or lead"
)
async def list_touchpoints(
    request: Request,
    company_id: int | None = Query(None, ge=1, le=2**62),
    lead_id: str | None = Query(None, max_length=36),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(require(*READERS)),
) -> list[TouchpointOut]:
    if company_id is None and lead_id is None:
        raise Problem(422, "give company_id or lead_id")
    stmt = select(TouchpointRow)
    if company_id is not None:
        stmt = stmt.where(TouchpointRow.company_id == company_id)
    if lead_id is not None:
        stmt = stmt.where(TouchpointRow.lead_id == lead_id)
    stmt = stmt.order_by(TouchpointRow.occurred_at.desc(), TouchpointRow.id).limit(limit)
    async with request.app.state.db.session() as session:
        if lead_id is not None:
            # a lead's touchpoints answer like the lead: 404 to whom may not see it
            lead = select(LeadRow.id).where(LeadRow.id == lead_id)
            if (await session.exec(lead_cases.visible_leads(lead, principal))).first() is None:
                raise not_found("lead")
        rows = (await session.exec(stmt)).all()
    return [TouchpointOut.model_validate(r, from_attributes=True) for r in rows]
