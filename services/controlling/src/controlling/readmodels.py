"""Load the projections into the domain's types (the funnel and lead controlling are computed
in Python from them)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlling.domain.funnel import Filters, FunnelData, Lead, Offer, Opportunity, Order, Segment
from controlling.domain.lead_controlling import AssignedLead
from controlling.domain.universe import UniverseCount
from controlling.tables import (
    ControllingFulfillment,
    ControllingLead,
    ControllingOffer,
    ControllingOpportunity,
    ControllingOrder,
    ControllingUniverseCell,
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


async def load_universe(session: AsyncSession, filters: Filters) -> list[UniverseCount]:
    """Suspects and prospects of the period, summed per stage and cell in the database: the
    rows stay as few as the cells however many chunks an import had. Each sum carries the
    earliest chunk time of its group, which lies in the period, so the domain's own period
    check keeps holding."""
    c = ControllingUniverseCell
    cell = (c.stage, c.nace_section, c.size_class, c.country, c.source)
    stmt = select(*cell, func.min(c.occurred_at), func.sum(c.count)).group_by(*cell)
    if filters.start is not None:
        stmt = stmt.where(c.occurred_at >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(c.occurred_at < filters.end)
    return [
        UniverseCount(
            stage=stage,
            time=first,  # min() keeps the column's type: aware UTC
            nace_section=nace_section,
            size_class=size_class,
            country=country,
            source=source,
            count=int(total),
        )
        for stage, nace_section, size_class, country, source, first, total in (
            await session.exec(stmt)
        ).all()
    ]


async def load_funnel_data(
    session: AsyncSession, filters: Filters | None = None, *, universe: bool = True
) -> FunnelData:
    """The projections the funnel is computed from; the universe pre-summed for the period
    of ``filters`` (``universe=False``: without it, for figures that do not use it)."""
    leads = (await session.exec(select(ControllingLead))).all()
    opportunities = (await session.exec(select(ControllingOpportunity))).all()
    offers = (await session.exec(select(ControllingOffer))).all()
    orders = (await session.exec(select(ControllingOrder))).all()
    fulfillments = (await session.exec(select(ControllingFulfillment))).all()
    cells = await load_universe(session, filters or Filters()) if universe else []
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
                existing_customer=r.existing_customer,
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
        universe=cells,
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
