"""``/opportunities/{id}/activities``: calls, meetings, e-mails and notes with a next step."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlmodel import select

from opportunities import pipeline
from opportunities.api.access import (
    READERS,
    WRITERS,
    domain_errors,
    load,
    load_for_change,
    now,
)
from opportunities.domain import stages
from opportunities.schemas import ActivityIn, ActivityOut, ActivityPage
from opportunities.tables import ActivityRow
from salesflow.api import Problem
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require

router = APIRouter(tags=["activities"])
OpportunityId = Path(min_length=1, max_length=36)
CLOCK_SKEW = timedelta(minutes=5)  # an activity is something that happened, not a plan


@router.post(
    "/opportunities/{opportunity_id}/activities",
    status_code=201,
    response_model=ActivityOut,
    summary="Record an activity; its next step becomes the deal's (Idempotency-Key supported)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def add_activity(
    body: ActivityIn,
    request: Request,
    opportunity_id: str = OpportunityId,
    principal: Principal = Depends(require(*WRITERS)),
) -> JSONResponse:
    at = now(request)
    occurred = body.occurred_at or at
    if occurred > at + CLOCK_SKEW:
        raise Problem(422, "occurred_at lies in the future: record activities that happened")

    async def create(session: Any) -> tuple[int, ActivityOut]:
        row = await load_for_change(session, principal, opportunity_id)
        with domain_errors():
            stages.ensure_open(stages.Stage(row.stage))
        activity = ActivityRow(
            id=str(uuid.uuid4()),
            opportunity_id=row.id,
            kind=body.kind.value,
            subject=body.subject,
            notes=body.notes,
            occurred_at=occurred,
            next_step=body.next_step,
            next_step_date=body.next_step_date,
            created_by=principal.sub,
            created_at=at,
        )
        session.add(activity)
        # a late-logged old call must not make the deal look neglected again
        row.last_activity_at = max(row.last_activity_at, occurred)
        if body.next_step is not None:
            row.next_step = body.next_step
        if body.next_step_date is not None:
            row.next_step_date = body.next_step_date
        pipeline.touch(row, at)
        session.add(row)
        return 201, ActivityOut.model_validate(activity, from_attributes=True)

    response = await run_idempotent(request.app.state.db, request, principal.sub, body, create)
    return response


@router.get(
    "/opportunities/{opportunity_id}/activities",
    response_model=ActivityPage,
    summary="Activities of an opportunity, oldest first",
)
async def list_activities(
    request: Request,
    opportunity_id: str = OpportunityId,
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> ActivityPage:
    async with request.app.state.db.session() as session:
        row = await load(session, principal, opportunity_id)
        stmt = select(ActivityRow).where(ActivityRow.opportunity_id == row.id)
        rows = (
            await session.exec(keyset(stmt, page, ActivityRow.created_at, ActivityRow.id))
        ).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return ActivityPage(
        items=[ActivityOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )
