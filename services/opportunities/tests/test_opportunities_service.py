"""The opportunities service through HTTP, a real broker and a real database: opening from
lead.converted and followup.identified, offer events moving the stage, ETags, ownership,
activities with the stale flag, and the forecast."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from opportunities.config import Settings
from opportunities.main import SPEC, create_app
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.contracts.events import common as c
from salesflow.messaging.tables import OutboxRow
from salesflow.testing.helpers import bearer, eventually, running
from salesflow.testing.kafka import outbox_rows, read_topic
from salesflow.testing.plugin import migrate

ALICE = bearer("alice", ["sales_rep"], team="south")
BOB = bearer("bob", ["sales_rep"], team="south")
MANAGER = bearer("mia", ["sales_manager"], team="south")
OTHER_MANAGER = bearer("otto", ["sales_manager"], team="north")
ANALYST = bearer("ana", ["analyst"])

COMPANY = c.CompanySnapshot(
    company_id="co-1", name="Muster Maschinenbau GmbH", country="DE", nace="28.41"
)
CONTACT = c.Contact(name="Erika Muster", email="erika@muster.example", role="CFO")
EUR = "EUR"


def money(amount: str, currency: str = EUR) -> dict[str, str]:
    return {"amount": amount, "currency": currency}


# --- plumbing -----------------------------------------------------------------------------------


class Clock:
    """The app's clock: real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
async def settings(settings_for: Callable[..., Any], database_url: str) -> Settings:
    await migrate(SPEC.migrations_dir, database_url)
    return settings_for(Settings)


@pytest.fixture
async def producer(broker: str) -> AsyncIterator[AIOKafkaProducer]:
    prod = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await prod.start()
    try:
        yield prod
    finally:
        await prod.stop()


async def publish(
    producer: AIOKafkaProducer, settings: Settings, topic: str, event: Envelope
) -> None:
    await producer.send_and_wait(
        settings.topic(topic), event.value(), key=event.subject.encode(), headers=event.headers()
    )


