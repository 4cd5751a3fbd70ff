"""Offers through HTTP with the real broker: creation from the opportunity read model, prices
frozen, approvals, sending, revisions, acceptance exactly once, rejection, expiry, ownership."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from offers_testkit import (
    ADMIN,
    ALICE,
    ANALYST,
    BEN,
    CATALOG,
    MARIA,
    NORBERT,
    OFFER_TOPIC,
    SHIP_TO,
    Harness,
    read_topic,
)

from offers.expiry import expire_due
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.offers import OfferAccepted, OfferCreated


async def test_offer_is_priced_frozen_and_owned_by_the_opportunity_owner(svc: Harness) -> None:
    await svc.seed_catalog()
    opp, opened = await svc.open_opportunity(owner="alice", team="south")
    c = svc.client
    # maria (alice's manager) creates it; the owner is still the opportunity's owner
    offer = await svc.create_offer(opp, headers=MARIA)
    assert offer["owner"] == "alice" and offer["team"] == "south"
    assert offer["status"] == "draft" and offer["approval"] == "not_required"
    assert offer["correlation_id"] == opened.correlation_id
    doc = offer["current"]["document"]
    lathe, hours, manual = doc["lines"]
    assert [line["line_no"] for line in doc["lines"]] == [1, 2, 3]
    assert lathe["unit_price"] == "10000.00" and lathe["net"] == "20000.00"
    assert {o["code"]: o["value"] for o in lathe["options"]} == {
        "voltage": "400V",
        "cooling": "air",
        "engraving": "ACME-01",
    }
    # slab: 10 h at 120 + 6 h at 100
    assert hours["net"] == "1800.00" and hours["kind"] == "service"
    assert manual["unit_price"] == "39.90" and manual["price_source"].startswith("customer price")
    assert manual["tax_rate"] == "7"
    assert doc["totals"]["net"]["amount"] == "21879.80"
    rates = {r["rate"]: r["tax"]["amount"] for r in doc["totals"]["tax_by_rate"]}
    assert rates == {"7": "5.59", "19": "4142.00"}
    assert doc["totals"]["gross"]["amount"] == "26027.39"
    assert offer["net"] == "21879.80" and offer["gross"] == "26027.39"

    # a later price change never alters the offer
    book = (await c.get("/price-books?currency=EUR", headers=ALICE)).json()["items"][0]
    body = {k: book[k] for k in ("name", "currency", "valid_from", "entries")}
    body["entries"][0]["unit_price"] = "12000.00"
    put = await c.put(
        f"/price-books/{book['id']}",
        json=body,
        headers={**CATALOG, "If-Match": f'"{book["version"]}"'},
    )
    assert put.status_code == 200
    again = (await c.get(f"/offers/{offer['id']}", headers=ALICE)).json()
    assert again["current"]["document"] == doc

    # ownership: the owner, her manager, analysts see it; another rep or team does not
    for headers in (ALICE, MARIA, ANALYST, ADMIN):
        assert (await c.get(f"/offers/{offer['id']}", headers=headers)).status_code == 200
    for headers in (BEN, NORBERT):
        assert (await c.get(f"/offers/{offer['id']}", headers=headers)).status_code == 404
        assert (await c.post(f"/offers/{offer['id']}/send", headers=headers)).status_code == 404
    assert (await c.get("/offers", headers=BEN)).json()["items"] == []
    assert [o["id"] for o in (await c.get("/offers", headers=ALICE)).json()["items"]] == [
        offer["id"]
    ]
    # ben cannot quote alice's opportunity either
    resp = await c.post("/offers", json=svc.offer_body(opp), headers=BEN)
    assert resp.status_code == 404


async def test_clients_cannot_set_prices_totals_or_status(svc: Harness) -> None:
    await svc.seed_catalog()
    opp, _ = await svc.open_opportunity()
    c = svc.client
    body = svc.offer_body(opp)
    for sneaky in (
        {**body, "status": "accepted"},
        {**body, "totals": {"net": "1.00"}},
        {**body, "approval": "approved"},
        {**body, "owner": "ben"},
        {**body, "lines": [{**body["lines"][0], "unit_price": "1.00"}]},
        {**body, "lines": [{**body["lines"][0], "net": "1.00"}]},
        {**body, "discount_percent": "101"},
        {**body, "lines": [{**body["lines"][0], "quantity": "0"}]},
        {**body, "lines": [{**body["lines"][0], "quantity": "1e400"}]},
        {**body, "currency": "EURO"},
        {**body, "terms": {"incoterms": "FOB2"}},
        {**body, "lines": [{**body["lines"][0], "quantity": "9999999999"}]},  # total too large
    ):
        resp = await c.post("/offers", json=sneaky, headers=ALICE)
        assert resp.status_code == 422, (sneaky, resp.text)
    broken = {**ALICE, "content-type": "application/json"}
    assert (await c.post("/offers", content=b"{", headers=broken)).status_code == 400
    assert await svc.outbox() == []


async def test_unknown_and_closed_opportunities_and_stale_versions(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    resp = await c.post("/offers", json=svc.offer_body("opp-unknown"), headers=ALICE)
    assert resp.status_code == 404
    opp, _ = await svc.open_opportunity(version=1)
    await svc.publish_opportunity(
        "opportunity.stage_changed.v1",
        opportunity_id=opp,
        version=3,
        stage="negotiation",
        previous_stage="proposal",
        trigger="manual",
    )
    await svc.wait_for_opportunity(opp, 3)
    # a stale event (version 2 < 3) arrives late and is dropped: the opportunity stays open
    await svc.publish_opportunity(
        "opportunity.lost.v1",
        opportunity_id=opp,
        version=2,
        stage="lost",
        previous_stage="proposal",
        lost_reason="price",
    )
    await svc.publish_opportunity(
        "opportunity.stage_changed.v1",
        opportunity_id=opp,
        version=4,
        stage="negotiation",
        previous_stage="negotiation",
        trigger="manual",
        owner="ben",
    )
    row = await svc.wait_for_opportunity(opp, 4)
    assert row.stage == "negotiation" and row.owner == "ben"
    earlier = await c.post("/offers", json=svc.offer_body(opp), headers=BEN)
    assert earlier.status_code == 201
    sent = await c.post("/offers", json=svc.offer_body(opp), headers=BEN)
    assert (await c.post(f"/offers/{sent.json()['id']}/send", headers=BEN)).status_code == 200
    await svc.publish_opportunity(
        "opportunity.won.v1",
        opportunity_id=opp,
        version=5,
        stage="won",
        owner="ben",
        amount={"amount": "1", "currency": "EUR"},
        offer_id="x",
        offer_version=1,
    )
    await svc.wait_for_opportunity(opp, 5)
    resp = await c.post("/offers", json=svc.offer_body(opp), headers=BEN)
    assert resp.status_code == 409
    assert "won" in resp.json()["detail"]
    # offers of a closed opportunity cannot move on either
    oid = earlier.json()["id"]
    assert (await c.post(f"/offers/{oid}/send", headers=BEN)).status_code == 409
    resp = await c.post(f"/offers/{oid}/revise", json={"notes": "x"}, headers=BEN)
    assert resp.status_code == 409
    accept = {"accepted_by": "Erika Muster", "accepted_on": "2026-03-02", "ship_to": SHIP_TO}
    resp = await c.post(f"/offers/{sent.json()['id']}/accept", json=accept, headers=BEN)
    assert resp.status_code == 409 and "won" in resp.json()["detail"]


async def test_invalid_configuration_names_every_violated_rule(svc: Harness) -> None:
    await svc.seed_catalog()
    opp, _ = await svc.open_opportunity()
    body = svc.offer_body(
        opp,
        lines=[
            {
                "sku": "LATHE-500",
                "quantity": "1",
                "options": [
                    {"code": "voltage", "value": "480V"},
                    {"code": "cooling", "value": "water"},
                    {"code": "plug", "value": "UK"},
                ],
            },
            {
                "sku": "LATHE-500",
                "quantity": "1",
                "options": [
                    {"code": "voltage", "value": "230V"},
                    {"code": "cooling", "value": "water"},
                ],
            },
            {"sku": "NOPE", "quantity": "1"},
            {"sku": "LATHE-500", "quantity": "1"},
        ],
    )
    resp = await svc.client.post("/offers", json=body, headers=ALICE)
    assert resp.status_code == 422
    found = sorted((v["line_no"], v["rule"]) for v in resp.json()["violations"])
    assert found == [
        (1, "requires:voltage=480V requires plug=US"),
        (1, "value_not_allowed"),
        (2, "excludes:no-water-230V"),
        (3, "unknown_sku"),
        (4, "option_required"),
    ]
    # a currency without prices is refused line by line
    resp = await svc.client.post("/offers", json=svc.offer_body(opp, currency="JPY"), headers=ALICE)
    assert resp.status_code == 422
    assert {v["rule"] for v in resp.json()["violations"]} == {"no_price"}


async def test_discount_approval_by_a_manager_who_is_not_the_owner(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, _ = await svc.open_opportunity(owner="alice", team="south")
    # within alice's 10 % limit: no approval needed
    offer = await svc.create_offer(opp, discount_percent="10")
    assert offer["status"] == "draft"
    # 12 % on the lathe line plus 5 % on the document: above the limit
    lines = svc.offer_body(opp)["lines"]
    lines[0]["discount_percent"] = "12"
    offer = await svc.create_offer(opp, lines=lines, discount_percent="5")
    oid = offer["id"]
    assert offer["status"] == "approval_pending" and offer["approval"] == "pending"
    assert offer["current"]["approval_reasons"] == [
        "line 1: discount 16.4% > 10% allowed for sales_rep"
    ]
    resp = await c.post(f"/offers/{oid}/send", headers=ALICE)
    assert resp.status_code == 409 and "approval" in resp.json()["detail"]
    decision = {"decision": "approve", "comment": "strategic customer"}
    # a rep cannot approve; a manager who owns the offer cannot either; other teams cannot see it
    assert (await c.post(f"/offers/{oid}/approve", json=decision, headers=ALICE)).status_code == 403
    opp_m, _ = await svc.open_opportunity(owner="maria", team="south")
    lines_m = svc.offer_body(opp_m)["lines"]
    lines_m[0]["discount_percent"] = "30"
    own = await svc.create_offer(opp_m, headers=MARIA, lines=lines_m)
    assert own["status"] == "approval_pending"  # 30 % > maria's 20 %
    resp = await c.post(f"/offers/{own['id']}/approve", json=decision, headers=MARIA)
    assert resp.status_code == 403 and "owner" in resp.json()["detail"]
    assert (
        await c.post(f"/offers/{oid}/approve", json=decision, headers=NORBERT)
    ).status_code == 404
    # a rejection needs a comment
    resp = await c.post(f"/offers/{oid}/approve", json={"decision": "reject"}, headers=MARIA)
    assert resp.status_code == 422
    resp = await c.post(f"/offers/{oid}/approve", json=decision, headers=MARIA)
    assert resp.status_code == 200, resp.text
    approved = resp.json()
    assert approved["status"] == "approved"
    assert approved["current"]["decided_by"] == "maria"
    assert (await c.post(f"/offers/{oid}/approve", json=decision, headers=MARIA)).status_code == 409
    resp = await c.post(f"/offers/{oid}/send", headers=ALICE)
    assert resp.status_code == 200 and resp.json()["status"] == "sent"
    assert await svc.types(oid) == [
        "offer.created.v1",
        "offer.approval_requested.v1",
        "offer.approved.v1",
        "offer.sent.v1",
    ]
    events = await svc.outbox(oid)
    requested = events[1]["data"]
    assert requested["requested_by"] == "alice"
    assert requested["max_discount_percent"] == "16.4"
    assert [e["data"]["version"] for e in events] == [1, 2, 3, 4]
    assert events[2]["data"]["approved_by"] == "maria"

    # a rejected approval sends the offer back to draft: it cannot be sent until revised
    again = await svc.create_offer(opp, lines=lines)
    resp = await c.post(
        f"/offers/{again['id']}/approve",
        json={"decision": "reject", "comment": "too much"},
        headers=MARIA,
    )
    assert resp.json()["status"] == "draft" and resp.json()["approval"] == "rejected"
    assert resp.json()["current"]["decision_comment"] == "too much"
    resp = await c.post(f"/offers/{again['id']}/send", headers=ALICE)
    assert resp.status_code == 409 and "rejected" in resp.json()["detail"]
    lines[0]["discount_percent"] = "8"
    revised = await c.post(f"/offers/{again['id']}/revise", json={"lines": lines}, headers=ALICE)
    assert revised.status_code == 201 and revised.json()["status"] == "draft"
    assert (await c.post(f"/offers/{again['id']}/send", headers=ALICE)).status_code == 200


async def test_revisions_keep_every_version_and_need_approval_again(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, _ = await svc.open_opportunity()
    offer = await svc.create_offer(opp)
    oid = offer["id"]
    assert (await c.post(f"/offers/{oid}/send", headers=ALICE)).status_code == 200
    lines = svc.offer_body(opp)["lines"]
    lines[0]["quantity"] = "5"  # reaches the 9,500 tier
    lines[0]["line_no"] = 1
    lines[1]["line_no"] = 2
    del lines[2]  # the manual goes
    lines.append({"sku": "STARTER-KIT", "quantity": "1"})
    resp = await c.post(
        f"/offers/{oid}/revise",
        json={"lines": lines, "terms": {"payment_terms": "14 days 2 %", "payment_days": 14}},
        headers=ALICE,
    )
    assert resp.status_code == 201, resp.text
    v2 = resp.json()
    assert v2["offer_version"] == 2 and v2["sent_version"] == 1 and v2["status"] == "draft"
    changes = v2["current"]["changes"]
    assert "line 3 removed (MANUAL)" in changes
    assert "line 4 added: 1 × STARTER-KIT" in changes
    assert "line 1 quantity 2 -> 5" in changes
    assert "line 1 unit price 10000.00 -> 9500.00" in changes
    assert "payment days 30 -> 14" in changes
    kit = v2["current"]["document"]["lines"][-1]
    assert kit["line_no"] == 4 and kit["kind"] == "goods"
    assert [(p["sku"], p["quantity"], p["kind"]) for p in kit["components"]] == [
        ("MANUAL", "1", "goods"),
        ("INSTALL-H", "4", "service"),
    ]
    # the customer cannot accept v1 any more: only the latest version, and it is not sent yet
    accept = {"accepted_by": "Erika Muster", "accepted_on": "2026-03-02"}
    resp = await c.post(f"/offers/{oid}/accept", json={**accept, "offer_version": 1}, headers=ALICE)
    assert resp.status_code == 409
    assert (await c.post(f"/offers/{oid}/accept", json=accept, headers=ALICE)).status_code == 409
    # every version stays readable as it was
    v1 = (await c.get(f"/offers/{oid}/versions/1", headers=ALICE)).json()
    assert v1["document"] == offer["current"]["document"] and v1["sent_by"] == "alice"
    assert (await c.get(f"/offers/{oid}/versions/3", headers=ALICE)).status_code == 404
    listed = (await c.get(f"/offers/{oid}/versions", headers=ALICE)).json()["items"]
    assert [v["number"] for v in listed] == [1, 2]
    # a revision above the limit needs approval again
    resp = await c.post(f"/offers/{oid}/revise", json={"discount_percent": "15"}, headers=ALICE)
    v3 = resp.json()
    assert v3["status"] == "approval_pending" and v3["offer_version"] == 3
    assert "document discount 0% -> 15%" in v3["current"]["changes"]
    assert (await c.post(f"/offers/{oid}/revise", json={}, headers=ALICE)).status_code == 422
    types = await svc.types(oid)
    assert types == [
        "offer.created.v1",
        "offer.sent.v1",
        "offer.revised.v1",
        "offer.revised.v1",
        "offer.approval_requested.v1",
    ]
    revised = (await svc.outbox(oid))[3]["data"]
    assert revised["offer_version"] == 3 and revised["previous_offer_version"] == 2
    assert revised["approval_required"] is True and revised["changes"] == v3["current"]["changes"]
    assert revised["bundle_components"][0]["sku"] == "MANUAL"


async def test_accept_exactly_once_with_the_complete_priced_contract(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, opened = await svc.open_opportunity()
    offer = await svc.create_offer(opp)
    oid = offer["id"]
    accept = {
        "customer_po_number": "PO-4711",
        "accepted_by": "Erika Muster",
        "accepted_on": "2026-03-02",
    }
    assert (await c.post(f"/offers/{oid}/accept", json=accept, headers=ALICE)).status_code == 409
    assert (await c.post(f"/offers/{oid}/send", headers=ALICE)).status_code == 200
    key = {"Idempotency-Key": "accept-po-4711"}
    first = await c.post(f"/offers/{oid}/accept", json=accept, headers={**ALICE, **key})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted"
    assert first.json()["outcome"]["customer_po_number"] == "PO-4711"
    retry = await c.post(f"/offers/{oid}/accept", json=accept, headers={**ALICE, **key})
    assert retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers.get("idempotent-replayed") == "true"
    second = await c.post(f"/offers/{oid}/accept", json=accept, headers=ALICE)
    assert second.status_code == 409
    other_key = await c.post(
        f"/offers/{oid}/accept", json=accept, headers={**ALICE, "Idempotency-Key": "another"}
    )
    assert other_key.status_code == 409
    reject = await c.post(f"/offers/{oid}/reject", json={"reason": "late"}, headers=ALICE)
    assert reject.status_code == 409
    assert (
        await c.post(f"/offers/{oid}/revise", json={"notes": "x"}, headers=ALICE)
    ).status_code == 409
    assert (await svc.types(oid)).count("offer.accepted.v1") == 1

    # racing acceptances of another offer: exactly one wins
    racing = await svc.create_offer(opp)
    assert (await c.post(f"/offers/{racing['id']}/send", headers=ALICE)).status_code == 200
    answers = await asyncio.gather(
        *(
            c.post(
                f"/offers/{racing['id']}/accept",
                json=accept,
                headers={**ALICE, "Idempotency-Key": f"race-{i}"},
            )
            for i in range(5)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    assert (await svc.types(racing["id"])).count("offer.accepted.v1") == 1

    # the events went through the real broker, keyed by offer, in the opportunity's journey
    records = await read_topic(svc.broker, svc.settings.topic(OFFER_TOPIC), expect=3)
    events = [Envelope.from_record(r.headers, r.value) for r in records]
    mine = [e for e in events if e.subject == oid]
    assert [e.type for e in mine] == ["offer.created.v1", "offer.sent.v1", "offer.accepted.v1"]
    assert {e.correlation_id for e in mine} == {opened.correlation_id}
    assert all(r.key.decode() == oid for r in records if r.key.decode() == oid)
    created = mine[0].payload()
    assert isinstance(created, OfferCreated) and created.created_by == "alice"
    accepted = mine[2].payload()
    assert isinstance(accepted, OfferAccepted)
    assert accepted.status == "accepted" and accepted.offer_version == 1
    assert accepted.customer_po_number == "PO-4711" and accepted.accepted_by == "Erika Muster"
    assert accepted.opportunity_id == opp and accepted.customer.name == "Acme Maschinenbau GmbH"
    assert accepted.ship_to.city == "Garching" and accepted.bill_to.city == "Garching"
    assert accepted.currency == "EUR" and accepted.totals.gross.amount == Decimal("26027.39")
    assert [line.sku for line in accepted.lines] == ["LATHE-500", "INSTALL-H", "MANUAL"]
    assert sum(line.net.amount for line in accepted.lines) == accepted.totals.net.amount
    assert sum(line.tax.amount for line in accepted.lines) == accepted.totals.tax.amount
    assert accepted.lines[0].options[0].code == "voltage"
    assert accepted.terms.incoterms == "DAP" and accepted.terms.payment_days == 30
    assert mine[2].causation_id is None and mine[2].source == "/salesflow/offers"


async def test_reject_and_expiry(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, _ = await svc.open_opportunity()
    rejected = await svc.create_offer(opp)
    assert (await c.post(f"/offers/{rejected['id']}/send", headers=ALICE)).status_code == 200
    resp = await c.post(
        f"/offers/{rejected['id']}/reject",
        json={"reason": "budget frozen", "rejected_by": "Erika Muster"},
        headers=ALICE,
    )
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    assert (await svc.outbox(rejected["id"]))[-1]["data"]["reason"] == "budget frozen"

    sent = await svc.create_offer(opp, valid_until="2026-03-10")
    assert (await c.post(f"/offers/{sent['id']}/send", headers=ALICE)).status_code == 200
    draft = await svc.create_offer(opp, valid_until="2026-03-31")
    # valid through its last day
    svc.clock.advance(days=8)  # 2026-03-10
    assert await expire_due(svc.app.state.db, svc.settings, svc.clock) == 0
    svc.clock.advance(days=1)  # 2026-03-11
    accept = {"accepted_by": "Erika Muster", "accepted_on": "2026-03-10"}
    resp = await c.post(f"/offers/{sent['id']}/accept", json=accept, headers=ALICE)
    assert resp.status_code == 409 and "expired" in resp.json()["detail"]
    assert await expire_due(svc.app.state.db, svc.settings, svc.clock) == 1
    assert await expire_due(svc.app.state.db, svc.settings, svc.clock) == 0  # exactly once
    got = (await c.get(f"/offers/{sent['id']}", headers=ALICE)).json()
    assert got["status"] == "expired" and got["outcome"]["outcome"] == "expired"
    assert (await svc.types(sent["id"]))[-1] == "offer.expired.v1"
    assert (await c.get(f"/offers/{draft['id']}", headers=ALICE)).json()["status"] == "draft"
    # validity bounds at creation
    resp = await c.post(
        "/offers", json=svc.offer_body(opp, valid_until="2026-03-01"), headers=ALICE
    )
    assert resp.status_code == 422
    resp = await c.post(
        "/offers", json=svc.offer_body(opp, valid_until="2028-01-01"), headers=ALICE
    )
    assert resp.status_code == 422
    default = await svc.create_offer(opp, valid_until=None)
    assert default["valid_until"] == "2026-04-10"  # today + 30 days


async def test_the_background_task_expires_offers(
    settings_for, database_url: str, clock, broker: str
) -> None:
    from offers.config import Settings
    from offers.main import SPEC, create_app
    from salesflow.testing.helpers import eventually, running
    from salesflow.testing.plugin import migrate

    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings, expiry_interval_s=0.1)
    app = create_app(settings, clock)
    async with running(app) as client:
        svc = Harness(app, client, settings, clock, broker)
        try:
            await svc.seed_catalog()
            opp, _ = await svc.open_opportunity()
            offer = await svc.create_offer(opp, valid_until="2026-03-05")
            assert (
                await client.post(f"/offers/{offer['id']}/send", headers=ALICE)
            ).status_code == 200
            clock.advance(days=4)

            async def expired() -> bool:
                got = await client.get(f"/offers/{offer['id']}", headers=ALICE)
                return got.json()["status"] == "expired"

            await eventually(expired, timeout=10, message="offer not expired by the task")
            assert (await svc.types(offer["id"]))[-1] == "offer.expired.v1"
        finally:
            await svc.close()


async def test_ship_to_is_needed_to_accept(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, _ = await svc.open_opportunity()
    offer = await svc.create_offer(opp, ship_to=None)
    assert (await c.post(f"/offers/{offer['id']}/send", headers=ALICE)).status_code == 200
    accept = {"accepted_by": "Erika Muster", "accepted_on": "2026-03-02"}
    resp = await c.post(f"/offers/{offer['id']}/accept", json=accept, headers=ALICE)
    assert resp.status_code == 422
    resp = await c.post(
        f"/offers/{offer['id']}/accept",
        json={**accept, "accepted_on": "2026-03-03", "ship_to": SHIP_TO},
        headers=ALICE,
    )
    assert resp.status_code == 422  # accepted in the future
    resp = await c.post(
        f"/offers/{offer['id']}/accept", json={**accept, "ship_to": SHIP_TO}, headers=ALICE
    )
    assert resp.status_code == 200, resp.text
    data = (await svc.outbox(offer["id"]))[-1]["data"]
    assert data["ship_to"]["street"] == "Werkstraße 5" and data["bill_to"] == data["ship_to"]
