"""Event payloads of an offer, built from its row and the document of one version."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from offers.schemas import OfferDocument
from offers.state import AnyOffer
from salesflow.contracts.events.common import (
    PricedLine,
    SelectedOption,
    Terms,
)
from salesflow.contracts.events.offers import BundleComponent, OfferEvent
from salesflow.contracts.types import Money
from salesflow.messaging.handlers import emit
from salesflow.settings import ServiceSettings


def event_fields(offer: AnyOffer, doc: OfferDocument) -> dict[str, Any]:
    """Fields of ``OfferEvent``: the offer's state after the change."""
    return {
        "offer_id": offer.id,
        "offer_version": doc.offer_version,
        "version": offer.version,
        "status": offer.status,
        "opportunity_id": offer.opportunity_id,
        "account_id": offer.account_id,
        "owner": offer.owner,
        "team": offer.team,
        "currency": doc.currency,
        "totals": doc.totals,
        "valid_until": doc.valid_until,
    }


def content_fields(offer: AnyOffer, doc: OfferDocument) -> dict[str, Any]:
    """Fields of ``OfferContent``: the whole priced document."""

    def money(amount: Any) -> Money:
        return Money(amount=amount, currency=doc.currency)

    lines = [
        PricedLine(
            line_no=line.line_no,
            sku=line.sku,
            name=line.name,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            kind=line.kind,
            options=[SelectedOption(code=o.code, value=o.value, name=o.name) for o in line.options],
            unit_price=money(line.unit_price),
            discount_percent=line.discount_percent,
            net=money(line.net),
            tax_rate=line.tax_rate,
            tax=money(line.tax),
            requested_delivery_date=line.requested_delivery_date,
        )
        for line in doc.lines
    ]
    components = [
        BundleComponent(
            line_no=line.line_no,
            sku=c.sku,
            name=c.name,
            quantity=c.quantity,
            unit=c.unit,
            kind=c.kind,
        )
        for line in doc.lines
        for c in line.components
    ]
    return {
        **event_fields(offer, doc),
        "customer": doc.customer,
        "contact": doc.contact,
        "lines": lines,
        "terms": Terms(**doc.terms.model_dump()),
        "notes": doc.notes,
        "bundle_components": components,
        "discount_percent": doc.discount_percent,
    }


def stage_event(
    session: AsyncSession,
    settings: ServiceSettings,
    offer: AnyOffer,
    doc: OfferDocument,
    type_: str,
    payload: type[OfferEvent],
    *,
    content: bool = False,
    bump: bool = True,
    **extra: Any,
) -> None:
    """Bump the aggregate version (one per event, so consumers can order them) and stage the
    event in the outbox of the current transaction."""
    if bump:
        offer.version += 1
    fields = content_fields(offer, doc) if content else event_fields(offer, doc)
    emit(
        session,
        settings,
        type_,
        offer.id,
        payload(**fields, **extra),
        correlation_id=offer.correlation_id,
    )
