"""Offer events through the handlers' Core statements, several in one unit of work as the
consumer's fast path runs them: an opportunity opened earlier in the same batch, stale and
duplicate versions, a rejection while another offer is open, and an unknown opportunity."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlmodel import select

from opportunities.config import Settings
from opportunities.handlers import HANDLERS
from opportunities.main import SPEC
from opportunities.tables import OfferTrackRow, OpportunityRow, StageSpanRow
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.db import Database
from salesflow.messaging.handlers import HandlerContext, PermanentError
from salesflow.messaging.tables import OutboxRow
from salesflow.testing.plugin import migrate

COMPANY = {"company_id": "co-1", "name": "Muster GmbH", "country": "DE"}


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def lead_converted(lead_id: str) -> Envelope:
    data = {
        "lead_id": lead_id,
        "version": 5,
        "status": "converted",
        "company": COMPANY,
        "owner": "alice",
        "team": "south",
        "source_channel": "whitepaper_download",
        "contact": {"name": "Erika Muster"},
        "needs": {"need": "new lathe"},
        "score": "72.5",
        "converted_by": "alice",
        "expected_amount": money("50000"),
    }
    return new_event("lead.converted.v1", lead_id, data, source="/salesflow/leads")


def offer_event(
    type_: str, offer_id: str, opportunity_id: str, version: int, status: str, **extra: Any
) -> Envelope:
    net = extra.pop("net", "18900.00")
    currency = extra.pop("currency", "EUR")
    line = {
        "line_no": 1,
        "sku": "LATHE-500",
        "name": "Lathe 500",
        "quantity": "1",
        "unit": "C62",
        "kind": "goods",
        "unit_price": money(net, currency),
        "net": money(net, currency),
        "tax_rate": "0",
        "tax": money("0", currency),
    }
    content = {"customer": COMPANY, "lines": [line], "terms": {"payment_days": 30}}
    address = {"street": "Hauptstr. 1", "city": "München", "country": "DE"}
    by_type: dict[str, dict[str, Any]] = {
        "offer.created.v1": {**content, "created_by": "alice"},
        "offer.sent.v1": {"sent_by": "alice"},
        "offer.accepted.v1": {
            **content,
            "bill_to": address,
            "ship_to": address,
            "accepted_by": "Erika Muster",
            "accepted_on": "2026-05-01",
            "recorded_by": "alice",
        },
        "offer.rejected.v1": {"recorded_by": "alice"},
    }
    data = {
        "offer_id": offer_id,
        "offer_version": 1,
        "version": version,
        "status": status,
        "opportunity_id": opportunity_id,
        "owner": "alice",
        "team": "south",
        "currency": currency,
        "totals": {
            "net": money(net, currency),
            "tax": money("0", currency),
            "gross": money(net, currency),
        },
        "valid_until": "2026-12-31",
        **by_type[type_],
        **extra,
    }
    return new_event(type_, offer_id, data, source="/salesflow/offers")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate(SPEC.migrations_dir, database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def settings(settings_for: Callable[..., Any]) -> Settings:
    return settings_for(Settings)


async def handle(db: Database, settings: Settings, *events: Envelope) -> None:
    """One unit of work for all ``events``, like one poll of the consumer's fast path."""
    async with db.session() as session, session.begin():
        for event in events:
            await HANDLERS[event.type](HandlerContext(session, event, settings))


async def test_a_batch_opens_moves_and_wins_with_stale_versions_ignored(
    db: Database, settings: Settings
) -> None:
    await handle(db, settings, lead_converted("lead-1"))
    async with db.session() as session:
        opp = (await session.exec(select(OpportunityRow))).one()

    await handle(
        db,
        settings,
        lead_converted("lead-2"),  # another deal opened in the same unit of work
        offer_event("offer.created.v1", "off-1", opp.id, 1, "draft"),
        offer_event("offer.sent.v1", "off-1", opp.id, 2, "sent"),
        offer_event("offer.sent.v1", "off-1", opp.id, 2, "sent"),  # same version again: stale
        offer_event("offer.created.v1", "off-2", opp.id, 1, "draft", net="100.50"),
        offer_event("offer.rejected.v1", "off-1", opp.id, 3, "rejected", reason="too dear"),
        offer_event("offer.created.v1", "off-1", opp.id, 1, "draft"),  # older version: stale
    )
    await handle(
        db,
        settings,
        offer_event("offer.accepted.v1", "off-2", opp.id, 2, "accepted", net="16500.00"),
        offer_event("offer.sent.v1", "off-2", opp.id, 1, "sent"),  # late and stale
    )

    async with db.session() as session:
        row = await session.get(OpportunityRow, opp.id)
        spans = (
            await session.exec(
                select(StageSpanRow)
                .where(StageSpanRow.opportunity_id == opp.id)
                .order_by(StageSpanRow.id)
            )
        ).all()
        tracks = {
            t.offer_id: t
            for t in (
                await session.exec(
                    select(OfferTrackRow).where(OfferTrackRow.opportunity_id == opp.id)
                )
            ).all()
        }
        outbox = (await session.exec(select(OutboxRow).order_by(OutboxRow.created_at))).all()

    assert row is not None
    assert (row.stage, row.version, row.probability) == ("won", 3, 100)
    assert (row.won_offer_id, row.amount, row.closed_at) == ("off-2", 16500, spans[-1].entered_at)
    assert [(s.stage, s.trigger) for s in spans] == [
        ("qualification", "opened:lead"),
        ("proposal", "offer.sent.v1"),
        ("won", "offer.accepted.v1"),
    ]
    assert [s.left_at is None for s in spans] == [False, False, True]
    assert spans[0].left_at == spans[1].entered_at
    assert {k: (t.version, t.status) for k, t in tracks.items()} == {
        "off-1": (3, "rejected"),  # the stale created v1 did not roll it back
        "off-2": (2, "accepted"),
    }
    mine = [
        (r.type, json.loads(r.payload)["version"])
        for r in outbox
        if json.loads(r.payload)["opportunity_id"] == opp.id
    ]
    assert mine == [
        ("opportunity.opened.v1", 1),
        ("opportunity.stage_changed.v1", 2),
        ("opportunity.won.v1", 3),  # the rejection left off-2 open: not lost
    ]
    assert sum(r.type == "opportunity.opened.v1" for r in outbox) == 2


async def test_an_offer_for_an_unknown_opportunity_is_permanent(
    db: Database, settings: Settings
) -> None:
    with pytest.raises(PermanentError):
        await handle(db, settings, offer_event("offer.sent.v1", "off-9", "nope", 1, "sent"))
    async with db.session() as session:
        assert (await session.exec(select(OfferTrackRow))).all() == []


async def test_a_deal_won_in_yen_tells_its_amount_without_decimals(
    db: Database, settings: Settings
) -> None:
    await handle(db, settings, lead_converted("lead-jpy"))
    async with db.session() as session:
        opp = (await session.exec(select(OpportunityRow))).one()
    await handle(
        db,
        settings,
        offer_event("offer.created.v1", "off-y", opp.id, 1, "draft", net="3002", currency="JPY"),
        offer_event("offer.sent.v1", "off-y", opp.id, 2, "sent", net="3002", currency="JPY"),
        offer_event(
            "offer.accepted.v1", "off-y", opp.id, 3, "accepted", net="3002", currency="JPY"
        ),
    )
    async with db.session() as session:
        won = (
            await session.exec(select(OutboxRow).where(OutboxRow.type == "opportunity.won.v1"))
        ).one()
    assert json.loads(won.payload)["amount"] == money("3002", "JPY")  # was "3002.00"
