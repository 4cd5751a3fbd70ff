"""Leads: lists, the score breakdown, and the state changes of qualification."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from leads.api.roles import DISQUALIFIERS, MANAGERS, READERS, SALES
from leads.app import leads as cases
from leads.domain.lifecycle import TransitionError
from leads.schemas.companies import CompanyOut
from leads.schemas.leads import (
    AssignIn,
    ConvertIn,
    DisqualifyIn,
    LeadDetail,
    LeadOut,
    LeadPage,
    QualifyIn,
    TouchpointOut,
)
from leads.tables import CompanyRow, LeadRow, TouchpointRow
from salesflow.api import conflict, not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require
from salesflow.contracts.events.leads import LeadStatus

router = APIRouter(tags=["leads"])
LeadId = Path(max_length=36)


def _out(lead: LeadRow, company_name: str) -> dict[str, Any]:
    return {**lead.model_dump(), "company_name": company_name}


@router.get("/leads", response_model=LeadPage, summary="List leads (as far as the caller may see)")
async def list_leads(
    request: Request,
    status: list[LeadStatus] | None = Query(None),
    owner: str | None = Query(None, max_length=200),
    team: str | None = Query(None, max_length=100),
    queue: str | None = Query(None, max_length=100),
    company_id: int | None = Query(None, ge=1, le=2**62),
    existing_customer: bool | None = Query(None),
    min_score: Decimal | None = Query(None, ge=0, le=100_000),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> LeadPage:
    stmt = cases.visible_leads(select(LeadRow, CompanyRow.name), principal).join(
        CompanyRow, CompanyRow.id == LeadRow.company_id
    )
    if status:
        stmt = stmt.where(LeadRow.status.in_([s.value for s in status]))
    for column, value in ((LeadRow.owner, owner), (LeadRow.team, team), (LeadRow.queue, queue)):
        if value is not None:
            stmt = stmt.where(column == value)
    if company_id is not None:
        stmt = stmt.where(LeadRow.company_id == company_id)
    if existing_customer is not None:
        stmt = stmt.where(LeadRow.existing_customer == existing_customer)
    if min_score is not None:
        stmt = stmt.where(LeadRow.score >= min_score)
    async with request.app.state.db.session() as session:
        rows = (await session.execute(keyset(stmt, page, LeadRow.created_at, LeadRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r[0].created_at.isoformat(), r[0].id))
    return LeadPage(items=[LeadOut(**_out(lead, name)) for lead, name in items], next_cursor=cursor)


@router.get("/leads/{lead_id}", response_model=LeadDetail, summary="One lead with score breakdown")
async def get_lead(
    request: Request,
    lead_id: str = LeadId,
    principal: Principal = Depends(require(*READERS)),
) -> LeadDetail:
    stmt = cases.visible_leads(select(LeadRow).where(LeadRow.id == lead_id), principal)
    async with request.app.state.db.session() as session:
        lead = (await session.exec(stmt)).first()
        if lead is None:
            raise not_found("lead")
        return await _detail(session, lead)


async def _detail(session: Any, lead: LeadRow) -> LeadDetail:
    company = await session.get(CompanyRow, lead.company_id)
    touchpoints = (
        await session.exec(
            select(TouchpointRow)
            .where(TouchpointRow.company_id == lead.company_id)
            .order_by(TouchpointRow.occurred_at.desc())
            .limit(50)
        )
    ).all()
    assert company is not None
    return LeadDetail(
        **_out(lead, company.name),
        company=CompanyOut.model_validate(company, from_attributes=True),
        touchpoints=[TouchpointOut.model_validate(t, from_attributes=True) for t in touchpoints],
    )


Change = Callable[..., Awaitable[LeadRow]]


async def _change(
    request: Request, lead_id: str, principal: Principal, change: Change, body: Any
) -> LeadDetail:
    async with request.app.state.db.session() as session, session.begin():
        lead, company = await cases.lead_for_change(session, lead_id, principal)
        try:
            await change(
                session,
                request.app.state.settings,
                lead,
                company,
                principal,
                body,
                datetime.now(UTC),
            )
        except TransitionError as exc:
            raise conflict(str(exc), lead_status=exc.status) from None
        # the caller may no longer see the lead (a recycled one leaves the rep): show the result
        return await _detail(session, lead)


@router.post(
    "/leads/{lead_id}/qualify",
    response_model=LeadDetail,
    summary="First contact and needs analysis ⇒ SQL",
)
async def qualify_lead(
    body: QualifyIn,
    request: Request,
    lead_id: str = LeadId,
    principal: Principal = Depends(require(*SALES)),
) -> LeadDetail:
    return await _change(request, lead_id, principal, cases.qualify, body)


@router.post(
    "/leads/{lead_id}/convert", response_model=LeadDetail, summary="Hand over to opportunities"
)
async def convert_lead(
    body: ConvertIn,
    request: Request,
    lead_id: str = LeadId,
    principal: Principal = Depends(require(*SALES)),
) -> LeadDetail:
    return await _change(request, lead_id, principal, cases.convert, body)


@router.post(
    "/leads/{lead_id}/disqualify",
    response_model=LeadDetail,
    summary="Disqualify, or recycle to nurturing",
)
async def disqualify_lead(
    body: DisqualifyIn,
    request: Request,
    lead_id: str = LeadId,
    principal: Principal = Depends(require(*DISQUALIFIERS)),
) -> LeadDetail:
    return await _change(request, lead_id, principal, cases.disqualify, body)


@router.post(
    "/leads/{lead_id}/assign", response_model=LeadDetail, summary="Manager (re)assigns the lead"
)
async def assign_lead(
    body: AssignIn,
    request: Request,
    lead_id: str = LeadId,
    principal: Principal = Depends(require(*MANAGERS)),
) -> LeadDetail:
    return await _change(request, lead_id, principal, cases.assign, body)