async def outbox(app: Any, type_: str | None = None) -> list[OutboxRow]:
    return await outbox_rows(app.state.db, type_)


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict]:
    resp = await client.get("/opportunities", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


async def wait_for(
    client: httpx.AsyncClient, opp_id: str, check: Callable[[dict], bool], message: str
) -> dict:
    async def probe() -> dict | None:
        resp = await client.get(f"/opportunities/{opp_id}", headers=ALICE)
        body = resp.json()
        return body if resp.status_code == 200 and check(body) else None

    return await eventually(probe, message=message)


def lead_converted(
    lead_id: str, *, correlation_id: str | None = None, version: int = 5
) -> Envelope:
    data = {
        "lead_id": lead_id,
        "version": version,
        "status": "converted",
        "company": COMPANY.model_dump(mode="json"),
        "owner": "alice",
        "team": "south",
        "source_channel": "whitepaper_download",
        "source_campaign": "spring-2026",
        "score": "72.5",
        "contact": CONTACT.model_dump(mode="json"),
        "needs": {"budget": money("60000.00"), "authority": "CFO", "need": "new lathe"},
        "converted_by": "alice",
        "expected_amount": money("50000"),
        "expected_close_date": "2026-06-30",
    }
    return new_event(
        "lead.converted.v1", lead_id, data, source="/salesflow/leads", correlation_id=correlation_id
    )


def offer_event(
    type_: str,
    offer_id: str,
    opportunity_id: str,
    version: int,
    status: str,
    *,
    offer_version: int = 1,
    net: str = "18900.00",
    correlation_id: str | None = None,
    **extra: Any,
) -> Envelope:
    totals = {"net": money(net), "tax": money("0.00"), "gross": money(net)}
    data: dict[str, Any] = {
        "offer_id": offer_id,
        "offer_version": offer_version,
        "version": version,
        "status": status,
        "opportunity_id": opportunity_id,
        "owner": "alice",
        "team": "south",
        "currency": EUR,
        "totals": totals,
        "valid_until": "2026-12-31",
    }
    content = {
        "customer": COMPANY.model_dump(mode="json"),
        "lines": [
            {
                "line_no": 1,
                "sku": "LATHE-500",
                "name": "Lathe 500",
                "quantity": "1",
                "unit": "C62",
                "kind": "goods",
                "unit_price": money(net),
                "net": money(net),
                "tax_rate": "0",
                "tax": money("0.00"),
            }
        ],
        "terms": {"payment_days": 30},
    }
    address = {"street": "Hauptstr. 1", "city": "München", "country": "DE"}
    by_type: dict[str, dict[str, Any]] = {
        "offer.created.v1": {**content, "created_by": "alice"},
        "offer.sent.v1": {"sent_by": "alice"},
        "offer.revised.v1": {
            **content,
            "previous_offer_version": offer_version - 1,
            "revised_by": "alice",
        },
        "offer.accepted.v1": {
            **content,
            "bill_to": address,
            "ship_to": address,
            "accepted_by": "Erika Muster",
            "accepted_on": "2026-05-01",
            "recorded_by": "alice",
        },
        "offer.rejected.v1": {"recorded_by": "alice"},
        "offer.expired.v1": {},
    }
    data.update(by_type[type_])
    data.update(extra)
    return new_event(
        type_, offer_id, data, source="/salesflow/offers", correlation_id=correlation_id
    )


def new_opportunity(**overrides: Any) -> dict[str, Any]:
    body = {
        "account_id": "acc-1",
        "account": {"company_id": "co-1", "name": "Muster Maschinenbau GmbH", "country": "DE"},
        "contact": {"name": "Erika Muster", "email": "erika@muster.example"},
        "amount": money("40000.00"),
        "expected_close_date": "2026-05-15",
        "needs": {"need": "second lathe", "budget": money("45000")},
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict:
    resp = await client.post("/opportunities", json=new_opportunity(**overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


# --- tests --------------------------------------------------------------------------------------


async def test_lead_converted_delivered_twice_opens_one_opportunity(
    settings: Settings, producer: AIOKafkaProducer, broker: str
) -> None:
    event = lead_converted("lead-1")
    again = lead_converted("lead-1", correlation_id=event.correlation_id)  # same lead, new event id
    for record in (event, event, again):
        await publish(producer, settings, "leads.lead.v1", record)
    app = create_app(settings)
    async with running(app) as client:
        consumer = app.state.ctx.consumers[0]

        async def all_seen() -> bool:
            counts = consumer.counts
            return counts["handled"] + counts["duplicate"] >= 3

        await eventually(all_seen, message="lead.converted events not consumed")
        assert consumer.counts["duplicate"] >= 1  # the inbox caught the same event id
        items = await listed(client, ALICE)
        assert len(items) == 1
        opp = items[0]
        assert opp["lead_id"] == "lead-1"
        assert opp["source"] == "lead"
        assert opp["stage"] == "qualification"
        assert opp["probability"] == 10 and opp["probability_is_default"] is True
        assert opp["owner"] == "alice" and opp["team"] == "south"
        assert opp["amount"] == money("50000.00")
        assert opp["currency"] == EUR
        assert opp["account"]["company_id"] == "co-1"
        assert opp["contact"]["name"] == "Erika Muster"
        assert opp["needs"]["budget"] == money("60000.00")
        assert opp["expected_close_date"] == "2026-06-30"
        assert opp["source_campaign"] == "spring-2026"
        assert opp["correlation_id"] == event.correlation_id  # the journey goes on
        opened = await outbox(app, "opportunity.opened.v1")
        assert len(opened) == 1
        assert opened[0].headers["ce_correlationid"] == event.correlation_id
        assert opened[0].headers["ce_causationid"] == event.id
    records = await read_topic(broker, settings.topic("opportunities.opportunity.v1"), expect=1)
    assert len(records) == 1
    published = Envelope.from_record(records[0].headers, records[0].value)
    assert published.type == "opportunity.opened.v1"
    payload = published.payload()
    assert payload.opportunity_id == opp["id"]
    assert (payload.owner, payload.currency, payload.contact.name) == ("alice", EUR, "Erika Muster")
    assert payload.account.name == COMPANY.name
    assert payload.amount.amount == Decimal("50000.00")


async def test_followup_identified_opens_an_opportunity_for_the_account_owner(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    data = {
        "followup_id": "fu-1",
        "account_id": "acc-9",
        "account": COMPANY.model_dump(mode="json"),
        "contact": CONTACT.model_dump(mode="json"),
        "owner": "alice",
        "team": "south",
        "kind": "upsell",
        "description": "second lathe for the new hall",
        "estimated_value": money("25000.00", "CHF"),
        "expected_close_date": "2026-09-30",
        "previous_correlation_ids": ["journey-2", "journey-1"],
    }
    event = new_event("followup.identified.v1", "acc-9", data, source="/salesflow/aftersales")
    redelivered = new_event("followup.identified.v1", "acc-9", data, source="/salesflow/aftersales")
    for record in (event, redelivered):
        await publish(producer, settings, "aftersales.account.v1", record)
    app = create_app(settings)
    async with running(app) as client:
        consumer = app.state.ctx.consumers[0]

        async def both_handled() -> bool:
            return consumer.counts["handled"] >= 2

        await eventually(both_handled, message="followup.identified not consumed")
        items = await listed(client, ALICE)
        assert len(items) == 1  # exactly one opportunity per follow-up
        opp = items[0]
        assert opp["source"] == "followup" and opp["followup_id"] == "fu-1"
        assert opp["owner"] == "alice" and opp["account_id"] == "acc-9"
        assert opp["amount"] == money("25000.00", "CHF") and opp["currency"] == "CHF"
        assert opp["expected_close_date"] == "2026-09-30"
        assert "second lathe" in opp["needs"]["need"]
        # a new journey, linked back to the account's earlier ones
        assert opp["correlation_id"] not in (event.correlation_id, "journey-1", "journey-2")
        assert opp["related_correlation_ids"] == [event.correlation_id, "journey-2", "journey-1"]
        opened = await outbox(app, "opportunity.opened.v1")
        assert len(opened) == 1
        assert opened[0].headers["ce_correlationid"] == opp["correlation_id"]
        assert opened[0].headers["ce_causationid"] == event.id
        payload = json.loads(opened[0].payload)
        assert payload["related_correlation_ids"] == opp["related_correlation_ids"]


async def test_offer_events_move_the_stage_win_and_lose(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    app = create_app(settings)
    async with running(app) as client:
        await publish(producer, settings, "leads.lead.v1", lead_converted("lead-a"))
        await publish(producer, settings, "leads.lead.v1", lead_converted("lead-b"))

        async def two_open() -> list[dict] | None:
            items = await listed(client, ALICE)
            return items if len(items) == 2 else None

        by_lead = {o["lead_id"]: o for o in await eventually(two_open, message="not opened")}
        won_id, lost_id = by_lead["lead-a"]["id"], by_lead["lead-b"]["id"]
        # the opportunity of one lead, found without walking the list
        assert [o["id"] for o in await listed(client, ALICE, lead_id="lead-b")] == [lost_id]
        assert await listed(client, BOB, lead_id="lead-b") == []  # not bob's to see
        cid = by_lead["lead-a"]["correlation_id"]

        async def send(type_: str, offer: str, opp: str, version: int, status: str, **kw: Any):
            event = offer_event(type_, offer, opp, version, status, correlation_id=cid, **kw)
            await publish(producer, settings, "offers.offer.v1", event)
            return event

        await send("offer.created.v1", "off-1", won_id, 1, "draft")
        await send("offer.sent.v1", "off-1", won_id, 2, "sent")
        opp = await wait_for(client, won_id, lambda o: o["stage"] == "proposal", "not proposal")
        assert opp["probability"] == 50
        await send("offer.revised.v1", "off-1", won_id, 3, "draft", offer_version=2, net="17000")
        await wait_for(client, won_id, lambda o: o["stage"] == "negotiation", "not negotiation")
        # a stale version of off-1 (a replayed offer.sent) changes nothing
        await send("offer.sent.v1", "off-1", won_id, 2, "sent")
        # a second offer is in play, so the rejection of the first does not lose the deal
        await send("offer.created.v1", "off-2", won_id, 1, "draft", net="16500.00")
        await wait_for(client, won_id, lambda o: len(o["offers"]) == 2, "off-2 not tracked")
        await send(
            "offer.rejected.v1",
            "off-1",
            won_id,
            4,
            "rejected",
            offer_version=2,
            reason="too expensive",
        )
        opp = await wait_for(
            client,
            won_id,
            lambda o: {x["offer_id"]: x["status"] for x in o["offers"]}["off-1"] == "rejected",
            "rejection not tracked",
        )
        assert opp["stage"] == "negotiation"
        assert opp["offers"][0]["offer_version"] == 2  # the stale v1 send did not overwrite
        await send("offer.sent.v1", "off-2", won_id, 2, "sent", net="16500.00")
        accepted = await send("offer.accepted.v1", "off-2", won_id, 3, "accepted", net="16500.00")
        opp = await wait_for(client, won_id, lambda o: o["stage"] == "won", "not won")
        assert opp["amount"] == money("16500.00")  # what the customer accepted, net
        assert opp["probability"] == 100
        assert (opp["won_offer_id"], opp["won_offer_version"]) == ("off-2", 1)
        assert opp["closed_at"] is not None
        history = [(s["stage"], s["trigger"]) for s in opp["stage_history"]]
        assert history == [
            ("qualification", "opened:lead"),
            ("proposal", "offer.sent.v1"),
            ("negotiation", "offer.revised.v1"),
            ("won", "offer.accepted.v1"),
        ]
        assert all(s["left_at"] for s in opp["stage_history"][:-1])
        assert set(opp["time_in_stage"]) == {"qualification", "proposal", "negotiation"}

        # the other deal: its only offer is rejected ⇒ lost with that reason
        await send("offer.created.v1", "off-3", lost_id, 1, "draft")
        await send("offer.sent.v1", "off-3", lost_id, 2, "sent")
        await send("offer.rejected.v1", "off-3", lost_id, 3, "rejected", reason="budget cut")
        lost = await wait_for(client, lost_id, lambda o: o["stage"] == "lost", "not lost")
        assert lost["lost_reason"] == "budget cut" and lost["probability"] == 0

        changes = [json.loads(r.payload) for r in await outbox(app)]
        mine = [(p["stage"], p.get("trigger")) for p in changes if p["opportunity_id"] == won_id]
        assert mine == [
            ("qualification", None),
            ("proposal", "offer.sent.v1"),
            ("negotiation", "offer.revised.v1"),
            ("won", None),
        ]
        won_rows = await outbox(app, "opportunity.won.v1")
        assert len(won_rows) == 1
        won = json.loads(won_rows[0].payload)
        assert won["amount"] == money("16500.00") and won["offer_id"] == "off-2"
        assert won_rows[0].headers["ce_correlationid"] == cid
        assert won_rows[0].headers["ce_causationid"] == accepted.id
        lost_rows = await outbox(app, "opportunity.lost.v1")
        assert [json.loads(r.payload)["offer_id"] for r in lost_rows] == ["off-3"]

        # won and lost are final
        for opp_id in (won_id, lost_id):
            etag = (await client.get(f"/opportunities/{opp_id}", headers=ALICE)).headers["ETag"]
            resp = await client.patch(
                f"/opportunities/{opp_id}",
                json={"next_step": "celebrate"},
                headers={**ALICE, "If-Match": etag},
            )
            assert resp.status_code == 409, resp.text
            resp = await client.post(
                f"/opportunities/{opp_id}/lose", json={"reason": "x"}, headers=ALICE
            )
            assert resp.status_code == 409
            assert resp.headers["content-type"] == "application/problem+json"


async def test_patch_needs_a_fresh_etag_and_respects_the_stage_machine(
    settings: Settings,
) -> None:
    app = create_app(settings)
    async with running(app) as client:
        created = await create(client, ALICE, probability=30)
        opp_id = created["id"]
        assert created["source"] == "manual" and created["opened_by"] == "alice"
        assert created["probability"] == 30 and created["probability_is_default"] is False
        resp = await client.get(f"/opportunities/{opp_id}", headers=ALICE)
        etag = resp.headers["ETag"]
        assert etag == '"1"'
        url = f"/opportunities/{opp_id}"

        resp = await client.patch(url, json={"stage": "needs_analysis"}, headers=ALICE)
        assert resp.status_code == 428
        resp = await client.patch(
            url, json={"stage": "needs_analysis"}, headers={**ALICE, "If-Match": '"7"'}
        )
        assert resp.status_code == 412
        assert resp.headers["content-type"] == "application/problem+json"

        resp = await client.patch(
            url,
            json={"stage": "needs_analysis", "next_step": "workshop", "amount": money("42000.5")},
            headers={**ALICE, "If-Match": etag},
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["stage"] == "needs_analysis"
        assert body["probability"] == 20  # the override was for qualification
        assert body["amount"] == money("42000.50") and body["next_step"] == "workshop"
        assert resp.headers["ETag"] == '"2"' == f'"{body["version"]}"'
        # the old ETag is stale now
        resp = await client.patch(url, json={"next_step": "x"}, headers={**ALICE, "If-Match": etag})
        assert resp.status_code == 412
        etag = '"2"'

        resp = await client.patch(
            url, json={"stage": "negotiation"}, headers={**ALICE, "If-Match": etag}
        )
        assert resp.status_code == 409 and "skip" in resp.json()["detail"]
        for bad in ({"stage": "won"}, {"stage": None}, {"probability": 101}, {"color": "red"}):
            resp = await client.patch(url, json=bad, headers={**ALICE, "If-Match": etag})
            assert resp.status_code == 422, bad

        resp = await client.patch(
            url, json={"probability": 35}, headers={**ALICE, "If-Match": etag}
        )
        assert resp.json()["probability"] == 35
        resp = await client.patch(
            url, json={"probability": None}, headers={**ALICE, "If-Match": resp.headers["ETag"]}
        )
        assert resp.json()["probability"] == 20 and resp.json()["probability_is_default"]
        etag = resp.headers["ETag"]

        # an empty change changes nothing, not even the version
        resp = await client.patch(url, json={}, headers={**ALICE, "If-Match": etag})
        assert resp.status_code == 200 and resp.headers["ETag"] == etag

        # a probability given together with a stage change is kept for the new stage
        resp = await client.patch(
            url, json={"stage": "proposal", "probability": 60}, headers={**ALICE, "If-Match": etag}
        )
        assert (resp.json()["stage"], resp.json()["probability"]) == ("proposal", 60)

        resp = await client.post(
            f"{url}/lose",
            json={"reason": "chose a competitor"},
            headers={**ALICE, "If-Match": '"1"'},
        )
        assert resp.status_code == 412
        resp = await client.post(
            f"{url}/lose", json={"reason": "chose a competitor"}, headers=ALICE
        )
        assert resp.status_code == 200, resp.text
        lost = resp.json()
        assert lost["stage"] == "lost" and lost["lost_reason"] == "chose a competitor"
        assert [s["stage"] for s in lost["stage_history"]] == [
            "qualification",
            "needs_analysis",
            "proposal",
            "lost",
        ]
        resp = await client.patch(
            url, json={"next_step": "x"}, headers={**ALICE, "If-Match": resp.headers["ETag"]}
        )
        assert resp.status_code == 409

        payloads = [(r.type, json.loads(r.payload)) for r in await outbox(app)]
        assert [
            (t, p["stage"], p.get("previous_stage"), p["probability"]) for t, p in payloads
        ] == [
            ("opportunity.opened.v1", "qualification", None, 30),
            ("opportunity.stage_changed.v1", "needs_analysis", "qualification", 20),
            # probability overrides: no move, but the state the events carry changed
            ("opportunity.updated.v1", "needs_analysis", None, 35),
            ("opportunity.updated.v1", "needs_analysis", None, 20),
            ("opportunity.stage_changed.v1", "proposal", "needs_analysis", 60),
            ("opportunity.lost.v1", "lost", "proposal", 0),
        ]
        changed = payloads[1][1]
        assert changed["previous_stage"] == "qualification" and changed["changed_by"] == "alice"
        assert changed["trigger"] == "manual" and changed["amount"] == money("42000.50")


async def test_creating_is_idempotent_and_validated(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app) as client:
        key = {"Idempotency-Key": "k-1"}
        first = await client.post(
            "/opportunities", json=new_opportunity(), headers={**ALICE, **key}
        )
        again = await client.post(
            "/opportunities", json=new_opportunity(), headers={**ALICE, **key}
        )
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert first.headers["Location"] == f"/opportunities/{first.json()['id']}"
        other = await client.post(
            "/opportunities", json=new_opportunity(next_step="x"), headers={**ALICE, **key}
        )
        assert other.status_code == 422
        assert len(await listed(client, ALICE)) == 1
        assert len(await outbox(app, "opportunity.opened.v1")) == 1

        for bad in (
            new_opportunity(amount=money("1", "XXQ")),  # not ISO 4217
            new_opportunity(amount={"amount": "1.5", "currency": "eur"}),
            new_opportunity(amount={"amount": 1.5e300, "currency": "EUR"}),
            new_opportunity(amount=money("-1")),
            new_opportunity(amount=money("1.23456")),
            new_opportunity(currency="USD"),  # differs from the amount's
            new_opportunity(account={"company_id": "c", "name": "n", "country": "XX"}),
            new_opportunity(account_id=""),
            new_opportunity(stage="won"),
        ):
            resp = await client.post("/opportunities", json=bad, headers=ALICE)
            assert resp.status_code == 422, (bad, resp.text)
        resp = await client.post(
            "/opportunities",
            content=b"{not json",
            headers={**ALICE, "Content-Type": "application/json"},
        )
        assert resp.status_code == 400
        resp = await client.post("/opportunities", json=new_opportunity(owner="bob"), headers=ALICE)
        assert resp.status_code == 403
        resp = await client.post("/opportunities", json=new_opportunity(), headers=ANALYST)
        assert resp.status_code == 403
        resp = await client.post("/opportunities", json=new_opportunity())
        assert resp.status_code == 401

        # a manager opens one for a rep of the team; no amount: the given or default currency
        resp = await client.post(
            "/opportunities",
            json=new_opportunity(owner="bob", amount=None, currency="USD"),
            headers=MANAGER,
        )
        assert resp.status_code == 201, resp.text
        assert (resp.json()["owner"], resp.json()["team"]) == ("bob", "south")
        assert resp.json()["currency"] == "USD" and resp.json()["amount"] is None


async def test_other_reps_cannot_see_or_change_an_opportunity(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app) as client:
        opp = await create(client, ALICE)
        url = f"/opportunities/{opp['id']}"
        etag = {"If-Match": '"1"'}

        assert (await client.get(url, headers=BOB)).status_code == 404
        assert (await client.get(url, headers=OTHER_MANAGER)).status_code == 404
        resp = await client.patch(url, json={"next_step": "steal"}, headers={**BOB, **etag})
        assert resp.status_code == 404
        assert (
            await client.post(f"{url}/lose", json={"reason": "x"}, headers=BOB)
        ).status_code == 404
        resp = await client.post(
            f"{url}/activities", json={"kind": "call", "subject": "hi"}, headers=BOB
        )
        assert resp.status_code == 404
        assert (await client.get(f"{url}/activities", headers=BOB)).status_code == 404
        assert await listed(client, BOB) == []
        assert await listed(client, OTHER_MANAGER) == []
        assert (await client.get("/opportunities/nope", headers=ALICE)).status_code == 404

        # the team's manager sees and may reassign; a rep may not
        assert [o["id"] for o in await listed(client, MANAGER)] == [opp["id"]]
        resp = await client.patch(url, json={"owner": "bob"}, headers={**ALICE, **etag})
        assert resp.status_code == 403
        resp = await client.patch(url, json={"owner": "bob"}, headers={**MANAGER, **etag})
        assert resp.status_code == 200 and resp.json()["owner"] == "bob"
        assert (await client.get(url, headers=ALICE)).status_code == 404
        assert (await client.get(url, headers=BOB)).status_code == 200

        # analysts read everything and change nothing
        assert (await client.get(url, headers=ANALYST)).status_code == 200
        resp = await client.patch(url, json={"next_step": "x"}, headers={**ANALYST, **etag})
        assert resp.status_code == 403


async def test_activities_set_the_next_step_and_keep_a_deal_from_going_stale(
    settings: Settings,
) -> None:
    clock = Clock()
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        opp = await create(client, ALICE)
        url = f"/opportunities/{opp['id']}"
        assert opp["stale"] is False
        clock.offset = timedelta(days=15)  # no activity for 15 days (setting: 14)
        body = (await client.get(url, headers=ALICE)).json()
        assert body["stale"] is True
        assert body["time_in_stage"]["qualification"] >= 15 * 86400
        assert [o["id"] for o in await listed(client, ALICE, stale="true")] == [opp["id"]]
        assert await listed(client, ALICE, stale="false") == []

        call = {
            "kind": "call",
            "subject": "Budget check",
            "notes": "CFO on board",
            "next_step": "send proposal",
            "next_step_date": "2026-04-01",
        }
        resp = await client.post(
            f"{url}/activities", json=call, headers={**ALICE, "Idempotency-Key": "a-1"}
        )
        assert resp.status_code == 201, resp.text
        replay = await client.post(
            f"{url}/activities", json=call, headers={**ALICE, "Idempotency-Key": "a-1"}
        )
        assert replay.json() == resp.json()
        body = (await client.get(url, headers=ALICE)).json()
        assert body["stale"] is False
        assert (body["next_step"], body["next_step_date"]) == ("send proposal", "2026-04-01")
        assert body["version"] == 2
        assert await listed(client, ALICE, stale="true") == []

        old = (datetime.now(UTC) - timedelta(days=30)).isoformat()
        resp = await client.post(
            f"{url}/activities",
            json={"kind": "note", "subject": "from the old CRM", "occurred_at": old},
            headers=ALICE,
        )
        assert resp.status_code == 201
        assert (await client.get(url, headers=ALICE)).json()["stale"] is False
        for bad in (
            {"kind": "fax", "subject": "x"},
            {"kind": "call", "subject": ""},
            {"kind": "call", "subject": "x", "occurred_at": "2026-03-01T10:00:00"},  # naive
            {"kind": "call", "subject": "x", "occurred_at": "2999-01-01T10:00:00Z"},  # future
        ):
            resp = await client.post(f"{url}/activities", json=bad, headers=ALICE)
            assert resp.status_code == 422, bad

        page = (await client.get(f"{url}/activities", params={"limit": 1}, headers=ALICE)).json()
        assert [a["subject"] for a in page["items"]] == ["Budget check"]
        rest = await client.get(
            f"{url}/activities", params={"cursor": page["next_cursor"]}, headers=MANAGER
        )
        assert [a["kind"] for a in rest.json()["items"]] == ["note"]


async def test_forecast_weights_the_open_pipeline_per_owner_team_and_currency(
    settings: Settings,
) -> None:
    app = create_app(settings)
    async with running(app) as client:
        await create(client, ALICE, amount=money("10000"), expected_close_date="2026-01-15")
        await create(
            client, ALICE, amount=money("2000"), expected_close_date="2026-02-01", probability=75
        )
        await create(client, BOB, amount=money("1000", "USD"), expected_close_date="2026-03-01")
        await create(client, BOB, amount=money("500"), expected_close_date="2026-04-01")
        await create(client, BOB, amount=None, expected_close_date=None)
        gone = await create(client, BOB, amount=money("99999"), expected_close_date="2026-01-02")
        resp = await client.post(
            f"/opportunities/{gone['id']}/lose", json={"reason": "no budget"}, headers=BOB
        )
        assert resp.status_code == 200

        seen: list[str] = []
        cursor = None
        for _ in range(4):
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/opportunities", params=params, headers=MANAGER)).json()
            seen += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 6
        bad = await client.get("/opportunities", params={"cursor": "garbage"}, headers=MANAGER)
        assert bad.status_code == 422

        resp = await client.get("/forecast", params={"period": "quarter"}, headers=MANAGER)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        owners = {(x["period"], x["currency"], x["owner"]): x for x in body["by_owner"]}
        assert set(owners) == {
            ("2026-Q1", "EUR", "alice"),
            ("2026-Q1", "USD", "bob"),
            ("2026-Q2", "EUR", "bob"),
        }
        alice = owners[("2026-Q1", "EUR", "alice")]
        assert (alice["count"], alice["amount"], alice["weighted"]) == (2, "12000.00", "2500.00")
        assert owners[("2026-Q1", "USD", "bob")]["weighted"] == "100.00"
        assert [(x["period"], x["currency"], x["team"]) for x in body["by_team"]] == [
            ("2026-Q1", "EUR", "south"),
            ("2026-Q1", "USD", "south"),
            ("2026-Q2", "EUR", "south"),
        ]
        assert body["unscheduled"] == 1

        mine = (await client.get("/forecast", params={"period": "month"}, headers=ALICE)).json()
        assert [(x["period"], x["weighted"]) for x in mine["totals"]] == [
            ("2026-01", "1000.00"),
            ("2026-02", "1500.00"),
        ]
        assert (await client.get("/forecast", headers=OTHER_MANAGER)).json()["totals"] == []
        resp = await client.get("/forecast", params={"period": "week"}, headers=MANAGER)
        assert resp.status_code == 422
        ranged = await client.get(
            "/forecast", params={"from": "2026-02-01", "to": "2026-03-31"}, headers=ANALYST
        )
        assert [x["period"] for x in ranged.json()["totals"]] == ["2026-02", "2026-03"]


async def test_a_rep_who_is_also_an_analyst_reads_all_but_changes_only_their_own(
    settings: Settings,
) -> None:
    zoe = bearer("zoe", ["sales_rep", "analyst"], team="north")
    app = create_app(settings)
    async with running(app) as client:
        opp = await create(client, ALICE)
        url = f"/opportunities/{opp['id']}"
        etag = {"If-Match": "*"}

        # analyst: reads every deal
        assert (await client.get(url, headers=zoe)).status_code == 200
        assert (await client.get(f"{url}/activities", headers=zoe)).status_code == 200
        assert [o["id"] for o in await listed(client, zoe)] == [opp["id"]]
        # rep: changes only their own, and another's deal is not there to change
        resp = await client.patch(url, json={"next_step": "hijacked"}, headers={**zoe, **etag})
        assert resp.status_code == 404, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        resp = await client.post(
            f"{url}/activities", json={"kind": "note", "subject": "zoe was here"}, headers=zoe
        )
        assert resp.status_code == 404
        resp = await client.post(f"{url}/lose", json={"reason": "x"}, headers=zoe)
        assert resp.status_code == 404
        body = (await client.get(url, headers=ALICE)).json()
        assert (body["version"], body["stage"], body["next_step"]) == (1, "qualification", None)
        assert (await client.get(f"{url}/activities", headers=ALICE)).json()["items"] == []

        own = await create(client, zoe)
        resp = await client.patch(
            f"/opportunities/{own['id']}", json={"next_step": "call"}, headers={**zoe, **etag}
        )
        assert resp.status_code == 200 and resp.json()["next_step"] == "call"
        # a manager still changes the team's deals, an admin any
        resp = await client.patch(url, json={"next_step": "m"}, headers={**MANAGER, **etag})
        assert resp.status_code == 200
        admin = bearer("root", ["admin"])
        resp = await client.patch(url, json={"next_step": "a"}, headers={**admin, **etag})
        assert resp.status_code == 200


async def test_dates_and_times_outside_the_calendar_are_refused(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app) as client:
        opp = await create(client, ALICE)
        url = f"/opportunities/{opp['id']}"
        for occurred_at in (
            "0001-01-01T00:00:00+14:00",  # no UTC value at all: was a 500
            "0001-01-01T00:00:00Z",
            "1899-12-31T23:59:59Z",
        ):
            resp = await client.post(
                f"{url}/activities",
                json={"kind": "call", "subject": "s", "occurred_at": occurred_at},
                headers=ALICE,
            )
            assert resp.status_code == 422, (occurred_at, resp.text)
            assert resp.headers["content-type"] == "application/problem+json"
        resp = await client.post(
            f"{url}/activities",
            json={"kind": "call", "subject": "s", "next_step_date": "9999-12-31"},
            headers=ALICE,
        )
        assert resp.status_code == 422
        for bad in (
            new_opportunity(expected_close_date="0001-01-01"),
            new_opportunity(next_step_date="9999-12-31"),
            new_opportunity(amount=money("1", "XTS")),  # ISO 4217, but no money
        ):
            resp = await client.post("/opportunities", json=bad, headers=ALICE)
            assert resp.status_code == 422, (bad, resp.text)
        for bad in ({"expected_close_date": "0001-01-01"}, {"next_step_date": "2200-01-01"}):
            resp = await client.patch(url, json=bad, headers={**ALICE, "If-Match": "*"})
            assert resp.status_code == 422, (bad, resp.text)
        resp = await client.get("/forecast", params={"from": "0001-01-01"}, headers=ALICE)
        assert resp.status_code == 422
        body = (await client.get(url, headers=ALICE)).json()
        assert body["version"] == 1  # nothing was written
        assert (await client.get(f"{url}/activities", headers=ALICE)).json()["items"] == []


async def test_reassigning_or_repricing_tells_the_consumers(
    settings: Settings, broker: str
) -> None:
    app = create_app(settings)
    async with running(app) as client:
        opp = await create(client, ALICE)
        url = f"/opportunities/{opp['id']}"
        any_version = {"If-Match": "*"}

        resp = await client.patch(url, json={"owner": "bob"}, headers={**MANAGER, **any_version})
        assert resp.status_code == 200 and resp.json()["version"] == 2
        resp = await client.patch(
            url, json={"amount": money("5000", "CHF")}, headers={**BOB, **any_version}
        )
        assert resp.status_code == 200 and resp.json()["currency"] == "CHF"
        # what no event carries (the next step) changes the version but tells nobody
        resp = await client.patch(url, json={"next_step": "call"}, headers={**BOB, **any_version})
        assert resp.status_code == 200 and resp.json()["version"] == 4
        # the same amount written differently is no change
        resp = await client.patch(
            url, json={"amount": money("5000.0000", "CHF")}, headers={**BOB, **any_version}
        )
        assert resp.json()["version"] == 4

        rows = await outbox(app)
        assert [r.type for r in rows] == [
            "opportunity.opened.v1",
            "opportunity.updated.v1",
            "opportunity.updated.v1",
        ]
        reassigned, repriced = (json.loads(r.payload) for r in rows[1:])
        assert (reassigned["version"], reassigned["owner"], reassigned["currency"]) == (
            2,
            "bob",
            EUR,
        )
        assert reassigned["stage"] == "qualification" and reassigned["changed_by"] == "mia"
        assert (repriced["version"], repriced["owner"]) == (3, "bob")
        assert (repriced["currency"], repriced["amount"]) == ("CHF", money("5000.00", "CHF"))
    records = await read_topic(broker, settings.topic("opportunities.opportunity.v1"), expect=3)
    published = [Envelope.from_record(r.headers, r.value).payload() for r in records]
    assert [(p.version, p.owner, p.currency) for p in published] == [
        (1, "alice", EUR),
        (2, "bob", EUR),
        (3, "bob", "CHF"),
    ]


async def test_amounts_are_shown_with_the_currency_minor_unit(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app) as client:
        yen = await create(client, ALICE, amount=money("3002", "JPY"))
        assert yen["amount"] == money("3002", "JPY")
        dinar = await create(client, ALICE, amount=money("1.5", "BHD"))
        assert dinar["amount"] == money("1.500", "BHD")
        euro = await create(client, ALICE, amount=money("100"))
        assert euro["amount"] == money("100.00")
        fine = await create(client, ALICE, amount=money("0.1234"))
        assert fine["amount"] == money("0.1234")  # an estimate's extra places are kept
        got = (await client.get(f"/opportunities/{yen['id']}", headers=ALICE)).json()
        assert got["amount"] == money("3002", "JPY")
        listed_yen = [o for o in await listed(client, ALICE) if o["id"] == yen["id"]]
        assert listed_yen[0]["amount"] == money("3002", "JPY")
        opened = {
            p["opportunity_id"]: p
            for p in (json.loads(r.payload) for r in await outbox(app, "opportunity.opened.v1"))
        }
        assert opened[yen["id"]]["amount"] == money("3002", "JPY")
        assert opened[dinar["id"]]["amount"] == money("1.500", "BHD")
        forecast = (await client.get("/forecast", headers=ALICE)).json()
        jpy = [x for x in forecast["totals"] if x["currency"] == "JPY"]
        assert [(x["amount"], x["weighted"]) for x in jpy] == [("3002", "300")]
