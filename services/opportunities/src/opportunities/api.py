"""HTTP API of the opportunities service — thin: parse, authorise, call, answer."""

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from opportunities.schemas import OpportunityOut, OpportunityPage
from opportunities.tables import OpportunityRow
from salesflow.api import not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["opportunities"])
READERS = ("sales_rep", "sales_manager", "analyst")
SEE_ALL = ("analyst",)


@router.get("/opportunities", response_model=OpportunityPage, summary="List opportunities")
async def list_opportunities(
    request: Request,
    status: str | None = Query(None, max_length=40),
    owner: str | None = Query(None, max_length=200),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> OpportunityPage:
    stmt = visible(select(OpportunityRow), OpportunityRow, principal, SEE_ALL)
    if status:
        stmt = stmt.where(OpportunityRow.status == status)
    if owner:
        stmt = stmt.where(OpportunityRow.owner == owner)
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(keyset(stmt, page, OpportunityRow.created_at, OpportunityRow.id))
        ).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return OpportunityPage(
        items=[OpportunityOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/opportunities/{item_id}", response_model=OpportunityOut, summary="One opportunity")
async def get_opportunity(
    request: Request,
    item_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> OpportunityOut:
    stmt = visible(
        select(OpportunityRow).where(OpportunityRow.id == item_id),
        OpportunityRow,
        principal,
        SEE_ALL,
    )
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
    if row is None:
        raise not_found("opportunity")
    return OpportunityOut.model_validate(row, from_attributes=True)
