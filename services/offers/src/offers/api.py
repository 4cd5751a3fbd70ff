"""HTTP API of the offers service — thin: parse, authorise, call, answer."""

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from offers.schemas import OfferOut, OfferPage
from offers.tables import OfferRow
from salesflow.api import not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["offers"])
READERS = ("sales_rep", "sales_manager", "analyst")
SEE_ALL = ("analyst",)


@router.get("/offers", response_model=OfferPage, summary="List offers")
async def list_offers(
    request: Request,
    status: str | None = Query(None, max_length=40),
    owner: str | None = Query(None, max_length=200),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> OfferPage:
    stmt = visible(select(OfferRow), OfferRow, principal, SEE_ALL)
    if status:
        stmt = stmt.where(OfferRow.status == status)
    if owner:
        stmt = stmt.where(OfferRow.owner == owner)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, OfferRow.created_at, OfferRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return OfferPage(
        items=[OfferOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/offers/{item_id}", response_model=OfferOut, summary="One offer")
async def get_offer(
    request: Request,
    item_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> OfferOut:
    stmt = visible(select(OfferRow).where(OfferRow.id == item_id), OfferRow, principal, SEE_ALL)
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
    if row is None:
        raise not_found("offer")
    return OfferOut.model_validate(row, from_attributes=True)
