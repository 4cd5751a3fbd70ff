"""account.onboarded through the handler's Core statements, several in one unit of work as the
consumer's fast path runs them: open leads flagged, stale versions ignored, a new customer
created once and found again by its match key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from leads.config import Settings
from leads.handlers import HANDLERS
from leads.main import SPEC
from leads.tables import AccountRow, CompanyRow, LeadRow
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.db import Database
from salesflow.messaging.handlers import HandlerContext
from salesflow.messaging.tables import OutboxRow
from salesflow.testing.plugin import migrate

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def onboarded(company: dict[str, Any], account: str, version: int, owner: str) -> Envelope:
    data = {
        "account_id": account,
        "version": version,
        "company": company,
        "owner": owner,
        "team": "south",
        "order_id": f"o-{account}",
        "order_number": "SO-1",
        "fulfillment_id": "f-1",
    }
    return new_event("account.onboarded.v1", account, data, source="/salesflow/aftersales")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate(SPEC.migrations_dir, database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def handle(db: Database, settings: Settings, *events: Envelope) -> None:
    async with db.session() as session, session.begin():
        for event in events:
            await HANDLERS[event.type](HandlerContext(session, event, settings))


async def test_onboarding_flags_open_leads_once_and_creates_unknown_customers_once(
    db: Database, settings_for: Any
) -> None:
    settings = settings_for(Settings)
    async with db.session() as session, session.begin():
        known = CompanyRow(
            name="Kunde AG",
            country="DE",
            source="import",
            status="lead",
            created_at=T0,
            updated_at=T0,
        )
        session.add(known)
        await session.flush()
        session.add(
            LeadRow(
                id="lead-1",
                company_id=known.id,  # type: ignore[arg-type]
                open_company_id=known.id,
                status="assigned",
                correlation_id="c-1",
                source_channel="web",
                created_at=T0,
                updated_at=T0,
            )
        )
    by_id = {"company_id": str(known.id), "name": "Kunde AG", "country": "DE"}
    stranger = {"company_id": "opp-x", "name": "Neu GmbH", "country": "AT", "postal_code": "1010"}
    first = onboarded(stranger, "acc-2", 1, "bob")

    await handle(
        db,
        settings,
        onboarded(by_id, "acc-1", 2, "ann"),
        onboarded(by_id, "acc-1", 2, "again"),  # same version: ignored
        first,
        onboarded({**stranger, "name": "Neu gmbh"}, "acc-3", 1, "bob"),  # same match key
    )
    await handle(db, settings, onboarded(by_id, "acc-1", 1, "stale"))

    async with db.session() as session:
        lead = await session.get(LeadRow, "lead-1")
        companies = (await session.exec(select(CompanyRow).order_by(CompanyRow.id))).all()
        accounts = {a.account_id: a for a in (await session.exec(select(AccountRow))).all()}
        imported = (await session.exec(select(OutboxRow))).all()
    assert lead is not None
    assert (lead.existing_customer, lead.account_id) == (True, "acc-1")
    assert lead.updated_at > T0
    assert [(c.name, c.status, c.account_id, c.source) for c in companies] == [
        ("Kunde AG", "customer", "acc-1", "import"),
        ("Neu GmbH", "customer", "acc-3", "aftersales"),  # the later account claims it
    ]
    assert {k: (a.company_id, a.version, a.owner) for k, a in accounts.items()} == {
        "acc-1": (companies[0].id, 2, "ann"),
        "acc-2": (companies[1].id, 1, "bob"),
        "acc-3": (companies[1].id, 1, "bob"),
    }
    [event] = imported  # the new customer counted once, caused by its onboarding
    assert event.type == "companies.imported.v1"
    assert event.key == f"aftersales:{companies[1].id}"
    assert event.headers["ce_causationid"] == first.id
    assert json.loads(event.payload)["suspects"] == [
        {
            "nace_section": None,
            "size_class": None,
            "country": "AT",
            "source": "aftersales",
            "count": 1,
        }
    ]
