"""HTTP API of the aftersales service — thin: parse, authorise, call, answer."""

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from aftersales.schemas import AccountOut, AccountPage
from aftersales.tables import AccountRow
from salesflow.api import not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["accounts"])
READERS = ("service_agent", "sales_rep", "sales_manager", "analyst")
SEE_ALL = ("service_agent", "analyst")


@router.get("/accounts", response_model=AccountPage, summary="List accounts")
async def list_accounts(
    request: Request,
    status: str | None = Query(None, max_length=40),
    owner: str | None = Query(None, max_length=200),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> AccountPage:
    stmt = visible(select(AccountRow), AccountRow, principal, SEE_ALL)
    if status:
        stmt = stmt.where(AccountRow.status == status)
    if owner:
        stmt = stmt.where(AccountRow.owner == owner)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, AccountRow.created_at, AccountRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return AccountPage(
        items=[AccountOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/accounts/{item_id}", response_model=AccountOut, summary="One account")
async def get_account(
    request: Request,
    item_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> AccountOut:
    stmt = visible(
        select(AccountRow).where(AccountRow.id == item_id), AccountRow, principal, SEE_ALL
    )
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
    if row is None:
        raise not_found("account")
    return AccountOut.model_validate(row, from_attributes=True)
