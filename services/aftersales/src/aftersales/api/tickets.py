"""Tickets: open, list, read, move through the lifecycle, comment, resolve."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from aftersales import tickets
from aftersales.api.access import (
    COMMENTERS,
    TICKET_OPENERS,
    TICKET_READERS,
    TICKET_WORKERS,
    check_if_match,
    is_customer_side,
    now,
    settings_of,
    ticket_scope,
    visible_ticket,
)
from aftersales.domain.tickets import TicketConflict
from aftersales.schemas import (
    CommentIn,
    CommentOut,
    ResolveIn,
    TicketDetail,
    TicketIn,
    TicketOut,
    TicketPage,
    TransitionIn,
)
from aftersales.tables import AccountRow, AssetRow, TicketRow
from aftersales.views import ticket_detail, ticket_out
from salesflow.api import Problem, conflict, not_found
from salesflow.api.etag import IF_MATCH_OPTIONAL, set_etag
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require
from salesflow.contracts.events.aftersales import Severity, TicketStatus

router = APIRouter(tags=["tickets"])


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketOut,
    summary="Open a ticket (service agents, customer-portal integrations)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def open_ticket(
    body: TicketIn,
    request: Request,
    principal: Principal = Depends(require(*TICKET_OPENERS)),
) -> JSONResponse:
    settings, at = settings_of(request), now(request)

    async def create(session: AsyncSession) -> tuple[int, TicketOut]:
        account = await session.get(AccountRow, body.account_id)
        if account is None:
            raise Problem(422, "account not found", field="account_id")
        asset = await session.get(AssetRow, body.asset_id) if body.asset_id else None
        if body.asset_id and (asset is None or asset.account_id != account.id):
            raise Problem(422, "asset not found in this account's installed base", field="asset_id")
        summary = body.summary or body.description.splitlines()[0][:200]
        ticket = await tickets.open_ticket(
            session,
            settings,
            account=account,
            asset=asset,
            new=tickets.NewTicket(body.channel, body.severity, summary, body.description),
            opened_by=principal.sub,
            now=at,
        )
        return 201, ticket_out(ticket, account, asset, settings.sla_policy(), at)

    response = await run_idempotent(request.app.state.db, request, principal.sub, body, create)
    if response.status_code == 201:
        created = json.loads(bytes(response.body))
        response.headers["Location"] = f"/tickets/{created['id']}"
    return response


@router.get("/tickets", response_model=TicketPage, summary="List tickets")
async def list_tickets(
    request: Request,
    status: TicketStatus | None = Query(None),
    severity: Severity | None = Query(None),
    account_id: str | None = Query(None, max_length=36),
    breached: bool | None = Query(None, description="Missed a response or resolution target"),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*TICKET_READERS)),
) -> TicketPage:
    stmt = select(TicketRow).join(AccountRow, AccountRow.id == TicketRow.account_id)
    scope = ticket_scope(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    if status:
        stmt = stmt.where(TicketRow.status == status.value)
    if severity:
        stmt = stmt.where(TicketRow.severity == severity)
    if account_id:
        stmt = stmt.where(TicketRow.account_id == account_id)
    if breached is not None:
        flagged = TicketRow.first_response_breached | TicketRow.resolution_breached
        stmt = stmt.where(flagged if breached else ~flagged)
    settings, at = settings_of(request), now(request)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, TicketRow.opened_at, TicketRow.id))).all()
        items, cursor = page_of(list(rows), page, lambda r: (r.opened_at.isoformat(), r.id))
        accounts = {
            a.id: a
            for a in (
                await session.exec(
                    select(AccountRow).where(AccountRow.id.in_({t.account_id for t in items}))
                )
            ).all()
        }
        assets = {
            a.id: a
            for a in (
                await session.exec(
                    select(AssetRow).where(
                        AssetRow.id.in_({t.asset_id for t in items if t.asset_id})
                    )
                )
            ).all()
        }
    policy = settings.sla_policy()
    return TicketPage(
        items=[
            ticket_out(t, accounts[t.account_id], assets.get(t.asset_id or ""), policy, at)
            for t in items
        ],
        next_cursor=cursor,
    )


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, summary="One ticket")
async def get_ticket(
    request: Request,
    response: Response,
    ticket_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*TICKET_READERS)),
) -> TicketDetail:
    async with request.app.state.db.session() as session:
        found = await visible_ticket(session, ticket_id, principal)
        if found is None:
            raise not_found("ticket")
        ticket, account = found
        detail = await ticket_detail(
            session,
            ticket,
            account,
            settings_of(request).sla_policy(),
            now(request),
            with_internal=not is_customer_side(principal),
        )
    set_etag(response, ticket.version)
    return detail


async def _act(
    request: Request,
    response: Response,
    ticket_id: str,
    principal: Principal,
    action: Callable[[AsyncSession, TicketRow], Awaitable[None]],
) -> TicketDetail:
    """Load a visible ticket, check If-Match, run ``action`` in one unit of work, answer."""
    settings, at = settings_of(request), now(request)
    async with request.app.state.db.session() as session, session.begin():
        found = await visible_ticket(session, ticket_id, principal)
        if found is None:
            raise not_found("ticket")
        ticket, account = found
        check_if_match(request, ticket.version)
        try:
            await action(session, ticket)
        except TicketConflict as exc:
            raise conflict(str(exc), ticket_status=ticket.status) from None
        detail = await ticket_detail(
            session,
            ticket,
            account,
            settings.sla_policy(),
            at,
            with_internal=not is_customer_side(principal),
        )
    set_etag(response, ticket.version)
    return detail


@router.post(
    "/tickets/{ticket_id}/transitions",
    response_model=TicketDetail,
    summary="Change the status: in_progress, waiting_customer (pauses the SLA) or closed",
    openapi_extra=IF_MATCH_OPTIONAL,
)
async def transition_ticket(
    body: TransitionIn,
    request: Request,
    response: Response,
    ticket_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*TICKET_WORKERS)),
) -> TicketDetail:
    async def action(session: AsyncSession, ticket: TicketRow) -> None:
        await tickets.change_status(
            session,
            settings_of(request),
            ticket,
            TicketStatus(body.to),
            by=principal.sub,
            note=body.note,
            now=now(request),
        )

    return await _act(request, response, ticket_id, principal, action)


@router.post(
    "/tickets/{ticket_id}/resolve",
    response_model=TicketDetail,
    summary="Resolve the ticket (stops the SLA clock) ⇒ ticket.resolved",
    openapi_extra=IF_MATCH_OPTIONAL,
)
async def resolve_ticket(
    body: ResolveIn,
    request: Request,
    response: Response,
    ticket_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*TICKET_WORKERS)),
) -> TicketDetail:
    async def action(session: AsyncSession, ticket: TicketRow) -> None:
        await tickets.resolve(
            session,
            settings_of(request),
            ticket,
            resolution=body.resolution,
            by=principal.sub,
            now=now(request),
        )

    return await _act(request, response, ticket_id, principal, action)


@router.post(
    "/tickets/{ticket_id}/comments",
    status_code=201,
    response_model=CommentOut,
    summary="Comment: an agent's public comment is the first response; a customer's answer "
    "ends waiting_customer",
    openapi_extra=IF_MATCH_OPTIONAL,
)
async def comment_ticket(
    body: CommentIn,
    request: Request,
    response: Response,
    ticket_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*COMMENTERS)),
) -> CommentOut:
    if body.internal and is_customer_side(principal):
        # refused, not quietly published: the caller meant it to stay private
        raise Problem(403, "only agents write internal comments; send internal: false")
    created: list[CommentOut] = []

    async def action(session: AsyncSession, ticket: TicketRow) -> None:
        comment = await tickets.add_comment(
            session,
            settings_of(request),
            ticket,
            author=principal.sub,
            from_customer=is_customer_side(principal),
            body=body.body,
            internal=body.internal,
            now=now(request),
        )
        await session.flush()
        created.append(CommentOut.model_validate(comment, from_attributes=True))

    await _act(request, response, ticket_id, principal, action)
    return created[0]
