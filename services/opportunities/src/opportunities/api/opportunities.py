"""``/opportunities``: list, open (existing customers), read with ETag, change with If-Match,
lose."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import or_
from sqlmodel import select

from opportunities import pipeline
from opportunities.api import views
from opportunities.api.access import (
    READERS,
    SEE_ALL,
    WRITERS,
    domain_errors,
    load,
    load_for_change,
    may_reassign,
    now,
    settings_of,
)
from opportunities.domain.stages import OPEN_STAGES
from opportunities.schemas import (
    LoseIn,
    OpportunityCreate,
    OpportunityDetail,
    OpportunityPage,
    OpportunityPatch,
)
from opportunities.tables import OpportunityRow
from salesflow.api import Problem
from salesflow.api.etag import IF_MATCH_OPTIONAL, IF_MATCH_REQUIRED, require_if_match, set_etag
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require
from salesflow.contracts.events.opportunities import OpportunitySource, OpportunityStage

router = APIRouter(tags=["opportunities"])
OpportunityId = Path(min_length=1, max_length=36)


@router.get("/opportunities", response_model=OpportunityPage, summary="List opportunities")
async def list_opportunities(
    request: Request,
    stage: OpportunityStage | None = Query(None),
    owner: str | None = Query(None, max_length=200),
    team: str | None = Query(None, max_length=100),
    source: OpportunitySource | None = Query(None),
    account_id: str | None = Query(None, max_length=128),
    lead_id: str | None = Query(None, max_length=128, description="The lead it was opened from"),
    stale: bool | None = Query(None, description="Only stale (true) or only fresh (false) deals"),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> OpportunityPage:
    settings = settings_of(request)
    at = now(request)
    stmt = visible(select(OpportunityRow), OpportunityRow, principal, SEE_ALL)
    for column, value in (
        (OpportunityRow.stage, stage),
        (OpportunityRow.owner, owner),
        (OpportunityRow.team, team),
        (OpportunityRow.source, source),
        (OpportunityRow.account_id, account_id),
        (OpportunityRow.lead_id, lead_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if stale is not None:
        cutoff = at - views.stale_after(settings)
        is_open = OpportunityRow.stage.in_([s.value for s in OPEN_STAGES])
        if stale:
            stmt = stmt.where(is_open, OpportunityRow.last_activity_at <= cutoff)
        else:
            stmt = stmt.where(or_(~is_open, OpportunityRow.last_activity_at > cutoff))
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(keyset(stmt, page, OpportunityRow.created_at, OpportunityRow.id))
        ).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return OpportunityPage(
        items=[views.opportunity(r, at, settings) for r in items], next_cursor=cursor
    )


@router.post(
    "/opportunities",
    status_code=201,
    response_model=OpportunityDetail,
    summary="Open an opportunity for an existing customer (Idempotency-Key supported)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def create_opportunity(
    body: OpportunityCreate,
    request: Request,
    principal: Principal = Depends(require(*WRITERS)),
) -> JSONResponse:
    settings = settings_of(request)
    draft = _draft(body, principal, settings.default_currency)
    at = now(request)

    async def create(session: Any) -> tuple[int, OpportunityDetail]:
        opened = await pipeline.open_opportunity(session, settings, draft, at)
        return 201, views.opened_detail(opened, at, settings)

    response = await run_idempotent(request.app.state.db, request, principal.sub, body, create)
    created = json.loads(response.body)
    set_etag(response, created["version"])
    response.headers["Location"] = f"/opportunities/{created['id']}"
    return response


def _draft(body: OpportunityCreate, principal: Principal, default_currency: str) -> pipeline.Draft:
    owner = body.owner or principal.sub
    if owner != principal.sub and not principal.has("sales_manager"):
        raise Problem(403, "a rep opens opportunities for themselves only")
    team = body.team or principal.team
    if body.team and body.team != principal.team and not principal.is_admin:
        raise Problem(403, "opportunities are opened in the caller's own team")
    currency = body.amount.currency if body.amount else body.currency or default_currency
    return pipeline.Draft(
        source=OpportunitySource.MANUAL,
        account=body.account.model_dump(mode="json", exclude_none=True),
        account_id=body.account_id,
        owner=owner,
        team=team,
        contact=body.contact.model_dump(mode="json", exclude_none=True) if body.contact else None,
        currency=currency,
        amount=body.amount.amount if body.amount else None,
        probability_override=body.probability,
        expected_close_date=body.expected_close_date,
        next_step=body.next_step,
        next_step_date=body.next_step_date,
        needs=body.needs.model_dump(mode="json", exclude_none=True) if body.needs else None,
        opened_by=principal.sub,
        correlation_id=str(uuid.uuid4()),  # a new journey for an existing customer
        related_correlation_ids=list(dict.fromkeys(body.previous_correlation_ids)),
    )


@router.get(
    "/opportunities/{opportunity_id}",
    response_model=OpportunityDetail,
    summary="One opportunity with stage history, time in stage and known offers (ETag)",
)
async def get_opportunity(
    request: Request,
    response: Response,
    opportunity_id: str = OpportunityId,
    principal: Principal = Depends(require(*READERS)),
) -> OpportunityDetail:
    async with request.app.state.db.session() as session:
        row = await load(session, principal, opportunity_id)
        out = await views.detail(session, row, now(request), settings_of(request))
    set_etag(response, row.version)
    return out


@router.patch(
    "/opportunities/{opportunity_id}",
    response_model=OpportunityDetail,
    summary="Change fields or move the stage (If-Match required)",
    openapi_extra=IF_MATCH_REQUIRED,
)
async def patch_opportunity(
    body: OpportunityPatch,
    request: Request,
    response: Response,
    opportunity_id: str = OpportunityId,
    principal: Principal = Depends(require(*WRITERS)),
) -> OpportunityDetail:
    settings = settings_of(request)
    at = now(request)
    async with request.app.state.db.session() as session, session.begin():
        row = await load_for_change(session, principal, opportunity_id)
        require_if_match(request, row.version)
        with domain_errors():
            await pipeline.apply_patch(
                session,
                settings,
                row,
                _changes(body),
                user=principal.sub,
                may_reassign=may_reassign(principal, row),
                now=at,
            )
        out = await views.detail(session, row, at, settings)
    set_etag(response, row.version)
    return out


def _changes(body: OpportunityPatch) -> dict[str, Any]:
    """The fields sent, in the shapes the row stores (JSON columns as plain JSON)."""
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name in ("contact", "needs") and value is not None:
            value = value.model_dump(mode="json", exclude_none=True)
        elif name == "amount" and value is not None:
            value = {"amount": value.amount, "currency": value.currency}
        elif name == "stage" and value is not None:
            value = OpportunityStage(value.value)
        changes[name] = value
    return changes


@router.post(
    "/opportunities/{opportunity_id}/lose",
    response_model=OpportunityDetail,
    summary="Mark the opportunity lost with a reason (If-Match honoured when sent)",
    openapi_extra=IF_MATCH_OPTIONAL,
)
async def lose_opportunity(
    body: LoseIn,
    request: Request,
    response: Response,
    opportunity_id: str = OpportunityId,
    principal: Principal = Depends(require(*WRITERS)),
) -> OpportunityDetail:
    settings = settings_of(request)
    at = now(request)
    async with request.app.state.db.session() as session, session.begin():
        row = await load_for_change(session, principal, opportunity_id)
        if request.headers.get("If-Match"):
            require_if_match(request, row.version)
        with domain_errors():
            await pipeline.lose(session, settings, row, body.reason, user=principal.sub, now=at)
        out = await views.detail(session, row, at, settings)
    set_etag(response, row.version)
    return out
