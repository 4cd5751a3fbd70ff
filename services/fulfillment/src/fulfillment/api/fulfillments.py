"""Reading fulfilment plans: the list with filters, one plan with shipments, tasks, timeline."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import or_
from sqlmodel import col, select

from fulfillment import store
from fulfillment.api.common import READERS, SEE_ALL, detail_out, fulfillment_out, now
from fulfillment.domain.progress import CLOSED, FulfillmentStatus
from fulfillment.schemas import FulfillmentDetail, FulfillmentPage
from fulfillment.tables import FulfillmentRow
from salesflow.api import not_found
from salesflow.api.etag import set_etag
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["fulfillments"])


@router.get("/fulfillments", response_model=FulfillmentPage, summary="List fulfilment plans")
async def list_fulfillments(
    request: Request,
    order: str | None = Query(None, max_length=128, description="Order id or order number"),
    status: FulfillmentStatus | None = Query(None),
    overdue: bool | None = Query(
        None, description="Open plans with a shipment or task past its date (or the others)"
    ),
    owner: str | None = Query(None, max_length=200),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> FulfillmentPage:
    current = now(request)
    stmt = visible(select(FulfillmentRow), FulfillmentRow, principal, SEE_ALL)
    if order:
        stmt = stmt.where(
            or_(FulfillmentRow.order_id == order, FulfillmentRow.order_number == order)
        )
    if status:
        stmt = stmt.where(FulfillmentRow.status == status)
    if owner:
        stmt = stmt.where(FulfillmentRow.owner == owner)
    if overdue is not None:
        late = (col(FulfillmentRow.next_due_date) < current.date()) & col(
            FulfillmentRow.status
        ).not_in([str(s) for s in CLOSED])
        stmt = stmt.where(late if overdue else ~late | col(FulfillmentRow.next_due_date).is_(None))
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(keyset(stmt, page, FulfillmentRow.created_at, FulfillmentRow.id))
        ).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return FulfillmentPage(items=[fulfillment_out(r, current) for r in items], next_cursor=cursor)


@router.get(
    "/fulfillments/{fulfillment_id}",
    response_model=FulfillmentDetail,
    summary="One fulfilment plan with shipments, tasks and the timeline of every status event",
)
async def get_fulfillment(
    request: Request,
    response: Response,
    fulfillment_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> FulfillmentDetail:
    stmt = visible(
        select(FulfillmentRow).where(FulfillmentRow.id == fulfillment_id),
        FulfillmentRow,
        principal,
        SEE_ALL,
    )
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
        if row is None:
            raise not_found("fulfillment")
        plan = await store.read_plan(session, row)
        timeline = await store.timeline(session, row.id)
    set_etag(response, row.version)
    return detail_out(plan, timeline, now(request))
