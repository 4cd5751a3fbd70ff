"""Event handlers of the offers service, by event type. Types of a consumed topic that
have no handler here are acknowledged and counted, never fatal.

The opportunity read model: every ``opportunity.*`` event carries the full state, so the
newest version simply replaces what we hold; older or equal versions are stale and dropped."""

import logging
from datetime import UTC, datetime

from offers.tables import OpportunityRow
from salesflow.contracts.events.opportunities import OpportunityEvent
from salesflow.messaging.handlers import Handler, HandlerContext

log = logging.getLogger(__name__)


async def on_opportunity(ctx: HandlerContext) -> None:
    event: OpportunityEvent = ctx.payload()
    row = await ctx.session.get(OpportunityRow, event.opportunity_id)
    if row is not None and event.version <= row.version:
        log.info(
            "stale %s for %s: version %d, we hold %d",
            ctx.event.type,
            event.opportunity_id,
            event.version,
            row.version,
        )
        return
    if row is None:
        row = OpportunityRow(
            opportunity_id=event.opportunity_id,
            correlation_id=ctx.event.correlation_id,
            version=event.version,
            stage=event.stage,
            owner=event.owner,
            currency=event.currency,
            account={},
            updated_at=datetime.now(UTC),
        )
    row.version = event.version
    row.stage = event.stage.value
    row.owner = event.owner
    row.team = event.team
    row.currency = event.currency
    row.account = event.account.model_dump(mode="json")
    row.account_id = event.account_id
    row.contact = event.contact.model_dump(mode="json") if event.contact else None
    row.correlation_id = ctx.event.correlation_id or row.correlation_id
    row.updated_at = datetime.now(UTC)
    ctx.session.add(row)


HANDLERS: dict[str, Handler] = {
    "opportunity.opened.v1": on_opportunity,
    "opportunity.stage_changed.v1": on_opportunity,
    "opportunity.won.v1": on_opportunity,
    "opportunity.lost.v1": on_opportunity,
}
