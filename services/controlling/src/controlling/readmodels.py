"""Load the projections into the domain's types (the funnel and lead controlling are computed
in Python from them)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlling.domain.funnel import FunnelData, Lead, Offer, Opportunity, Order, Segment
from controlling.domain.lead_controlling import AssignedLead
from controlling.tables import (
    ControllingFulfillment,
    ControllingLead,
    ControllingOffer,
    ControllingOpportunity,
    ControllingOrder,
)


def _segment(row: object, *, source_channel: str | None = None) -> Segment:
    return Segment(
        nace_section=getattr(row, "nace_section", None),
        size_class=getattr(row, "size_class", None),
        country=getattr(row, "country", None),
        owner=getattr(row, "owner", None),
        team=getattr(row, "team", None),
        source_channel=source_channel,
    )


async def load_funnel_data(session: AsyncSession) -> FunnelData:
    leads = (await session.exec(select(ControllingLead))).all()
    opportunities = (await session.exec(select(ControllingOpportunity))).all()
    offers = (await session.exec(select(ControllingOffer))).all()
    orders = (await session.exec(select(ControllingOrder))).all()
    fulfillments = (await session.exec(select(ControllingFulfillment))).all()
    delivered: dict[str, list[datetime]] = defaultdict(list)
    for f in fulfillments:
        if f.order_id:
            delivered[f.order_id] += [t for t in (f.delivered_at, f.completed_at) if t]
    for o in orders:
        if o.completed_at:
            delivered[o.order_id].append(o.completed_at)
    return FunnelData(
        leads=[
            Lead(
                lead_id=r.lead_id,
                segment=_segment(r, source_channel=r.source_channel),
                created_at=r.created_at,
                mql_at=r.mql_at,
                sql_at=r.sql_at,
            )
            for r in leads
        ],
        opportunities=[
            Opportunity(
                opportunity_id=r.opportunity_id,
                segment=_segment(r, source_channel=r.source_channel),
                lead_id=r.lead_id,
                opened_at=r.opened_at,
                stage=r.stage,
                closed_at=r.closed_at,
                amount=Decimal(r.amount) if r.amount is not None else None,
                amount_currency=r.amount_currency,
                probability=r.probability,
            )
            for r in opportunities
        ],
        offers=[
            Offer(
                offer_id=r.offer_id,
                segment=_segment(r),
                opportunity_id=r.opportunity_id,
                sent_at=r.first_sent_at,
            )
            for r in offers
        ],
        orders=[
            Order(
                order_id=r.order_id,
                segment=_segment(r),
                customer=r.company_id or r.account_id,
                offer_id=r.offer_id,
                opportunity_id=r.opportunity_id,
                confirmed_at=r.confirmed_at,
                delivered_at=min(delivered[r.order_id], default=None),
            )
            for r in orders
        ],
    )


async def load_assigned_leads(session: AsyncSession) -> list[AssignedLead]:
    rows = (
        await session.exec(select(ControllingLead).where(ControllingLead.owner.is_not(None)))
    ).all()
    return [
        AssignedLead(
            lead_id=r.lead_id,
            segment=_segment(r, source_channel=r.source_channel),
            assigned_at=r.assigned_at,
            first_contact_at=r.first_contact_at or r.sql_at,
            sql_at=r.sql_at,
            closed_at=r.closed_at,
        )
        for r in rows
    ]
