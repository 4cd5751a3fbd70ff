"""A follow-up for an existing customer reaches its topic through the real broker, starting a
new journey that names the account's earlier ones (opportunities picks it up: lead's e2e test)."""

from __future__ import annotations

from datetime import UTC, datetime

from aftersales_testkit import (
    Clock,
    fulfillment_completed,
    order_event,
    problem,
    publish,
    read_topic,
    service,
    settings,
)

from salesflow.contracts.envelope import Envelope
from salesflow.testing.helpers import bearer, eventually

ALICE = bearer("alice", ["sales_rep"], team="south")
BOB = bearer("bob", ["sales_rep"], team="north")
AGENT = bearer("sam", ["service_agent"])


async def test_followup_identified_reaches_the_topic(settings_for, broker) -> None:
    cfg = settings(settings_for)
    async with service(cfg, Clock(datetime(2026, 4, 1, 10, 0, tzinfo=UTC))) as (_app, client):
        received = order_event("order.received.v1")
        await publish(cfg, "orders.order.v1", received)
        await publish(cfg, "fulfillment.fulfillment.v1", fulfillment_completed(cause=received))

        async def account() -> dict | None:
            items = (await client.get("/accounts", headers=ALICE)).json()["items"]
            return items[0] if items else None

        acc = await eventually(account, message="account not onboarded")
        detail = (await client.get(f"/accounts/{acc['id']}", headers=ALICE)).json()
        lathe = next(a for a in detail["installed_base"] if a["serial_number"] == "SN-1")
        body = {
            "account_id": acc["id"],
            "kind": "upsell",
            "description": "Second lathe for the new hall",
            "estimated_value": {"amount": "25000.00", "currency": "EUR"},
            "expected_close_date": "2026-06-30",
            "asset_ids": [lathe["id"]],
            "contact": {"name": "Erika Muster", "email": "erika@muster.example"},
        }
        key = {"Idempotency-Key": "fu-1"}
        resp = await client.post("/followups", headers={**ALICE, **key}, json=body)
        assert resp.status_code == 201, resp.text
        again = await client.post("/followups", headers={**ALICE, **key}, json=body)
        assert again.json()["id"] == resp.json()["id"]
        created = resp.json()
        assert resp.headers["Location"] == f"/followups/{created['id']}"
        assert created["owner"] == "alice" and created["identified_by"] == "alice"
        assert created["correlation_id"] != received.correlation_id

        records = await read_topic(broker, cfg.topic("aftersales.account.v1"), expect=2)
        events = [Envelope.from_record(r.headers, r.value) for r in records]
        assert sorted(e.type for e in events) == ["account.onboarded.v1", "followup.identified.v1"]
        followup = next(e for e in events if e.type == "followup.identified.v1")
        record = next(r for r in records if dict(r.headers)["ce_id"] == followup.id.encode())
        assert record.key == acc["id"].encode()  # same partition as the account's other events
        assert followup.correlation_id == created["correlation_id"]
        data = followup.payload()
        assert data.followup_id == created["id"] and data.account_id == acc["id"]
        assert data.kind == "upsell" and data.owner == "alice" and data.team == "south"
        assert data.account.company_id == "co-1"
        assert data.previous_correlation_ids == [received.correlation_id]
        assert data.asset_ids == [lathe["id"]]
        assert data.contact.name == "Erika Muster"
        assert followup.data["estimated_value"] == {"amount": "25000.00", "currency": "EUR"}

        listed = (await client.get("/followups", headers=ALICE)).json()["items"]
        assert [f["id"] for f in listed] == [created["id"]]
        assert (await client.get("/followups", headers=BOB)).json()["items"] == []

        # a service agent may raise one for any account; another rep only for their own
        assert (await client.post("/followups", headers=AGENT, json=body)).status_code == 201
        problem(await client.post("/followups", headers=BOB, json=body), 422)
        problem(
            await client.post("/followups", headers=bearer("lg", ["logistics_system"]), json=body),
            403,
        )
        for bad in (
            {**body, "estimated_value": {"amount": "-1", "currency": "EUR"}},
            {**body, "estimated_value": {"amount": "10", "currency": "eur"}},
            {**body, "estimated_value": {"amount": "1.23456", "currency": "EUR"}},
            {**body, "estimated_value": {"amount": "10", "currency": "XXX"}},  # not ISO 4217
            {**body, "estimated_value": {"amount": "10", "currency": "ABC"}},
            {**body, "expected_close_date": "0001-01-01"},  # 1900-2199 only
            {**body, "due_date": "9999-12-31"},
            {**body, "due_date": 20260630},  # a number, not an ISO date
            {**body, "contact": {"name": "Erika", "email": "not-an-email"}},
            {**body, "contact": {"name": "Erika", "email": "erika@muster"}},
            {**body, "kind": "bribe"},
            {**body, "asset_ids": ["not-an-asset"]},
            {**body, "ticket_id": "not-a-ticket"},
            {**body, "probability": 90},
            {**body, "description": ""},
        ):
            problem(await client.post("/followups", headers=AGENT, json=bad), 422)
