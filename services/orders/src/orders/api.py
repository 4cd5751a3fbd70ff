"""HTTP API of the orders service — thin: parse, authorise, call, answer."""

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from orders.schemas import OrderOut, OrderPage
from orders.tables import OrderRow
from salesflow.api import not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["orders"])
READERS = ("order_desk", "sales_rep", "sales_manager", "analyst")
SEE_ALL = ("order_desk", "analyst")


@router.get("/orders", response_model=OrderPage, summary="List orders")
async def list_orders(
    request: Request,
    status: str | None = Query(None, max_length=40),
    owner: str | None = Query(None, max_length=200),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> OrderPage:
    stmt = visible(select(OrderRow), OrderRow, principal, SEE_ALL)
    if status:
        stmt = stmt.where(OrderRow.status == status)
    if owner:
        stmt = stmt.where(OrderRow.owner == owner)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, OrderRow.created_at, OrderRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return OrderPage(
        items=[OrderOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/orders/{item_id}", response_model=OrderOut, summary="One order")
async def get_order(
    request: Request,
    item_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> OrderOut:
    stmt = visible(select(OrderRow).where(OrderRow.id == item_id), OrderRow, principal, SEE_ALL)
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
    if row is None:
        raise not_found("order")
    return OrderOut.model_validate(row, from_attributes=True)
