"""Accounts: list with health and renewal filters, one account with its installed base."""

from datetime import timedelta

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import exists, or_
from sqlmodel import select

from aftersales.api.access import (
    ACCOUNT_READERS,
    SEE_ALL,
    now,
    settings_of,
    visible_account,
)
from aftersales.domain.health import Band
from aftersales.schemas import AccountDetail, AccountPage
from aftersales.tables import AccountRow, AssetRow
from aftersales.views import account_detail, account_out
from salesflow.api import not_found
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["accounts"])


@router.get("/accounts", response_model=AccountPage, summary="List accounts")
async def list_accounts(
    request: Request,
    health: Band | None = Query(None, description="Health band"),
    renewal_due: bool | None = Query(
        None, description="A warranty or contract ends within the notice period (or not)"
    ),
    renewal_within_days: int | None = Query(
        None, ge=0, le=3650, description="Notice period for `renewal_due` (default: settings)"
    ),
    owner: str | None = Query(None, max_length=200),
    company_id: str | None = Query(
        None, max_length=128, description="The account of this company (leads' company id)"
    ),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*ACCOUNT_READERS)),
) -> AccountPage:
    stmt = visible(select(AccountRow), AccountRow, principal, SEE_ALL)
    if health:
        stmt = stmt.where(AccountRow.health_band == health)
    if owner:
        stmt = stmt.where(AccountRow.owner == owner)
    if company_id is not None:
        stmt = stmt.where(AccountRow.company_id == company_id)
    if renewal_due is not None:
        settings = settings_of(request)
        today = settings.calendar().local_date(now(request))
        days = settings.renewal_notice_days if renewal_within_days is None else renewal_within_days
        horizon = today + timedelta(days=days)
        due = exists().where(
            AssetRow.account_id == AccountRow.id,
            or_(
                AssetRow.warranty_end.between(today, horizon),
                AssetRow.contract_end.between(today, horizon),
            ),
        )
        stmt = stmt.where(due if renewal_due else ~due)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, AccountRow.created_at, AccountRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return AccountPage(items=[account_out(r) for r in items], next_cursor=cursor)


@router.get(
    "/accounts/{account_id}",
    response_model=AccountDetail,
    summary="One account with installed base, health breakdown, orders and renewals",
)
async def get_account(
    request: Request,
    account_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*ACCOUNT_READERS)),
) -> AccountDetail:
    async with request.app.state.db.session() as session:
        account = await visible_account(session, account_id, principal)
        if account is None:
            raise not_found("account")
        return await account_detail(session, settings_of(request), account, now(request))
