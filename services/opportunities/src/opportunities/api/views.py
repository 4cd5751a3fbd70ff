"""Rows → response models (computed fields such as ``stale`` and time in stage included)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from opportunities.config import Settings
from opportunities.domain import offers as offer_rules
from opportunities.domain import timing
from opportunities.domain.money import shown
from opportunities.domain.stages import Stage
from opportunities.events import Opportunity
from opportunities.pipeline import Opened
from opportunities.schemas import OfferSeenOut, OpportunityDetail, OpportunityOut, StageSpanOut
from opportunities.tables import OfferTrackRow, OpportunityRow, StageSpanRow
from salesflow.contracts.types import Money


def stale_after(settings: Settings) -> timedelta:
    return timedelta(days=settings.stale_after_days)


def opportunity(row: OpportunityRow, now: datetime, settings: Settings) -> OpportunityOut:
    return OpportunityOut.model_validate(_fields(row, now, settings))


def _fields(row: Opportunity, now: datetime, settings: Settings) -> dict:
    fields = row.model_dump() if isinstance(row, OpportunityRow) else dict(vars(row))
    fields["amount"] = (
        Money(amount=shown(row.amount, row.currency), currency=row.currency)
        if row.amount is not None
        else None
    )
    fields["probability_is_default"] = row.probability_override is None
    fields["stale"] = timing.is_stale(
        Stage(row.stage), row.last_activity_at, now, stale_after(settings)
    )
    return fields


async def detail(
    session: AsyncSession, row: OpportunityRow, now: datetime, settings: Settings
) -> OpportunityDetail:
    spans = (
        await session.exec(
            select(StageSpanRow)
            .where(StageSpanRow.opportunity_id == row.id)
            .order_by(StageSpanRow.entered_at, StageSpanRow.id)
        )
    ).all()
    offers = (
        await session.exec(
            select(OfferTrackRow)
            .where(OfferTrackRow.opportunity_id == row.id)
            .order_by(OfferTrackRow.offer_id)
        )
    ).all()
    return detail_of(row, spans, offers, now, settings)


def opened_detail(opened: Opened, now: datetime, settings: Settings) -> OpportunityDetail:
    """The detail of an opportunity just opened: its one stage span, no offers yet (no need to
    read back what the unit of work just wrote)."""
    return detail_of(opened.row, [opened.span], [], now, settings)


def detail_of(
    row: Opportunity,
    spans: Sequence[StageSpanRow | SimpleNamespace],
    offers: Sequence[OfferTrackRow],
    now: datetime,
    settings: Settings,
) -> OpportunityDetail:
    domain_spans = [timing.Span(Stage(s.stage), s.entered_at, s.left_at) for s in spans]
    return OpportunityDetail.model_validate(
        {
            **_fields(row, now, settings),
            "stage_history": [
                StageSpanOut(
                    stage=s.stage,
                    entered_at=s.entered_at,
                    left_at=s.left_at,
                    seconds=timing.seconds_in(span, now),
                    trigger=s.trigger,
                    changed_by=s.changed_by,
                    offer_id=s.offer_id,
                )
                for s, span in zip(spans, domain_spans, strict=True)
            ],
            "time_in_stage": timing.time_in_stages(domain_spans, now),
            "offers": [
                OfferSeenOut(
                    offer_id=o.offer_id,
                    offer_version=o.offer_version,
                    status=o.status,
                    open=offer_rules.is_open(o.status),
                    net=Money(amount=shown(o.net, o.currency), currency=o.currency),
                )
                for o in offers
            ],
        }
    )
