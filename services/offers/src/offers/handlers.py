"""Event handlers of the offers service, by event type. Types of a consumed topic that
have no handler here are acknowledged and counted, never fatal.

The opportunity read model: every ``opportunity.*`` event carries the full state, so the
newest version simply replaces what we hold; older or equal versions are stale and dropped."""

import logging
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.sql.dml import Insert

from offers.tables import OpportunityRow
from salesflow.contracts.events.opportunities import OpportunityEvent
from salesflow.messaging.handlers import Handler, HandlerContext
from salesflow.upserts import InsertOf, PerDialect

log = logging.getLogger(__name__)
OPPORTUNITIES = OpportunityRow.__table__


def _upsert(dialect_insert: InsertOf) -> Insert:
    """INSERT, or UPDATE only if the event is newer than what we hold (one statement instead
    of a read and an ORM flush; built once per dialect, the row comes as parameters)."""
    insert = dialect_insert(OPPORTUNITIES)
    new = insert.excluded
    replaced = {c.name: new[c.name] for c in OPPORTUNITIES.c if not c.primary_key}
    # an event without a correlation id keeps the one we hold
    replaced["correlation_id"] = func.coalesce(
        func.nullif(new.correlation_id, ""), OPPORTUNITIES.c.correlation_id
    )
    return insert.on_conflict_do_update(
        index_elements=[OPPORTUNITIES.c.opportunity_id],
        set_=replaced,
        where=OPPORTUNITIES.c.version < new.version,
    )


_UPSERT = PerDialect(_upsert)


async def on_opportunity(ctx: HandlerContext) -> None:
    event: OpportunityEvent = ctx.payload()
    row = {
        "opportunity_id": event.opportunity_id,
        "version": event.version,
        "stage": event.stage.value,
        "owner": event.owner,
        "team": event.team,
        "currency": event.currency,
        "account": event.account.model_dump(mode="json"),
        "account_id": event.account_id,
        "contact": event.contact.model_dump(mode="json") if event.contact else None,
        "correlation_id": ctx.event.correlation_id,
        "updated_at": datetime.now(UTC),
    }
    session = ctx.session
    result = await session.exec(_UPSERT.of(session), params=row)
    if result.rowcount == 0:  # we hold this version or a newer one
        log.info(
            "stale %s for %s: version %d, we hold it or a newer one",
            ctx.event.type,
            event.opportunity_id,
            event.version,
        )


HANDLERS: dict[str, Handler] = {
    "opportunity.opened.v1": on_opportunity,
    "opportunity.stage_changed.v1": on_opportunity,
    "opportunity.updated.v1": on_opportunity,
    "opportunity.won.v1": on_opportunity,
    "opportunity.lost.v1": on_opportunity,
}
