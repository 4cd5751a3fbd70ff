"""HTTP API of the fulfillment service — thin: parse, authorise, call, answer."""

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from fulfillment.schemas import FulfillmentOut, FulfillmentPage
from fulfillment.tables import FulfillmentRow
from salesflow.api import not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["fulfillments"])
READERS = ("logistics_system", "order_desk", "sales_rep", "sales_manager", "analyst")
SEE_ALL = ("logistics_system", "order_desk", "analyst")


@router.get("/fulfillments", response_model=FulfillmentPage, summary="List fulfillments")
async def list_fulfillments(
    request: Request,
    status: str | None = Query(None, max_length=40),
    owner: str | None = Query(None, max_length=200),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> FulfillmentPage:
    stmt = visible(select(FulfillmentRow), FulfillmentRow, principal, SEE_ALL)
    if status:
        stmt = stmt.where(FulfillmentRow.status == status)
    if owner:
        stmt = stmt.where(FulfillmentRow.owner == owner)
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(keyset(stmt, page, FulfillmentRow.created_at, FulfillmentRow.id))
        ).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return FulfillmentPage(
        items=[FulfillmentOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/fulfillments/{item_id}", response_model=FulfillmentOut, summary="One fulfillment")
async def get_fulfillment(
    request: Request,
    item_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> FulfillmentOut:
    stmt = visible(
        select(FulfillmentRow).where(FulfillmentRow.id == item_id),
        FulfillmentRow,
        principal,
        SEE_ALL,
    )
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
    if row is None:
        raise not_found("fulfillment")
    return FulfillmentOut.model_validate(row, from_attributes=True)
