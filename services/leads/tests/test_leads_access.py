"""Who sees which leads, contacts with consent flags and If-Match."""

from datetime import UTC, datetime

import httpx

from salesflow.testing.helpers import bearer

from .conftest import MARKETING
from .test_leads_journey import MANAGER, ROUTING, setup

ANN = bearer("ann", ["sales_rep"], team="south")
BOB = bearer("bob", ["sales_rep"], team="south")


async def ids(client: httpx.AsyncClient, headers: dict) -> set[str]:
    resp = await client.get("/leads", headers=headers)
    assert resp.status_code == 200, resp.text
    return {lead["id"] for lead in resp.json()["items"]}


async def test_reps_see_their_own_managers_their_team(client: httpx.AsyncClient) -> None:
    routing = {**ROUTING, "default_capacity": 1}
    first = await setup(client, routing)
    await client.post(
        "/companies/import",
        content=b"name,country,postal_code,nace,employees\nB GmbH,DE,1,62.20,80\nC GmbH,DE,2,62.20,80\n",
        headers={**MARKETING, "content-type": "text/csv"},
    )
    owners = {}
    for company_id in (first, first + 1, first + 2):
        body = {
            "channel": "web",
            "kind": "demo_request",
            "occurred_at": datetime.now(UTC).isoformat(),
            "company_id": company_id,
        }
        result = (await client.post("/touchpoints", json=body, headers=MARKETING)).json()
        owners[result["lead_id"]] = (
            await client.get(f"/leads/{result['lead_id']}", headers=MARKETING)
        ).json()["owner"]
    by_owner = {owner: lead for lead, owner in owners.items()}
    assert set(by_owner) == {"ann", "bob", None}  # capacity 1 each: the third is queued
    assert await ids(client, ANN) == {by_owner["ann"]}
    assert await ids(client, BOB) == {by_owner["bob"]}
    assert await ids(client, MANAGER) == set(owners)  # the team's and the queue
    assert await ids(client, bearer("olga", ["sales_manager"], team="north")) == {by_owner[None]}
    assert await ids(client, bearer("ana", ["analyst"])) == set(owners)
    assert (await client.get("/leads", headers=bearer("o", ["order_desk"]))).status_code == 403
    assert (await client.get("/leads")).status_code == 401
    mqls = (
        await client.get("/leads", params={"status": "mql", "queue": "triage"}, headers=MARKETING)
    ).json()
    assert [lead["id"] for lead in mqls["items"]] == [by_owner[None]]


async def test_contacts_with_consent_and_if_match(client: httpx.AsyncClient) -> None:
    company_id = await setup(client)
    body = {
        "company_id": company_id,
        "name": "Lea Lind",
        "email": "Lea@Acme-Soft.example.com",
        "role": "CFO",
        "consent_email": True,
    }
    created = await client.post("/contacts", json=body, headers=ANN)
    assert created.status_code == 201, created.text
    contact = created.json()
    assert (contact["consent_email"], contact["consent_phone"]) == (True, False)
    twin = await client.post(
        "/contacts", json={**body, "email": "lea@acme-soft.example.com"}, headers=ANN
    )
    assert twin.status_code == 409
    unknown = await client.post(
        "/contacts", json={**body, "company_id": 999999, "email": None}, headers=ANN
    )
    assert unknown.status_code == 422

    one = await client.get(f"/contacts/{contact['id']}", headers=ANN)
    etag = one.headers["etag"]
    assert (
        await client.patch(f"/contacts/{contact['id']}", json={"consent_email": False}, headers=ANN)
    ).status_code == 428
    changed = await client.patch(
        f"/contacts/{contact['id']}",
        json={"consent_email": False},
        headers={**ANN, "If-Match": etag},
    )
    assert changed.status_code == 200 and changed.json()["consent_email"] is False
    stale = await client.patch(
        f"/contacts/{contact['id']}", json={"role": "CEO"}, headers={**ANN, "If-Match": etag}
    )
    assert stale.status_code == 412
    null = await client.patch(
        f"/contacts/{contact['id']}",
        json={"consent_phone": None},
        headers={**ANN, "If-Match": changed.headers["etag"]},
    )
    assert null.status_code == 422
    listed = (
        await client.get("/contacts", params={"company_id": company_id}, headers=MARKETING)
    ).json()
    assert [c["name"] for c in listed["items"]] == ["Lea Lind"]
