"""Order intake: one unit of work takes orders in, validates them and confirms or rejects them.

For each order, in the caller's transaction: take the next number of its series (which queues
concurrent intakes), read the open order value, check the order (``domain.validation``), write
the order and its status history, and stage ``order.received`` followed by ``order.confirmed`` or
``order.rejected`` in the outbox. Several orders can go through one call (group commit); each is
checked against the open value including the orders before it in the same call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.orm import configure_mappers
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import customers, events
from orders.config import Settings
from orders.domain.money import fits, to_minor
from orders.domain.numbering import format_number, series_of
from orders.domain.validation import check_order
from orders.numbers import reserve_numbers
from orders.schemas import StatusChangeOut
from orders.tables import CustomerRow, OrderRow, StatusChangeRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    PricedLine,
    Terms,
    Totals,
)
from salesflow.contracts.events.orders import OrderChannel, OrderStatus
from salesflow.contracts.types import Money
from salesflow.messaging.handlers import emit

# Rows are built with ``model_construct`` (no validation: the values come from validated
# contract models) and written with Core; their attributes need configured mappers.
configure_mappers()


@dataclass
class OrderDraft:
    """Everything an order is made of before it has an id, a number and a status."""

    channel: OrderChannel
    customer: CompanySnapshot
    currency: str
    lines: list[PricedLine]
    totals: Totals
    terms: Terms
    correlation_id: str
    bill_to: Address | None = None
    ship_to: Address | None = None
    delivery_contact: Contact | None = None
    customer_po_number: str | None = None
    account_id: str | None = None
    owner: str | None = None
    team: str | None = None
    created_by: str | None = None
    offer_id: str | None = None
    offer_version: int | None = None
    opportunity_id: str | None = None
    contract: dict | None = None
    cause: Envelope | None = None  # the event this order comes from
    source: str = "POST /orders"
    history: list[StatusChangeOut] = field(default_factory=list)


async def take_in(
    session: AsyncSession,
    settings: Settings,
    drafts: list[OrderDraft],
    now: datetime,
    *,
    known: dict[str, CustomerRow] | None = None,
) -> list[OrderRow]:
    """Write the drafts as orders (received, then confirmed or rejected) with their events.
    ``known``: the drafts' customer rows if the caller has read them in this transaction."""
    if not drafts:
        return []
    today = now.astimezone(ZoneInfo(settings.order_number_timezone)).date()
    default_limit = (
        Money(amount=settings.default_credit_limit, currency=settings.default_credit_currency)
        if settings.default_credit_limit is not None
        else None
    )
    if known is None:
        known = await customers.load_customers(session, (d.customer.company_id for d in drafts))
    limits = {cid: customers.credit_limit(row, default_limit) for cid, row in known.items()}

    # Numbers first: the counter row's lock serialises every intake of the series until this
    # transaction ends, so the open order values read below include every committed order and
    # no concurrent intake can slip past the credit limit alongside this one.
    series = series_of(settings.order_number_prefix, now, settings.order_number_timezone)
    numbers = iter(await reserve_numbers(session, series, len(drafts)))
    open_value = await customers.open_values(
        session, [(cid, limit.currency) for cid, limit in limits.items() if limit is not None]
    )

    orders: list[OrderRow] = []
    rows: list[dict[str, Any]] = []  # the same values for the Core INSERT
    dumped = _Dumps()
    for draft in drafts:
        cid = draft.customer.company_id
        credit = customers.credit_position(known.get(cid), default_limit, open_value)
        reasons = check_order(
            currency=draft.currency,
            lines=draft.lines,
            totals=draft.totals,
            bill_to=draft.bill_to,
            ship_to=draft.ship_to,
            requested_delivery_date=draft.terms.requested_delivery_date,
            credit=credit,
            today=today,
            countries_without_postal_code=settings.countries_without_postal_code,
        )
        if not reasons and credit.limit is not None:  # later orders of this batch see it
            key = (cid, credit.limit.currency)
            open_value[key] = open_value.get(key, credit.open_value) + draft.totals.gross.amount
        values = dict(
            id=str(uuid.uuid4()),
            order_number=format_number(series, next(numbers), settings.order_number_digits),
            status=(OrderStatus.REJECTED if reasons else OrderStatus.CONFIRMED).value,
            channel=draft.channel.value,
            customer_id=cid,
            customer_name=draft.customer.name,
            customer=dumped(draft.customer),
            account_id=draft.account_id,
            owner=draft.owner,
            team=draft.team,
            created_by=draft.created_by,
            currency=draft.currency,
            net_minor=_minor(draft.totals.net.amount, draft.currency),
            gross_minor=_minor(draft.totals.gross.amount, draft.currency),
            totals=draft.totals.model_dump(mode="json"),
            lines=[line.model_dump(mode="json") for line in draft.lines],
            terms=draft.terms.model_dump(mode="json"),
            bill_to=dumped(draft.bill_to),
            ship_to=dumped(draft.ship_to),
            delivery_contact=dumped(draft.delivery_contact),
            customer_po_number=draft.customer_po_number,
            requested_delivery_date=draft.terms.requested_delivery_date,
            offer_id=draft.offer_id,
            offer_version=draft.offer_version,
            opportunity_id=draft.opportunity_id,
            contract=draft.contract,
            rejection_reasons=[
                {"code": r.code, "message": r.message, "line_no": r.line_no} for r in reasons
            ]
            or None,
            correlation_id=draft.correlation_id,
            version=2,  # 1 = received, 2 = confirmed or rejected
            created_at=now,
            updated_at=now,
            **_UNSET_ORDER_COLUMNS,
        )
        rows.append(values)
        order = OrderRow.model_construct(**values)
        orders.append(order)

    # Core inserts (executemany): the ORM's per-object bookkeeping is most of a batch's cost
    await session.execute(insert(OrderRow.__table__), rows)
    history: list[dict[str, Any]] = []
    for draft, order in zip(drafts, orders, strict=True):
        history += _record(session, settings, draft, order, now)
    await session.execute(insert(StatusChangeRow.__table__), history)
    return orders


