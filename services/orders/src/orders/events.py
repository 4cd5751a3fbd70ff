"""Payloads of the events this service emits, built from the order row (the outbox writes them
in the same transaction as the row)."""

from __future__ import annotations

from typing import Any, Protocol

from orders.tables import OrderRow
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    PricedLine,
    Terms,
    Totals,
)
from salesflow.contracts.events.orders import (
    OrderCancelled,
    OrderChannel,
    OrderCompleted,
    OrderConfirmed,
    OrderLine,
    OrderReceived,
    OrderRejected,
    OrderStatus,
    RejectionReason,
)


class Documents(Protocol):
    """The order's documents as contract models (an ``OrderDraft`` is one): intake builds its
    events from these instead of re-validating the JSON it has just dumped into the row."""

    customer: CompanySnapshot
    lines: list[PricedLine]
    totals: Totals
    terms: Terms
    bill_to: Address | None
    ship_to: Address | None
    delivery_contact: Contact | None


def _common(
    order: OrderRow, status: OrderStatus, version: int, docs: Documents | None = None
) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "order_number": order.order_number,
        "version": version,
        "status": status,
        "channel": OrderChannel(order.channel),
        "customer": docs.customer if docs else CompanySnapshot.model_validate(order.customer),
        "account_id": order.account_id,
        "owner": order.owner,
        "team": order.team,
        "currency": order.currency,
        "offer_id": order.offer_id,
        "offer_version": order.offer_version,
        "opportunity_id": order.opportunity_id,
    }


def _address(data: dict | None) -> Address | None:
    return Address.model_validate(data) if data else None


def priced_lines(order: OrderRow) -> list[PricedLine]:
    return [PricedLine.model_validate(line) for line in order.lines]


def received(order: OrderRow, version: int, docs: Documents | None = None) -> OrderReceived:
    if docs is None:
        return OrderReceived(
            **_common(order, OrderStatus.RECEIVED, version),
            bill_to=_address(order.bill_to),
            ship_to=_address(order.ship_to),
            lines=priced_lines(order),
            totals=Totals.model_validate(order.totals),
            terms=Terms.model_validate(order.terms),
            customer_po_number=order.customer_po_number,
        )
    return OrderReceived(
        **_common(order, OrderStatus.RECEIVED, version, docs),
        bill_to=docs.bill_to,
        ship_to=docs.ship_to,
        lines=docs.lines,
        totals=docs.totals,
        terms=docs.terms,
        customer_po_number=order.customer_po_number,
    )


def production_lines(lines: list[PricedLine]) -> list[OrderLine]:
    """Order lines as production and logistics need them (no prices)."""
    return [
        OrderLine(
            line_no=line.line_no,
            sku=line.sku,
            description=line.description or line.name,
            quantity=line.quantity,
            unit=line.unit,
            kind=line.kind,
            options=line.options,
            requested_delivery_date=line.requested_delivery_date,
        )
        for line in lines
    ]


def confirmed(order: OrderRow, docs: Documents | None = None) -> OrderConfirmed:
    """``docs`` (intake): the documents as models already, else they are read from the row."""
    if docs is None:
        terms, lines, totals = (
            Terms.model_validate(order.terms),
            priced_lines(order),
            Totals.model_validate(order.totals),
        )
        bill_to, ship_to = _address(order.bill_to), _address(order.ship_to)
        contact = Contact.model_validate(order.delivery_contact) if order.delivery_contact else None
    else:
        terms, lines, totals = docs.terms, docs.lines, docs.totals
        bill_to, ship_to, contact = docs.bill_to, docs.ship_to, docs.delivery_contact
    assert bill_to is not None and ship_to is not None  # validation rejects orders without
    return OrderConfirmed(
        **_common(order, OrderStatus.CONFIRMED, order.version, docs),
        bill_to=bill_to,
        ship_to=ship_to,
        delivery_contact=contact,
        lines=production_lines(lines),
        requested_delivery_date=terms.requested_delivery_date,
        incoterms=terms.incoterms,
        incoterms_place=terms.incoterms_place,
        payment_terms=terms.payment_terms,
        customer_po_number=order.customer_po_number,
        totals=totals,
    )


def rejected(order: OrderRow, docs: Documents | None = None) -> OrderRejected:
    return OrderRejected(
        **_common(order, OrderStatus.REJECTED, order.version, docs),
        reasons=[RejectionReason.model_validate(r) for r in order.rejection_reasons or []],
    )


def cancelled(order: OrderRow) -> OrderCancelled:
    return OrderCancelled(
        **_common(order, OrderStatus.CANCELLED, order.version),
        reason=order.cancel_reason or "cancelled",
        cancelled_by=order.cancelled_by or "unknown",
    )


def completed(order: OrderRow) -> OrderCompleted:
    return OrderCompleted(
        **_common(order, OrderStatus.COMPLETED, order.version),
        fulfillment_id=order.fulfillment_id or "",
        totals=Totals.model_validate(order.totals),
    )
