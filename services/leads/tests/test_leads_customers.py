"""Existing customers from account.onboarded (published on the real broker): flagged, their
leads go to the account owner and may convert without qualification."""

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import select

from leads.config import Settings
from leads.tables import AccountRow
from salesflow.contracts.envelope import new_event
from salesflow.testing.helpers import bearer, eventually
from salesflow.testing.kafka import publish

from .conftest import MARKETING

ANN = bearer("ann", ["sales_rep"], team="south")


def onboarded(company: dict[str, Any], *, account: str, version: int, owner: str) -> Any:
    return new_event(
        "account.onboarded.v1",
        account,
        {
            "account_id": account,
            "version": version,
            "company": company,
            "owner": owner,
            "team": "south",
            "order_id": "o-1",
            "order_number": "SO-1",
            "fulfillment_id": "f-1",
        },
        source="/salesflow/aftersales",
    )


async def test_existing_customer_converts_straight_away(
    client: httpx.AsyncClient, leads_settings: Settings, broker: str, outbox: Any
) -> None:
    csv = "name,country,postal_code,duns\nKunde AG,DE,50667,123456789\n"
    await client.post(
        "/companies/import", content=csv.encode(), headers={**MARKETING, "content-type": "text/csv"}
    )
    [company] = (await client.get("/companies", headers=MARKETING)).json()["items"]
    snapshot = {"company_id": "9999", "name": "Kunde AG", "country": "DE", "duns": "123456789"}
    stranger = {"company_id": "opp-x", "name": "Neu GmbH", "country": "AT", "postal_code": "1010"}
    topic = leads_settings.topic("aftersales.account.v1")
    new_customer = onboarded(stranger, account="acc-2", version=1, owner="bob")
    await publish(
        broker,
        topic,
        onboarded(snapshot, account="acc-1", version=2, owner="ann"),
        onboarded(snapshot, account="acc-1", version=1, owner="stale"),  # older: ignored
        new_customer,
    )

    async def onboarded_both() -> bool:
        customers = (
            await client.get("/companies", params={"status": "customer"}, headers=MARKETING)
        ).json()["items"]
        return len(customers) == 2

    await eventually(onboarded_both, message="account.onboarded not handled")
    known = (await client.get(f"/companies/{company['id']}", headers=MARKETING)).json()
    assert (known["status"], known["account_id"]) == ("customer", "acc-1")
    async with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        account = (
            await session.exec(select(AccountRow).where(AccountRow.account_id == "acc-1"))
        ).one()
    assert (account.owner, account.version) == ("ann", 2)
    # the customer unknown before enters the universe: counted once, caused by the event
    imported = await outbox("companies.imported.v1")
    assert len(imported) == 2  # the import's one chunk and the new customer
    _, key, headers, payload = imported[1]
    assert key.startswith("aftersales:") and payload["suspects"] == [
        {
            "nace_section": None,
            "size_class": None,
            "country": "AT",
            "source": "aftersales",
            "count": 1,
        }
    ]
    assert headers["ce_causationid"] == new_customer.id
    assert headers["ce_correlationid"] == new_customer.correlation_id

    touch = {
        "channel": "web",
        "kind": "form_submit",
        "occurred_at": datetime.now(UTC).isoformat(),
        "company_id": company["id"],
    }
    created = (await client.post("/touchpoints", json=touch, headers=MARKETING)).json()
    assert created["existing_customer"] and created["lead_status"] == "unqualified"
    lead_id = created["lead_id"]
    events = await outbox()
    assert [e[0] for e in events] == ["lead.created.v1", "lead.assigned.v1"]
    assert events[0][3]["existing_customer"] and events[0][3]["account_id"] == "acc-1"
    assert (events[1][3]["owner"], events[1][3]["routing_rule"]) == ("ann", "account-owner")

    no_contact = await client.post(f"/leads/{lead_id}/convert", json={}, headers=ANN)
    assert no_contact.status_code == 422
    converted = await client.post(
        f"/leads/{lead_id}/convert",
        json={"contact": {"name": "Kai Kunde", "email": "kai@kunde.example.de"}},
        headers=ANN,
    )
    assert converted.status_code == 200, converted.text
    handoff = (await outbox("lead.converted.v1"))[0][3]
    assert handoff["existing_customer"] and handoff["status"] == "converted"
    assert handoff["contact"]["name"] == "Kai Kunde"

    leads = (
        await client.get("/leads", params={"existing_customer": "true"}, headers=MARKETING)
    ).json()["items"]
    assert [lead["id"] for lead in leads] == [lead_id]
