"""From touchpoints to conversion through HTTP, with the events staged in the outbox and
published to the real broker."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leads.config import Settings
from salesflow.contracts.envelope import Envelope
from salesflow.testing.helpers import bearer
from salesflow.testing.kafka import read_topic

from .conftest import MARKETING

ANN = bearer("ann", ["sales_rep"], team="south")
BOB = bearer("bob", ["sales_rep"], team="south")
MANAGER = bearer("maria", ["sales_manager"], team="south")
NOW = datetime.now(UTC)

SCORING = {
    "mql_threshold": "60",
    "fit_rules": [
        {"field": "nace", "value": "K", "points": "20"},
        {"field": "size_class", "value": "medium", "points": "10"},
    ],
    "engagement": {
        "whitepaper_download": {"points": "15"},
        "demo_request": {"points": "30"},
        "page_visit": {"points": "1", "cap": "3"},
    },
    "half_life_days": "30",
}
ROUTING = {
    "territories": [{"name": "de-it", "team": "south", "countries": ["DE"], "nace": ["K"]}],
    "teams": [{"name": "south", "reps": [{"id": "ann"}, {"id": "bob"}]}],
    "default_capacity": 5,
    "fallback_queue": "triage",
}


async def company_and_scoring(client: httpx.AsyncClient) -> int:
    """One imported company (its id) and the scoring model of these tests."""
    csv = (
        "name,country,region,postal_code,nace,employees,website\n"
        "Acme Software GmbH,DE,DE212,80331,62.10,120,https://www.acme-soft.example.com\n"
    )
    imported = await client.post(
        "/companies/import", content=csv.encode(), headers={**MARKETING, "content-type": "text/csv"}
    )
    assert imported.json()["accepted"] == 1
    model = await client.put(
        "/scoring-model", json=SCORING, headers={**MARKETING, "If-Match": '"1"'}
    )
    assert model.status_code == 200, model.text
    return (await client.get("/companies", headers=MARKETING)).json()["items"][0]["id"]


async def setup(client: httpx.AsyncClient, routing: dict | None = None) -> int:
    company_id = await company_and_scoring(client)
    rules = await client.put(
        "/routing-rules", json=routing or ROUTING, headers={**MANAGER, "If-Match": '"1"'}
    )
    assert rules.status_code == 200, rules.text
    return company_id


async def touch(client: httpx.AsyncClient, kind: str, **ref: Any) -> dict:
    body = {"channel": "web", "kind": kind, "occurred_at": datetime.now(UTC).isoformat(), **ref}
    resp = await client.post("/touchpoints", json=body, headers=MARKETING)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_journey_from_interest_to_conversion(
    client: httpx.AsyncClient, outbox: Any, leads_settings: Settings, broker: str
) -> None:
    company_id = await setup(client)

    visit = await touch(client, "page_visit", domain="acme-soft.example.com")
    assert (visit["company_id"], visit["lead_id"]) == (company_id, None)  # engagement only

    download = await touch(
        client,
        "whitepaper_download",
        email="eva@acme-soft.example.com",
        contact_name="Eva Ek",
        campaign="wp-2026",
    )
    assert download["lead_created"] and download["lead_status"] == "unqualified"
    assert download["score"] == "46.00"  # K 20 + medium 10 + download 15 + visit 1
    lead_id = download["lead_id"]

    demo = await touch(client, "demo_request", company_id=company_id)
    assert (demo["lead_id"], demo["lead_status"], demo["score"]) == (lead_id, "mql", "76.00")

    events = await outbox()
    assert [e[0] for e in events] == [
        "lead.created.v1",
        "lead.scored.v1",
        "lead.mql.v1",
        "lead.assigned.v1",
    ]
    assert {e[1] for e in events} == {lead_id}  # key = aggregate id
    assert [e[3]["version"] for e in events] == [1, 2, 3, 4]
    correlation = {e[2]["ce_correlationid"] for e in events}
    assert len(correlation) == 1
    created, scored, mql, assigned = (e[3] for e in events)
    assert created["company"]["nace_section"] == "K"
    assert created["company"]["size_class"] == "medium"
    assert (created["touchpoint_kind"], created["source_campaign"]) == (
        "whitepaper_download",
        "wp-2026",
    )
    assert (scored["previous_score"], scored["score"], scored["trigger"]) == (
        "46.00",
        "76.00",
        "touchpoint",
    )
    assert (mql["threshold"], mql["scoring_model_version"]) == ("60", 2)
    assert (assigned["owner"], assigned["team"], assigned["routing_rule"]) == (
        "ann",
        "south",
        "de-it",
    )
    assert assigned["assigned_by"] == "routing"

    detail = (await client.get(f"/leads/{lead_id}", headers=ANN)).json()
    breakdown = detail["score_breakdown"]
    assert (breakdown["fit"], breakdown["engagement"], breakdown["total"]) == (
        "30.00",
        "46.00",
        "76.00",
    )
    assert [r["value"] for r in breakdown["fit_rules"]] == ["K", "medium"]
    assert {k["kind"] for k in breakdown["engagement_by_kind"]} == {
        "page_visit",
        "whitepaper_download",
        "demo_request",
    }
    assert len(detail["touchpoints"]) == 3

    # rules of the state machine and of ownership
    assert (await client.get(f"/leads/{lead_id}", headers=BOB)).status_code == 404
    assert (await client.get(f"/leads/{lead_id}", headers=MARKETING)).status_code == 200
    qualify = {
        "contact": {"name": "Eva Ek", "email": "eva@acme-soft.example.com", "role": "CTO"},
        "needs": {
            "budget": {"amount": "50000", "currency": "EUR"},
            "authority": "CTO decides",
            "need": "CRM integration",
            "timeline": "Q3",
        },
        "first_contact_at": NOW.isoformat(),
    }
    assert (
        await client.post(f"/leads/{lead_id}/qualify", json=qualify, headers=MARKETING)
    ).status_code == 403
    assert (
        await client.post(f"/leads/{lead_id}/qualify", json=qualify, headers=BOB)
    ).status_code == 404
    early = await client.post(f"/leads/{lead_id}/convert", json={}, headers=ANN)
    assert early.status_code == 409
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["lead_status"] == "mql"

    sql = await client.post(f"/leads/{lead_id}/qualify", json=qualify, headers=ANN)
    assert sql.status_code == 200, sql.text
    assert sql.json()["status"] == "sql"
    converted = await client.post(
        f"/leads/{lead_id}/convert",
        json={
            "expected_amount": {"amount": "48000", "currency": "EUR"},
            "expected_close_date": "2026-09-30",
        },
        headers=ANN,
    )
    assert converted.status_code == 200, converted.text
    assert converted.json()["status"] == "converted"
    again = await client.post(f"/leads/{lead_id}/disqualify", json={"reason": "x"}, headers=ANN)
    assert again.status_code == 409

    events = await outbox()
    assert [e[0] for e in events][-2:] == ["lead.sql.v1", "lead.converted.v1"]
    handoff = events[-1][3]
    assert handoff["owner"] == "ann" and handoff["team"] == "south"
    assert handoff["contact"] == {
        "name": "Eva Ek",
        "email": "eva@acme-soft.example.com",
        "phone": None,
        "role": "CTO",
    }
    assert handoff["needs"]["budget"] == {"amount": "50000", "currency": "EUR"}
    assert handoff["expected_amount"] == {"amount": "48000", "currency": "EUR"}
    assert (handoff["score"], handoff["source_campaign"]) == ("76.00", "wp-2026")
    assert handoff["company"]["company_id"] == str(company_id)

    # the relay published all six with CloudEvents headers, in order, keyed by the lead
    records = await read_topic(broker, leads_settings.topic("leads.lead.v1"), expect=6)
    published = [Envelope.from_record(r.headers, r.value) for r in records]
    assert [e.type for e in published] == [e[0] for e in events]
    assert {r.key.decode() for r in records} == {lead_id}
    last = published[-1]
    assert (last.source, last.subject) == ("/salesflow/leads", lead_id)
    assert last.correlation_id == correlation.pop()
    assert last.data["lead_id"] == lead_id and last.payload().owner == "ann"


async def test_batch_touchpoints_report_per_item(client: httpx.AsyncClient, outbox: Any) -> None:
    company_id = await setup(client)
    base = {"channel": "email", "occurred_at": NOW.isoformat()}
    batch = {
        "items": [
            {**base, "kind": "email_click", "company_id": company_id, "external_id": "m-1"},
            {**base, "kind": "email_click", "domain": "nowhere.example.org"},
            {**base, "kind": "email_click", "company_id": company_id, "external_id": "m-1"},
            {
                **base,
                "kind": "newsletter_signup",
                "email": "ken@newco.example.org",
                "company": {"name": "NewCo", "country": "FR"},
            },
        ]
    }
    resp = await client.post("/touchpoints", json=batch, headers=MARKETING)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["accepted"], body["rejected"]) == (3, 1)
    first, unknown, repeat, newco = body["items"]
    assert first["ok"] and not first["result"]["duplicate"]
    assert not unknown["ok"] and "unknown company" in unknown["error"]
    assert (
        repeat["result"]["duplicate"]
        and repeat["result"]["touchpoint_id"] == first["result"]["touchpoint_id"]
    )
    assert newco["result"]["company_created"] and newco["result"]["lead_created"]
    assert [e[0] for e in await outbox()] == ["lead.created.v1"]
    rep = await client.post("/touchpoints", json=batch, headers=ANN)
    assert rep.status_code == 403


async def test_a_company_hint_without_postal_code_is_found_again(client: httpx.AsyncClient) -> None:
    """Touchpoints naming the same company by name and country alone (no postal code, website or
    e-mail) reach the company the first one created, and its lead, not a new one each time."""
    await setup(client)

    async def hinted(kind: str, name: str, country: str = "DE") -> dict:
        body = {
            "channel": "web",
            "kind": kind,
            "occurred_at": NOW.isoformat(),
            "company": {"name": name, "country": country},
        }
        resp = await client.post("/touchpoints", json=body, headers=MARKETING)
        assert resp.status_code == 201, resp.text
        return resp.json()

    first = await hinted("demo_request", "Hint Works GmbH")
    assert first["company_created"] and first["lead_created"]
    again = await hinted("page_visit", "HINT WORKS gmbh")
    assert not again["company_created"] and not again["lead_created"]
    assert (again["company_id"], again["lead_id"]) == (first["company_id"], first["lead_id"])
    elsewhere = await hinted("page_visit", "Hint Works GmbH", country="AT")
    assert elsewhere["company_created"] and elsewhere["company_id"] != first["company_id"]


async def test_one_batch_creates_rescores_and_qualifies_a_lead(
    client: httpx.AsyncClient, outbox: Any
) -> None:
    """One transaction: the lead is created (ORM), rescored (Core UPDATE), then crosses the MQL
    threshold (the ORM row, refreshed from what the Core UPDATE wrote): versions stay in step."""
    company_id = await setup(client)
    base = {"channel": "web", "occurred_at": NOW.isoformat(), "company_id": company_id}
    kinds = ["whitepaper_download", "page_visit", "page_visit", "demo_request"]
    batch = {"items": [{**base, "kind": kind} for kind in kinds]}
    resp = await client.post("/touchpoints", json=batch, headers=MARKETING)
    assert resp.status_code == 200, resp.text
    results = [item["result"] for item in resp.json()["items"]]
    assert [(r["lead_status"], r["score"]) for r in results] == [
        ("unqualified", "45.00"),
        ("unqualified", "46.00"),
        ("unqualified", "47.00"),
        ("mql", "77.00"),
    ]
    lead_id = results[0]["lead_id"]
    assert results[0]["lead_created"] and {r["lead_id"] for r in results} == {lead_id}

    events = await outbox()
    assert [(e[0], e[3]["version"], e[3]["score"]) for e in events] == [
        ("lead.created.v1", 1, "45.00"),
        ("lead.scored.v1", 2, "46.00"),
        ("lead.scored.v1", 3, "47.00"),
        ("lead.scored.v1", 4, "77.00"),
        ("lead.mql.v1", 5, "77.00"),
        ("lead.assigned.v1", 6, "77.00"),
    ]
    assert [e[3].get("previous_score") for e in events[1:4]] == ["45.00", "46.00", "47.00"]
    assert [e[3]["touchpoint_id"] for e in events[1:4]] == [r["touchpoint_id"] for r in results[1:]]
    detail = (await client.get(f"/leads/{lead_id}", headers=MARKETING)).json()
    assert (detail["version"], detail["status"], detail["score"]) == (6, "mql", "77.00")
    assert detail["score_breakdown"]["engagement"] == "47.00"
    assert len(detail["touchpoints"]) == 4
    company = (await client.get(f"/companies/{company_id}", headers=MARKETING)).json()
    assert company["status"] == "lead"


async def test_manager_reassigns_and_rep_disqualifies_with_recycling(
    client: httpx.AsyncClient, outbox: Any
) -> None:
    company_id = await setup(client)
    await touch(client, "whitepaper_download", company_id=company_id)
    lead_id = (await touch(client, "demo_request", company_id=company_id))["lead_id"]

    moved = await client.post(f"/leads/{lead_id}/assign", json={"owner": "bob"}, headers=MANAGER)
    assert moved.status_code == 200 and moved.json()["owner"] == "bob"
    assigned = (await outbox("lead.assigned.v1"))[-1][3]
    assert (assigned["previous_owner"], assigned["assigned_by"]) == ("ann", "maria")
    assert (await client.get(f"/leads/{lead_id}", headers=ANN)).status_code == 404
    assert (await client.get(f"/leads/{lead_id}", headers=BOB)).status_code == 200
    other_team = bearer("olga", ["sales_manager"], team="north")
    assert (
        await client.post(f"/leads/{lead_id}/assign", json={"owner": "x"}, headers=other_team)
    ).status_code == 404

    recycled = await client.post(
        f"/leads/{lead_id}/disqualify",
        json={"reason": "no budget this year", "recycle": True},
        headers=BOB,
    )
    assert recycled.status_code == 200, recycled.text
    body = recycled.json()
    assert (body["status"], body["owner"], body["score"]) == ("nurturing", None, "30.00")
    event = (await outbox("lead.disqualified.v1"))[-1][3]
    assert (event["recycled"], event["reason"], event["status"]) == (
        True,
        "no budget this year",
        "nurturing",
    )
    # a nurturing lead is recycled already: again is no transition (nothing changes, no event)
    again = await client.post(
        f"/leads/{lead_id}/disqualify",
        json={"reason": "still later", "recycle": True},
        headers=MANAGER,
    )
    assert again.status_code == 409, again.text
    assert again.json()["lead_status"] == "nurturing"
    assert len(await outbox("lead.disqualified.v1")) == 1

    # engagement counts afresh: a download (30 + 15) is not enough, a demo request too is
    assert (await touch(client, "whitepaper_download", company_id=company_id))[
        "lead_status"
    ] == "nurturing"
    again = await touch(client, "demo_request", company_id=company_id)
    assert again["lead_status"] == "mql" and again["lead_id"] == lead_id
    assert (await outbox("lead.assigned.v1"))[-1][3]["assigned_by"] == "routing"

    closed = await client.post(
        f"/leads/{lead_id}/disqualify", json={"reason": "competitor"}, headers=MANAGER
    )
    assert closed.json()["status"] == "disqualified"
    # the company's next interest opens a new lead (a new journey)
    fresh = await touch(client, "webinar_registered", company_id=company_id)
    assert fresh["lead_created"] and fresh["lead_id"] != lead_id


async def test_fallback_queue_and_routing_when_capacity_frees(
    client: httpx.AsyncClient, outbox: Any, leads_settings: Settings
) -> None:
    from leads.app.rescoring import route_queued

    rules = {**ROUTING, "teams": [{"name": "south", "reps": [{"id": "ann", "capacity": 1}]}]}
    company_id = await setup(client, rules)
    second = await client.post(
        "/companies/import",
        content=b"name,country,postal_code,nace,employees\nOther GmbH,DE,10115,62.20,80\n",
        headers={**MARKETING, "content-type": "text/csv"},
    )
    assert second.json()["accepted"] == 1
    other_id = company_id + 1
    first_lead = (await touch(client, "demo_request", company_id=company_id))["lead_id"]
    await touch(client, "whitepaper_download", company_id=company_id)
    await touch(client, "demo_request", company_id=other_id)
    queued_lead = (await touch(client, "whitepaper_download", company_id=other_id))["lead_id"]

    queued = (await client.get(f"/leads/{queued_lead}", headers=MANAGER)).json()
    assert (queued["status"], queued["owner"], queued["queue"], queued["team"]) == (
        "mql",
        None,
        "triage",
        "south",
    )
    event = (await outbox("lead.assigned.v1"))[-1][3]
    assert (event["queue"], event["owner"]) == ("triage", None)

    await client.post(f"/leads/{first_lead}/disqualify", json={"reason": "duplicate"}, headers=ANN)
    app = client.app  # type: ignore[attr-defined]
    assert await route_queued(app.state.db, leads_settings, datetime.now(UTC)) == 1
    routed = (await client.get(f"/leads/{queued_lead}", headers=ANN)).json()
    assert (routed["owner"], routed["queue"]) == ("ann", None)


async def test_time_and_model_changes_rescore(
    client: httpx.AsyncClient, outbox: Any, leads_settings: Settings
) -> None:
    from leads.app.rescoring import rescore_open_leads

    company_id = await setup(client)
    lead_id = (await touch(client, "whitepaper_download", company_id=company_id))["lead_id"]
    app = client.app  # type: ignore[attr-defined]
    run = await rescore_open_leads(app.state.db, leads_settings, NOW + timedelta(days=30))
    assert (run.examined, run.changed) == (1, 1)
    decayed = (await outbox("lead.scored.v1"))[-1][3]
    assert (decayed["trigger"], decayed["score"]) == ("decay", "37.50")  # 30 fit + 15 halved
    # less than rescore_min_delta (1 point) of further decay emits nothing
    quiet = await rescore_open_leads(app.state.db, leads_settings, NOW + timedelta(days=31))
    assert quiet.changed == 0

    current = await client.get("/scoring-model", headers=MARKETING)
    assert current.headers["etag"] == '"2"'
    stale = await client.put(
        "/scoring-model", json=SCORING, headers={**MARKETING, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert (await client.put("/scoring-model", json=SCORING, headers=MARKETING)).status_code == 428
    newer = {**SCORING, "fit_rules": [{"field": "country", "value": "DE", "points": "5"}]}
    stored = await client.put(
        "/scoring-model", json=newer, headers={**MARKETING, "If-Match": '"2"'}
    )
    assert stored.json()["version"] == 3
    run = await rescore_open_leads(app.state.db, leads_settings, NOW)
    changed = (await outbox("lead.scored.v1"))[-1][3]
    assert (changed["trigger"], changed["scoring_model_version"], changed["score"]) == (
        "model_change",
        3,
        "20.00",
    )
    detail = (await client.get(f"/leads/{lead_id}", headers=MARKETING)).json()
    assert detail["scoring_model_version"] == 3


async def test_configuration_is_validated(client: httpx.AsyncClient) -> None:
    bad_nace = {**SCORING, "fit_rules": [{"field": "nace", "value": "99.99", "points": "1"}]}
    resp = await client.put(
        "/scoring-model", json=bad_nace, headers={**MARKETING, "If-Match": '"1"'}
    )
    assert resp.status_code == 422
    bad_team = {**ROUTING, "territories": [{"name": "x", "team": "nobody"}]}
    resp = await client.put("/routing-rules", json=bad_team, headers={**MANAGER, "If-Match": '"1"'})
    assert resp.status_code == 422
    resp = await client.put(
        "/routing-rules", json=ROUTING, headers={**MARKETING, "If-Match": '"1"'}
    )
    assert resp.status_code == 403
    interest = await client.put(
        "/interest-definition",
        json={"kinds": ["event_visit"], "channels": ["event"]},
        headers={**MARKETING, "If-Match": '"1"'},
    )
    assert interest.status_code == 200 and interest.json()["version"] == 2
    company_id = await setup(client)
    assert (await touch(client, "whitepaper_download", company_id=company_id))["lead_id"] is None
    # JSON as the schema says: no number for a time, no boolean for an id
    for wrong in ({"occurred_at": 0}, {"company_id": True}):
        body = {"channel": "web", "kind": "page_visit", "occurred_at": NOW.isoformat()}
        resp = await client.post(
            "/touchpoints", json={**body, "company_id": company_id, **wrong}, headers=MARKETING
        )
        assert resp.status_code == 422, wrong
    body = {
        "channel": "event",
        "kind": "event_visit",
        "occurred_at": NOW.isoformat(),
        "company_id": company_id,
    }
    created = await client.post("/touchpoints", json=body, headers=MARKETING)
    assert created.json()["lead_created"]
