"""HTTP API of the leads service — thin: parse, authorise, call, answer."""

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from leads.schemas import LeadOut, LeadPage
from leads.tables import LeadRow
from salesflow.api import not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["leads"])
READERS = ("marketing", "sales_rep", "sales_manager", "analyst")
SEE_ALL = ("marketing", "analyst")


@router.get("/leads", response_model=LeadPage, summary="List leads")
async def list_leads(
    request: Request,
    status: str | None = Query(None, max_length=40),
    owner: str | None = Query(None, max_length=200),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> LeadPage:
    stmt = visible(select(LeadRow), LeadRow, principal, SEE_ALL)
    if status:
        stmt = stmt.where(LeadRow.status == status)
    if owner:
        stmt = stmt.where(LeadRow.owner == owner)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, LeadRow.created_at, LeadRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return LeadPage(
        items=[LeadOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/leads/{item_id}", response_model=LeadOut, summary="One lead")
async def get_lead(
    request: Request,
    item_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> LeadOut:
    stmt = visible(select(LeadRow).where(LeadRow.id == item_id), LeadRow, principal, SEE_ALL)
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
    if row is None:
        raise not_found("lead")
    return LeadOut.model_validate(row, from_attributes=True)
