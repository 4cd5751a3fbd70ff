"""Event handlers of the opportunities service, by event type. Types of a consumed topic that
have no handler here are acknowledged and counted, never fatal.

Each handler is one unit of work (the consumer owns the transaction): opening is idempotent by
business key (one opportunity per lead and per follow-up, backed by unique constraints), offer
events are applied only when newer than the offer's last known version."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import Select, bindparam, select

from opportunities import offer_events, pipeline
from opportunities.config import Settings
from opportunities.domain import offers as offer_rules
from opportunities.domain.money import deal_currency
from opportunities.domain.stages import Stage
from opportunities.pipeline import OPPORTUNITIES
from salesflow.contracts.events.aftersales import FollowupIdentified
from salesflow.contracts.events.common import NeedsAnalysis
from salesflow.contracts.events.leads import LeadConverted
from salesflow.contracts.events.offers import OfferEvent
from salesflow.contracts.events.opportunities import OpportunitySource
from salesflow.messaging.handlers import Handler, HandlerContext, PermanentError

log = logging.getLogger(__name__)


def _json(model: object | None) -> dict | None:
    return model.model_dump(mode="json", exclude_none=True) if model is not None else None  # type: ignore[attr-defined]


# One opportunity per lead and per follow-up: built once, Core (no ORM compile or autoflush).
_OPENED_FOR_LEAD = select(OPPORTUNITIES.c.id).where(OPPORTUNITIES.c.lead_id == bindparam("key"))
_OPENED_FOR_FOLLOWUP = select(OPPORTUNITIES.c.id).where(
    OPPORTUNITIES.c.followup_id == bindparam("key")
)


async def _opened_for(ctx: HandlerContext, stmt: Select, key: str) -> str | None:
    """The opportunity already opened for this lead or follow-up, if any."""
    conn = await pipeline.core_connection(ctx.session)
    return (await conn.execute(stmt, {"key": key})).scalar()


async def on_lead_converted(ctx: HandlerContext) -> None:
    lead: LeadConverted = ctx.payload()
    known = await _opened_for(ctx, _OPENED_FOR_LEAD, lead.lead_id)
    if known is not None:
        log.info("lead %s already became opportunity %s", lead.lead_id, known)
        return
    settings: Settings = ctx.settings  # type: ignore[assignment]
    money = lead.expected_amount
    budget = lead.needs.budget if lead.needs else None
    currency = deal_currency(money, budget, default=settings.default_currency)
    draft = pipeline.Draft(
        source=OpportunitySource.LEAD,
        account=_json(lead.company) or {},
        account_id=lead.account_id,
        owner=lead.owner,
        team=lead.team,
        contact=_json(lead.contact),
        currency=currency,
        amount=money.amount if money else None,
        expected_close_date=lead.expected_close_date,
        needs=_json(lead.needs),
        lead_id=lead.lead_id,
        source_channel=lead.source_channel,
        source_campaign=lead.source_campaign,
        correlation_id=ctx.event.correlation_id,  # the journey goes on
    )
    await pipeline.open_opportunity(ctx.session, settings, draft, ctx.event.time, cause=ctx.event)


async def on_followup_identified(ctx: HandlerContext) -> None:
    followup: FollowupIdentified = ctx.payload()
    known = await _opened_for(ctx, _OPENED_FOR_FOLLOWUP, followup.followup_id)
    if known is not None:
        log.info("follow-up %s already became opportunity %s", followup.followup_id, known)
        return
    settings: Settings = ctx.settings  # type: ignore[assignment]
    # A follow-up starts a new journey that links back to the account's earlier ones.
    earlier = [ctx.event.correlation_id, *followup.previous_correlation_ids]
    draft = pipeline.Draft(
        source=OpportunitySource.FOLLOWUP,
        account=_json(followup.account) or {},
        account_id=followup.account_id,
        owner=followup.owner,  # the account owner
        team=followup.team,
        contact=_json(followup.contact),
        currency=followup.estimated_value.currency,
        amount=followup.estimated_value.amount,
        expected_close_date=followup.expected_close_date or followup.due_date,
        needs=_json(NeedsAnalysis(need=f"{followup.kind.value}: {followup.description}")),
        followup_id=followup.followup_id,
        correlation_id=str(uuid.uuid4()),
        related_correlation_ids=list(dict.fromkeys(earlier)),
    )
    await pipeline.open_opportunity(ctx.session, settings, draft, ctx.event.time, cause=ctx.event)


async def on_offer_event(ctx: HandlerContext) -> None:
    offer: OfferEvent = ctx.payload()
    conn = await pipeline.core_connection(ctx.session)
    row = await offer_events.lock_opportunity(conn, offer.opportunity_id)
    if row is None:
        # offers only quote opportunities they learnt from our events: this one never existed
        raise PermanentError(
            f"offer {offer.offer_id} names unknown opportunity {offer.opportunity_id}"
        )
    seen = await offer_events.offers_seen(conn, row.id, offer.offer_id)
    if offer_rules.is_stale(seen.version, offer.version):
        log.info(
            "stale %s for offer %s (version %s) ignored",
            ctx.event.type,
            offer.offer_id,
            offer.version,
        )
        return
    await offer_events.track(conn, row.id, offer, _now())
    outcome = offer_rules.outcome(
        ctx.event.type, Stage(row.stage), seen.others_open, reason=getattr(offer, "reason", None)
    )
    if outcome.effect is offer_rules.Effect.NONE and ctx.event.type == offer_rules.ACCEPTED:
        log.warning(
            "offer %s accepted for opportunity %s which is already %s",
            offer.offer_id,
            row.id,
            row.stage,
        )
    await offer_events.apply_outcome(
        ctx.session,
        conn,
        ctx.settings,  # type: ignore[arg-type]
        row,
        outcome,
        offer,
        ctx.event,
    )


def _now() -> datetime:
    return datetime.now(UTC)


OFFER_TYPES = (
    "offer.created.v1",
    "offer.approval_requested.v1",
    "offer.approved.v1",
    "offer.sent.v1",
    "offer.revised.v1",
    "offer.accepted.v1",
    "offer.rejected.v1",
    "offer.expired.v1",
)

HANDLERS: dict[str, Handler] = {
    "lead.converted.v1": on_lead_converted,
    "followup.identified.v1": on_followup_identified,
    **dict.fromkeys(OFFER_TYPES, on_offer_event),
}
