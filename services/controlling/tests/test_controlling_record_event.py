"""The consumer handler straight on a real database (no broker, no inbox in front of it): the
event store keeps an id once, the projection row is upserted to the fold of every stored event
whatever the arrival order, and a journey link is kept once, by its first event."""

from __future__ import annotations

from typing import Any

from controlling_testkit import History, at, company
from sqlalchemy import Table, func, select

from controlling.config import Settings
from controlling.handlers import record_event
from controlling.main import SPEC
from controlling.tables import ControllingJourneyLink, ControllingOffer, JourneyEvent
from salesflow.contracts.envelope import Envelope
from salesflow.db import Database
from salesflow.messaging.handlers import HandlerContext
from salesflow.testing.plugin import migrate

OFFERS: Table = ControllingOffer.__table__  # type: ignore[attr-defined]
EVENTS: Table = JourneyEvent.__table__  # type: ignore[attr-defined]
LINKS: Table = ControllingJourneyLink.__table__  # type: ignore[attr-defined]


async def record(db: Database, settings: Settings, *events: Envelope) -> None:
    """Each event in its own unit of work, as the consumer's slow path runs it."""
    for event in events:
        async with db.session() as session, session.begin():
            await record_event(HandlerContext(session, event, settings))


async def offer_row(db: Database, offer_id: str) -> dict[str, Any]:
    async with db.session() as session:
        rows = (await session.execute(select(OFFERS).where(OFFERS.c.offer_id == offer_id))).all()
    assert len(rows) == 1
    return dict(rows[0]._mapping)


async def stored(db: Database, table: Table) -> list[dict[str, Any]]:
    async with db.session() as session:
        return [dict(r._mapping) for r in (await session.execute(select(table))).all()]


def offer_history() -> tuple[History, list[Envelope]]:
    history = History()
    offer = {"id": "F1", "opportunity_id": "O1", "owner": "alice", "net": "9500.00"}
    offer["company"] = company("c1")
    events = [
        history.offer("offer.created.v1", offer, 1, at(10), status="draft", journey="J1"),
        history.offer("offer.sent.v1", offer, 2, at(12), status="sent", journey="J1"),
        history.offer("offer.accepted.v1", offer, 3, at(39), status="accepted", journey="J1"),
    ]
    return history, events


async def test_out_of_order_and_redelivered_events_fold_to_the_same_row(
    database_url: str,
) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    settings = Settings(database_url=database_url)
    db = Database(database_url)
    _, (created, sent, accepted) = offer_history()
    try:
        # newest first: the row is inserted from v3, then updated as older events fill in times
        await record(db, settings, accepted)
        first = await offer_row(db, "F1")
        assert (first["version"], first["status"], first["accepted_at"]) == (3, "accepted", at(39))
        assert first["created_at"] is None and first["first_sent_at"] is None
        await record(db, settings, sent, created)
        row = await offer_row(db, "F1")
        assert (row["version"], row["status"], row["net_amount"]) == (3, "accepted", "9500.00")
        assert (row["created_at"], row["first_sent_at"], row["accepted_at"]) == (
            at(10),
            at(12),
            at(39),
        )
        assert (row["opportunity_id"], row["company_id"], row["correlation_id"]) == (
            "O1",
            "c1",
            "J1",
        )
        # redelivered past the inbox (e.g. a DLQ replay): nothing stored twice, row unchanged
        events_before = await stored(db, EVENTS)
        await record(db, settings, created, accepted)
        assert await stored(db, EVENTS) == events_before
        assert await offer_row(db, "F1") == row
    finally:
        await db.dispose()


async def test_a_journey_link_is_kept_once_by_its_first_event(database_url: str) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    settings = Settings(database_url=database_url)
    db = Database(database_url)
    history = History()
    c1 = company("c1")
    first = history.followup("A1", c1, at(100), journey="J2", previous=["J1", "J0", "J2"])
    again = history.followup("A1", c1, at(101), journey="J2", previous=["J0", "x" * 65])
    try:
        await record(db, settings, first, first, again)
        links = sorted(
            (link["earlier_correlation_id"], link["event_id"])
            for link in await stored(db, LINKS)
            if link["correlation_id"] == "J2"
        )
        # its own journey and an over-long id are never links; J0 stays with the first event
        assert links == [("J0", first.id), ("J1", first.id)]
        async with db.session() as session:
            count = select(func.count()).select_from(EVENTS)
            assert (await session.execute(count)).scalar_one() == 2
    finally:
        await db.dispose()
