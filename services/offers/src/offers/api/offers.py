"""Offers: create, read, versions, document, approve, send, revise, accept, reject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from offers import workflow
from offers.api.roles import APPROVERS, OFFER_ACTORS, READERS
from offers.schemas import (
    AcceptIn,
    DecisionIn,
    OfferIn,
    OfferOut,
    OfferPage,
    RejectIn,
    ReviseIn,
    SendIn,
    VersionList,
    VersionOut,
    VersionSummary,
)
from offers.tables import OfferRow, OfferVersionRow
from salesflow.api.etag import set_etag
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require
from salesflow.contracts.events.offers import OfferStatus

router = APIRouter(tags=["offers"])
IdPath = Path(max_length=36)
Action = Callable[..., Awaitable[OfferOut]]


async def _run(
    request: Request,
    principal: Principal,
    body: BaseModel,
    action: Action,
    *args: Any,
    status: int = 200,
) -> JSONResponse:
    """One transaction; an ``Idempotency-Key`` makes a retry get the first answer."""
    app = request.app

    async def unit(session: AsyncSession) -> tuple[int, OfferOut]:
        out = await action(session, app.state.settings, app.state.clock, principal, *args, body)
        return status, out

    return await run_idempotent(app.state.db, request, principal.sub, body, unit)


@router.get("/offers", response_model=OfferPage, summary="List offers")
async def list_offers(
    request: Request,
    status: OfferStatus | None = Query(None),
    owner: str | None = Query(None, max_length=128),
    opportunity_id: str | None = Query(None, max_length=128),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> OfferPage:
    stmt = visible(select(OfferRow), OfferRow, principal, workflow.READERS_SEE_ALL)
    if status:
        stmt = stmt.where(OfferRow.status == status)
    if owner:
        stmt = stmt.where(OfferRow.owner == owner)
    if opportunity_id:
        stmt = stmt.where(OfferRow.opportunity_id == opportunity_id)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, OfferRow.created_at, OfferRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return OfferPage(items=[workflow.summary(r) for r in items], next_cursor=cursor)


@router.post(
    "/offers",
    status_code=201,
    response_model=OfferOut,
    summary="Create a priced offer for an open opportunity",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def create_offer(
    body: OfferIn, request: Request, principal: Principal = Depends(require(*OFFER_ACTORS))
) -> JSONResponse:
    async def unit(session: AsyncSession) -> tuple[int, OfferOut]:
        app = request.app
        return 201, await workflow.create_offer(
            session, app.state.settings, app.state.clock, principal, body
        )

    return await run_idempotent(request.app.state.db, request, principal.sub, body, unit)


@router.get("/offers/{offer_id}", response_model=OfferOut, summary="One offer, latest version")
async def get_offer(
    request: Request,
    response: Response,
    offer_id: str = IdPath,
    principal: Principal = Depends(require(*READERS)),
) -> OfferOut:
    async with request.app.state.db.session() as session:
        offer = await workflow.load_offer(session, offer_id, principal)
        out = await workflow.offer_out(session, offer)
    set_etag(response, offer.version)
    return out


@router.get("/offers/{offer_id}/versions", response_model=VersionList, summary="All versions")
async def list_versions(
    request: Request,
    offer_id: str = IdPath,
    principal: Principal = Depends(require(*READERS)),
) -> VersionList:
    async with request.app.state.db.session() as session:
        offer = await workflow.load_offer(session, offer_id, principal)
        rows = (
            await session.exec(
                select(OfferVersionRow)
                .where(OfferVersionRow.offer_id == offer.id)
                .order_by(OfferVersionRow.number)
            )
        ).all()
    items = []
    for row in rows:
        doc = workflow.document_of(row)
        items.append(
            VersionSummary(
                number=row.number,
                approval=row.approval,
                changes=row.changes,
                net=doc.totals.net.amount,
                gross=doc.totals.gross.amount,
                sent_at=row.sent_at,
                created_at=row.created_at,
            )
        )
    return VersionList(items=items)


@router.get(
    "/offers/{offer_id}/versions/{number}",
    response_model=VersionOut,
    summary="One version as it was priced, with what changed from the one before",
)
async def get_version(
    request: Request,
    offer_id: str = IdPath,
    number: int = Path(ge=1, le=100_000),
    principal: Principal = Depends(require(*READERS)),
) -> VersionOut:
    async with request.app.state.db.session() as session:
        offer = await workflow.load_offer(session, offer_id, principal)
        row = await workflow.load_version(session, offer.id, number)
    return workflow.version_out(row)


@router.get(
    "/offers/{offer_id}/document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The offer as PDF"}},
    summary="The offer as PDF (latest version, or ?version=n)",
)
async def get_document(
    request: Request,
    offer_id: str = IdPath,
    version: int | None = Query(None, ge=1, le=100_000),
    principal: Principal = Depends(require(*READERS)),
) -> Response:
    async with request.app.state.db.session() as session:
        offer = await workflow.load_offer(session, offer_id, principal)
        row = await workflow.load_version(session, offer.id, version or offer.offer_version)
    # the PDF library (fpdf2 with fontTools) is imported by the first document asked for, not
    # at start-up: a quarter of the service's import time
    from offers.document import render_offer_pdf

    pdf = render_offer_pdf(
        request.app.state.settings,
        workflow.document_of(row),
        offer_id=offer.id,
        owner=offer.owner,
        sent=row.sent_at is not None,
        changes=row.changes,
    )
    filename = f"offer-{offer.id[:8]}-v{row.number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post(
    "/offers/{offer_id}/approve",
    response_model=OfferOut,
    summary="Approve or reject the discounts (a sales manager who is not the owner)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def approve_offer(
    body: DecisionIn,
    request: Request,
    offer_id: str = IdPath,
    principal: Principal = Depends(require(*APPROVERS)),
) -> JSONResponse:
    return await _run(request, principal, body, workflow.decide, offer_id)


@router.post(
    "/offers/{offer_id}/send",
    response_model=OfferOut,
    summary="Send to the customer",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def send_offer(
    request: Request,
    body: SendIn | None = None,
    offer_id: str = IdPath,
    principal: Principal = Depends(require(*OFFER_ACTORS)),
) -> JSONResponse:
    return await _run(request, principal, body or SendIn(), workflow.send_offer, offer_id)


@router.post(
    "/offers/{offer_id}/revise",
    status_code=201,
    response_model=OfferOut,
    summary="Create the next version (negotiation)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def revise_offer(
    body: ReviseIn,
    request: Request,
    offer_id: str = IdPath,
    principal: Principal = Depends(require(*OFFER_ACTORS)),
) -> JSONResponse:
    return await _run(request, principal, body, workflow.revise_offer, offer_id, status=201)


@router.post(
    "/offers/{offer_id}/accept",
    response_model=OfferOut,
    summary="Record the customer's acceptance of the latest sent version (exactly once)",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def accept_offer(
    body: AcceptIn,
    request: Request,
    offer_id: str = IdPath,
    principal: Principal = Depends(require(*OFFER_ACTORS)),
) -> JSONResponse:
    return await _run(request, principal, body, workflow.accept_offer, offer_id)


@router.post(
    "/offers/{offer_id}/reject",
    response_model=OfferOut,
    summary="Record the customer's rejection",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def reject_offer(
    body: RejectIn,
    request: Request,
    offer_id: str = IdPath,
    principal: Principal = Depends(require(*OFFER_ACTORS)),
) -> JSONResponse:
    return await _run(request, principal, body, workflow.reject_offer, offer_id)
