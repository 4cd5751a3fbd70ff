"""Follow-up business: identify it (⇒ followup.identified) and list it."""

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from aftersales import followups
from aftersales.api.access import (
    FOLLOWUP_CREATORS,
    FOLLOWUP_READERS,
    SEE_ALL,
    now,
    settings_of,
    visible_account,
)
from aftersales.schemas import FollowupIn, FollowupOut, FollowupPage
from aftersales.tables import AccountRow, AssetRow, FollowupRow, TicketRow
from aftersales.views import followup_out
from salesflow.api import Problem
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require
from salesflow.contracts.events.aftersales import FollowupKind
from salesflow.contracts.events.common import Contact
from salesflow.contracts.types import Money

router = APIRouter(tags=["follow-ups"])


@router.post(
    "/followups",
    status_code=201,
    response_model=FollowupOut,
    summary="Identify follow-up business ⇒ followup.identified (opportunities opens an "
    "opportunity for the existing customer)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def create_followup(
    body: FollowupIn,
    request: Request,
    principal: Principal = Depends(require(*FOLLOWUP_CREATORS)),
) -> JSONResponse:
    settings, at = settings_of(request), now(request)

    async def create(session: AsyncSession) -> tuple[int, FollowupOut]:
        account = await visible_account(session, body.account_id, principal)
        if account is None:
            raise Problem(422, "account not found", field="account_id")
        if body.asset_ids:
            found = set(
                (
                    await session.exec(
                        select(AssetRow.id).where(
                            AssetRow.id.in_(body.asset_ids), AssetRow.account_id == account.id
                        )
                    )
                ).all()
            )
            missing = sorted(set(body.asset_ids) - found)
            if missing:
                raise Problem(422, "assets not in this account's installed base", missing=missing)
        if body.ticket_id:
            ticket = await session.get(TicketRow, body.ticket_id)
            if ticket is None or ticket.account_id != account.id:
                raise Problem(422, "ticket not found for this account", field="ticket_id")
        row, _ = await followups.identify(
            session,
            settings,
            account,
            followups.NewFollowup(
                kind=FollowupKind(body.kind),
                description=body.description,
                estimated_value=Money(
                    amount=body.estimated_value.amount, currency=body.estimated_value.currency
                ),
                expected_close_date=body.expected_close_date,
                due_date=body.due_date,
                asset_ids=list(dict.fromkeys(body.asset_ids)),
                ticket_id=body.ticket_id,
                contact=Contact(**body.contact.model_dump()) if body.contact else None,
            ),
            identified_by=principal.sub,
            now=at,
        )
        return 201, followup_out(row)

    response = await run_idempotent(request.app.state.db, request, principal.sub, body, create)
    if response.status_code == 201:
        response.headers["Location"] = f"/followups/{json.loads(bytes(response.body))['id']}"
    return response


@router.get("/followups", response_model=FollowupPage, summary="List follow-ups")
async def list_followups(
    request: Request,
    account_id: str | None = Query(None, max_length=36),
    kind: FollowupKind | None = Query(None),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*FOLLOWUP_READERS)),
) -> FollowupPage:
    stmt = visible(
        select(FollowupRow).join(AccountRow, AccountRow.id == FollowupRow.account_id),
        AccountRow,
        principal,
        SEE_ALL,
    )
    if account_id:
        stmt = stmt.where(FollowupRow.account_id == account_id)
    if kind:
        stmt = stmt.where(FollowupRow.kind == kind.value)
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(keyset(stmt, page, FollowupRow.created_at, FollowupRow.id))
        ).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return FollowupPage(items=[followup_out(r) for r in items], next_cursor=cursor)