def _minor(amount: Decimal, currency: str) -> int:
    """The amount for the integer columns; 0 for one too large to keep. Such an order is
    rejected (``amount_too_large``), so it never counts towards an open order value, and its
    answer shows the amounts of its ``totals`` (``views``)."""
    return to_minor(amount, currency) if fits(amount, currency) else 0


# columns intake leaves empty: given explicitly, so every row of the INSERT has the same keys
_UNSET_ORDER_COLUMNS: dict[str, Any] = dict.fromkeys(
    ("cancel_reason", "cancelled_by", "fulfillment_id", "dispatched_at", "completed_at")
)


class _Dumps:
    """JSON dumps of contract models, once per model object: a batch's orders of one customer
    share its snapshot and addresses (``MasterData.customer_docs``)."""

    def __init__(self) -> None:
        self._done: dict[int, tuple[object, dict]] = {}

    def __call__(self, model: BaseModel | None) -> dict | None:
        if model is None:
            return None
        hit = self._done.get(id(model))
        if hit is None or hit[0] is not model:
            hit = self._done[id(model)] = (model, model.model_dump(mode="json"))
        return hit[1]


def _record(
    session: AsyncSession, settings: Settings, draft: OrderDraft, order: OrderRow, now: datetime
) -> list[dict[str, Any]]:
    """Events of a new order (in the outbox) and its history rows (in ``draft.history``, and
    returned as values for the Core INSERT)."""
    actor = draft.created_by
    received_event = emit(
        session,
        settings,
        "order.received.v1",
        order.id,
        events.received(order, version=1, docs=draft),
        cause=draft.cause,
        correlation_id=draft.correlation_id,
    )
    if order.status == OrderStatus.CONFIRMED:
        final_type, payload = "order.confirmed.v1", events.confirmed(order, draft)
        note = None
    else:
        final_type, payload = "order.rejected.v1", events.rejected(order, draft)
        note = "; ".join(r["message"] for r in order.rejection_reasons or [])
    final_event = emit(session, settings, final_type, order.id, payload, cause=received_event)
    changes: list[dict[str, Any]] = [
        {
            "order_id": order.id,
            "status": OrderStatus.RECEIVED.value,
            "previous_status": None,
            "at": now,
            "source": draft.source,
            "event_id": received_event.id,
            "actor": actor,
            "note": None,
        },
        {
            "order_id": order.id,
            "status": order.status,
            "previous_status": OrderStatus.RECEIVED.value,
            "at": now,
            "source": "validation",
            "event_id": final_event.id,
            "actor": actor,
            "note": note,
        },
    ]
    # the answer's history: the response model right away (no ORM instances to build)
    draft.history = [
        StatusChangeOut(**{k: v for k, v in change.items() if k != "order_id"})
        for change in changes
    ]
    return changes
