"""Order drafts from the two ways in: an accepted offer, or a direct order over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from orders.domain.pricing import totals_of
from orders.intake import OrderDraft
from orders.schemas import OrderIn
from orders.tables import CustomerRow
from salesflow.auth import Principal
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    PricedLine,
    Terms,
)
from salesflow.contracts.events.offers import OfferAccepted
from salesflow.contracts.events.orders import OrderChannel


def from_offer(offer: OfferAccepted, event: Envelope) -> OrderDraft:
    """The accepted offer is the contract: lines, prices, totals and terms are taken as they are,
    and the whole payload is kept as the contract snapshot."""
    return OrderDraft(
        channel=OrderChannel.OFFER,
        customer=offer.customer,
        currency=offer.currency,
        lines=list(offer.lines),
        totals=offer.totals,
        terms=offer.terms,
        correlation_id=event.correlation_id,
        bill_to=offer.bill_to,
        ship_to=offer.ship_to,
        delivery_contact=offer.contact,
        customer_po_number=offer.customer_po_number,
        account_id=offer.account_id,
        owner=offer.owner,
        team=offer.team,
        created_by=offer.recorded_by,
        offer_id=offer.offer_id,
        offer_version=offer.offer_version,
        opportunity_id=offer.opportunity_id,
        contract={"event_id": event.id, "accepted": event.data},
        cause=event,
        source=event.type,
    )


@dataclass(frozen=True)
class CustomerDocs:
    """A customer row's JSON documents as contract models: validated once per customer and
    batch, shared (read-only) by that customer's drafts."""

    snapshot: CompanySnapshot
    bill_to: Address | None
    ship_to: Address | None
    delivery_contact: Contact | None


def customer_docs(customer: CustomerRow) -> CustomerDocs:
    return CustomerDocs(
        snapshot=CompanySnapshot.model_validate(customer.snapshot),
        bill_to=_address(customer.bill_to),
        ship_to=_address(customer.ship_to),
        delivery_contact=(
            Contact.model_validate(customer.delivery_contact) if customer.delivery_contact else None
        ),
    )


def from_request(
    body: OrderIn,
    customer: CustomerRow,
    lines: list[PricedLine],
    currency: str,
    channel: OrderChannel,
    principal: Principal,
    correlation_id: str,
    docs: CustomerDocs | None = None,
) -> OrderDraft:
    """Addresses and contact not given in the request are the customer's (``docs``: the
    customer's documents already validated)."""
    docs = docs or customer_docs(customer)
    return OrderDraft(
        channel=channel,
        customer=docs.snapshot,
        currency=currency,
        lines=lines,
        totals=totals_of(lines, currency),
        terms=Terms(
            payment_terms=body.payment_terms,
            payment_days=body.payment_days,
            incoterms=body.incoterms,
            incoterms_place=body.incoterms_place,
            requested_delivery_date=body.requested_delivery_date,
        ),
        correlation_id=correlation_id,
        bill_to=body.bill_to.value() if body.bill_to else docs.bill_to,
        ship_to=body.ship_to.value() if body.ship_to else docs.ship_to,
        delivery_contact=(
            body.delivery_contact.value() if body.delivery_contact else docs.delivery_contact
        ),
        customer_po_number=body.customer_po_number,
        account_id=customer.account_id,
        owner=customer.owner,
        team=customer.team,
        created_by=principal.sub,
    )


def _address(data: dict | None) -> Address | None:
    return Address.model_validate(data) if data else None
