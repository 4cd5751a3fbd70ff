"""Response models from rows."""

from __future__ import annotations

from orders.domain.money import fits, from_minor
from orders.events import Documents
from orders.schemas import (
    ContractOut,
    OrderDetail,
    OrderOut,
    ReasonOut,
    StatusChangeOut,
)
from orders.tables import OrderRow, StatusChangeRow
from salesflow.contracts.types import Money


def order_out(row: OrderRow) -> OrderOut:
    return OrderOut(**_summary(row))


def _summary(row: OrderRow) -> dict:
    return {
        "id": row.id,
        "order_number": row.order_number,
        "status": row.status,
        "channel": row.channel,
        "customer_id": row.customer_id,
        "customer_name": row.customer_name,
        "currency": row.currency,
        "net": _amount(row, "net", row.net_minor),
        "gross": _amount(row, "gross", row.gross_minor),
        "owner": row.owner,
        "team": row.team,
        "offer_id": row.offer_id,
        "offer_version": row.offer_version,
        "requested_delivery_date": row.requested_delivery_date,
        "correlation_id": row.correlation_id,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _amount(row: OrderRow, total: str, minor: int) -> Money:
    """From the integer column; an amount too large for it (kept as 0 by intake, the order is
    rejected) from the order's totals."""
    if minor == 0 and row.totals:
        stated = Money.model_validate(row.totals[total])
        if not fits(stated.amount, row.currency):
            return stated
    return Money(amount=from_minor(minor, row.currency), currency=row.currency)


def _contract(row: OrderRow) -> ContractOut | None:
    if row.contract is None or row.offer_id is None or row.offer_version is None:
        return None
    accepted = row.contract.get("accepted", {})
    return ContractOut(
        offer_id=row.offer_id,
        offer_version=row.offer_version,
        opportunity_id=row.opportunity_id,
        accepted_by=accepted.get("accepted_by"),
        accepted_on=accepted.get("accepted_on"),
        event_id=row.contract.get("event_id"),
        snapshot=accepted,
    )


def _change_out(change: StatusChangeRow | StatusChangeOut) -> StatusChangeOut:
    if isinstance(change, StatusChangeOut):  # intake builds its history as answers already
        return change
    return StatusChangeOut(
        status=change.status,
        previous_status=change.previous_status,
        at=change.at,
        source=change.source,
        event_id=change.event_id,
        actor=change.actor,
        note=change.note,
    )


def order_detail(
    row: OrderRow,
    history: list[StatusChangeRow] | list[StatusChangeOut],
    docs: Documents | None = None,
) -> OrderDetail:
    """``docs`` (intake): the documents as models already, so they are not validated again."""
    documents = (
        {
            "customer": docs.customer,
            "bill_to": docs.bill_to,
            "ship_to": docs.ship_to,
            "delivery_contact": docs.delivery_contact,
            "terms": docs.terms,
            "lines": docs.lines,
            "totals": docs.totals,
        }
        if docs is not None
        else {
            "customer": row.customer,
            "bill_to": row.bill_to,
            "ship_to": row.ship_to,
            "delivery_contact": row.delivery_contact,
            "terms": row.terms,
            "lines": row.lines,
            "totals": row.totals,
        }
    )
    return OrderDetail(
        **_summary(row),
        **documents,
        account_id=row.account_id,
        created_by=row.created_by,
        customer_po_number=row.customer_po_number,
        rejection_reasons=[ReasonOut(**r) for r in row.rejection_reasons or []],
        cancel_reason=row.cancel_reason,
        cancelled_by=row.cancelled_by,
        fulfillment_id=row.fulfillment_id,
        dispatched_at=row.dispatched_at,
        completed_at=row.completed_at,
        contract=_contract(row),
        history=[_change_out(h) for h in history],
    )
