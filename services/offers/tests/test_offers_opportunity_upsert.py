"""The opportunity read model is written by one upsert per event: a newer version replaces the
row, an equal or older one changes nothing, also for events handled in one batch (one
transaction), as the consumer's fast path does."""

from __future__ import annotations

from typing import Any

from offers_testkit import ACME

from offers.config import Settings
from offers.handlers import on_opportunity
from offers.tables import OpportunityRow
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.db import Database
from salesflow.messaging.handlers import HandlerContext


def _event(type_: str, version: int, stage: str, correlation_id: str, **extra: Any) -> Envelope:
    data = {
        "opportunity_id": "opp-upsert",
        "version": version,
        "stage": stage,
        "account": ACME,
        "owner": "alice",
        "team": "south",
        "currency": "EUR",
        "probability": 40,
        "source": "manual",
        **extra,
    }
    return new_event(
        type_,
        "opp-upsert",
        data,
        source="/salesflow/opportunities",
        correlation_id=correlation_id,
    )


def _changed(version: int, stage: str, owner: str = "alice", corr: str = "journey-1") -> Envelope:
    event = _event(
        "opportunity.stage_changed.v1",
        version,
        stage,
        corr,
        previous_stage="proposal",
        trigger="manual",
    )
    event.data["owner"] = owner
    return event


async def _handle(db: Database, settings: Settings, *events: Envelope) -> None:
    async with db.session() as session, session.begin():  # one batch, one transaction
        for event in events:
            await on_opportunity(HandlerContext(session, event, settings))


async def _row(db: Database) -> OpportunityRow:
    async with db.session() as session:
        row = await session.get(OpportunityRow, "opp-upsert")
    assert row is not None
    return row


async def test_newer_versions_replace_older_and_equal_ones_are_dropped(
    offers_settings: Settings,
) -> None:
    db = Database(offers_settings.database_url)
    try:
        opened = _event("opportunity.opened.v1", 1, "qualification", "journey-1")
        await _handle(db, offers_settings, opened, _changed(2, "proposal"))
        row = await _row(db)
        assert (row.version, row.stage, row.currency) == (2, "proposal", "EUR")
        assert row.account["company_id"] == ACME.company_id
        assert row.correlation_id == "journey-1"

        # equal and older versions change nothing, even in the batch of a newer one
        await _handle(
            db,
            offers_settings,
            _changed(2, "negotiation", owner="ben"),
            _changed(1, "lost", owner="ben"),
            _changed(3, "negotiation", corr="journey-2"),
            _changed(3, "lost", owner="ben"),
        )
        row = await _row(db)
        assert (row.version, row.stage, row.owner) == (3, "negotiation", "alice")
        assert row.correlation_id == "journey-2"
        assert row.contact is None
    finally:
        await db.dispose()
