"""``/orders``: direct intake, reading with filters and history, cancellation."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.api.access import READERS, visible_orders
from orders.batching import IntakeBatcher
from orders.config import Settings
from orders.direct import DirectOrder, draft_of, load_master_data
from orders.intake import take_in
from orders.progress import CancelRefused, cancel, locked_order
from orders.schemas import CancelIn, OrderDetail, OrderIn, OrderPage
from orders.tables import OrderRow, StatusChangeRow
from orders.views import order_detail, order_out
from salesflow.api import conflict, not_found
from salesflow.api.errors import Problem
from salesflow.api.etag import IF_MATCH_OPTIONAL, require_if_match, set_etag
from salesflow.api.fields import Timestamp
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require
from salesflow.contracts.events.orders import OrderChannel, OrderStatus

router = APIRouter(tags=["orders"])
ORDER_NUMBER = re.compile(r"^[A-Z]{1,8}-\d{4}-\d{4,12}$")
INTAKE_ROLES = ("order_desk", "integration")
CANCEL_ROLES = ("order_desk", "sales_manager", "integration")


def _named(order_id: str) -> ColumnElement[bool]:
    """An order is named by its id or by its order number, on every route."""
    column = col(OrderRow.order_number) if ORDER_NUMBER.match(order_id) else col(OrderRow.id)
    return column == order_id


def _channel(body: OrderIn, principal: Principal) -> OrderChannel:
    """The order desk enters orders itself; integrations are a web shop or an EDI gateway."""
    if principal.has("order_desk"):
        return OrderChannel(body.channel or "order_desk")
    if body.channel == "order_desk":
        raise Problem(403, "only the order desk enters order_desk orders")
    return OrderChannel(body.channel or "web_shop")


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderDetail,
    summary="Direct intake of an order of an existing customer",
    description="Priced from the price list, or with explicitly agreed prices (order desk "
    "only). The order is validated at once: the answer's status is `confirmed` or `rejected` "
    "(with reasons). Send an `Idempotency-Key` to retry safely.",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def place_order(
    body: OrderIn,
    request: Request,
    principal: Principal = Depends(require(*INTAKE_ROLES)),
) -> Response:
    settings: Settings = request.app.state.settings
    channel = _channel(body, principal)
    if not principal.has("order_desk") and any(line.has_agreed_price for line in body.lines):
        raise Problem(
            403, "agreed prices (unit_price, discount_percent, tax_rate) need the order desk"
        )
    order = DirectOrder(
        body=body,
        principal=principal,
        channel=channel,
        # the middleware's X-Correlation-Id (or a new id): the journey this order starts
        correlation_id=request.scope.get("state", {}).get("correlation_id") or str(uuid.uuid4()),
        currency=body.currency or settings.default_currency,
    )
    batcher: IntakeBatcher | None = request.app.state.intake
    if batcher is not None:  # group commit
        return await batcher.submit(request, principal.sub, body, order)

    async def create(session: AsyncSession) -> tuple[int, OrderDetail]:
        draft = draft_of(order, await load_master_data(session, [order]))
        [row] = await take_in(session, settings, [draft], request.app.state.clock())
        return 201, order_detail(row, draft.history, draft)

    return await run_idempotent(request.app.state.db, request, principal.sub, body, create)


@router.get("/orders", response_model=OrderPage, summary="List orders")
async def list_orders(
    request: Request,
    status: list[OrderStatus] | None = Query(None, description="One or more statuses"),
    customer_id: str | None = Query(None, max_length=128),
    channel: OrderChannel | None = Query(None),
    offer_id: str | None = Query(None, max_length=128),
    created_from: Timestamp | None = Query(None, description="Received at or after (inclusive)"),
    created_to: Timestamp | None = Query(None, description="Received before (exclusive)"),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> OrderPage:
    stmt = visible_orders(select(OrderRow), principal)
    if status:
        stmt = stmt.where(OrderRow.status.in_([s.value for s in status]))
    if customer_id:
        stmt = stmt.where(OrderRow.customer_id == customer_id)
    if channel:
        stmt = stmt.where(OrderRow.channel == channel.value)
    if offer_id:
        stmt = stmt.where(OrderRow.offer_id == offer_id)
    if created_from:
        stmt = stmt.where(OrderRow.created_at >= created_from)
    if created_to:
        stmt = stmt.where(OrderRow.created_at < created_to)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, OrderRow.created_at, OrderRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return OrderPage(items=[order_out(r) for r in items], next_cursor=cursor)


async def _history(session: AsyncSession, order_id: str) -> list[StatusChangeRow]:
    stmt = (
        select(StatusChangeRow)
        .where(StatusChangeRow.order_id == order_id)
        .order_by(StatusChangeRow.id)
    )
    return list((await session.exec(stmt)).all())


@router.get(
    "/orders/{order_id}",
    response_model=OrderDetail,
    summary="One order with its status history (by id or order number)",
)
async def get_order(
    request: Request,
    response: Response,
    order_id: str = Path(max_length=40),
    principal: Principal = Depends(require(*READERS)),
) -> OrderDetail:
    stmt = visible_orders(select(OrderRow).where(_named(order_id)), principal)
    async with request.app.state.db.session() as session:
        row = (await session.exec(stmt)).first()
        if row is None:
            raise not_found("order")
        history = await _history(session, row.id)
    set_etag(response, row.version)
    return order_detail(row, history)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderDetail,
    summary="Cancel an order before anything is dispatched (by id or order number)",
    description="409 once goods are dispatched (or the order is rejected, cancelled or "
    "completed). `If-Match` is optional; when sent, it must name the current version.",
    openapi_extra=IF_MATCH_OPTIONAL,
)
async def cancel_order(
    body: CancelIn,
    request: Request,
    response: Response,
    order_id: str = Path(max_length=40),
    principal: Principal = Depends(require(*CANCEL_ROLES)),
) -> OrderDetail:
    now = request.app.state.clock()
    async with request.app.state.db.session() as session, session.begin():
        visible = await session.exec(
            visible_orders(select(OrderRow.id).where(_named(order_id)), principal)
        )
        found = visible.first()
        order = await locked_order(session, found) if found else None
        if order is None:
            raise not_found("order")
        if request.headers.get("If-Match"):
            require_if_match(request, order.version)
        try:
            await cancel(
                session,
                request.app.state.settings,
                order,
                reason=body.reason,
                actor=principal.sub,
                now=now,
            )
        except CancelRefused as exc:
            raise conflict(f"order {order.order_number} cannot be cancelled: {exc}") from None
        await session.flush()
        history = await _history(session, order.id)
    set_etag(response, order.version)
    return order_detail(order, history)
