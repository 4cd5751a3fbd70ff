"""Tickets through the real app with an injected clock: SLA due times in business hours, the
pause while waiting for the customer, breaches flagged by the background scan while nobody
touches the ticket, lifecycle conflicts, ticket events, access rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales_testkit import (
    Clock,
    fulfillment_completed,
    outbox,
    problem,
    seed,
    service,
    settings,
)

from salesflow.testing.helpers import bearer, eventually

BERLIN = ZoneInfo("Europe/Berlin")
AGENT = bearer("sam", ["service_agent"])
PORTAL = bearer("portal", ["integration"])
OTHER_PORTAL = bearer("portal-2", ["integration"])
ALICE = bearer("alice", ["sales_rep"], team="south")
BOB = bearer("bob", ["sales_rep"], team="south")
MONDAY_9 = datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN)  # delivery was on 2026-03-02


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


async def account_and_lathe(app, cfg, client) -> tuple[str, dict]:
    await seed(app.state.db, cfg, fulfillment_completed(), now=MONDAY_9)
    account_id = (await client.get("/accounts", headers=AGENT)).json()["items"][0]["id"]
    detail = (await client.get(f"/accounts/{account_id}", headers=AGENT)).json()
    lathe = next(a for a in detail["installed_base"] if a["serial_number"] == "SN-1")
    return account_id, lathe


async def test_sla_runs_in_business_hours_pauses_and_ends_with_resolution(settings_for) -> None:
    cfg = settings(settings_for, consumers_enabled=False)
    clock = Clock(MONDAY_9)
    async with service(cfg, clock) as (app, client):
        account_id, lathe = await account_and_lathe(app, cfg, client)
        # P2: first response 4 business hours, resolution 24 business hours (08:00-17:00)
        clock.now = at(13, 15, 15)  # Friday afternoon
        resp = await client.post(
            "/tickets",
            headers=PORTAL,
            json={
                "account_id": account_id,
                "asset_id": lathe["id"],
                "channel": "portal",
                "severity": "P2",
                "description": "Spindle makes a grinding noise\nsince this morning",
            },
        )
        assert resp.status_code == 201, resp.text
        ticket = resp.json()
        tid = ticket["id"]
        assert resp.headers["Location"] == f"/tickets/{tid}"
        assert ticket["summary"] == "Spindle makes a grinding noise"
        assert ticket["status"] == "open"
        assert ticket["warranty_status"] == "in_warranty"
        assert ticket["asset"]["warranty_end"] == "2029-03-01"
        sla = ticket["sla"]
        # 1h45 on Friday, 2h15 on Monday
        assert _t(sla["first_response_due"]) == at(16, 10, 15)
        # 24h: 1h45 Fri, 9h Mon, 9h Tue, 4h15 Wed
        assert _t(sla["resolution_due"]) == at(18, 12, 15)

        opened = await outbox(app.state.db, "ticket.opened.v1")
        assert len(opened) == 1
        event = opened[0].payload()
        assert opened[0].subject == account_id
        assert event.ticket_id == tid and event.severity == "P2"
        assert event.warranty == "in_warranty" and event.serial_number == "SN-1"
        assert event.first_response_due == at(16, 10, 15)
        assert event.owner == "alice"
        # the ticket joins the journey that delivered the asset
        assert opened[0].correlation_id == ticket["correlation_id"]

        # Monday 09:00: the agent starts work (first response in time)
        clock.now = at(16, 9)
        resp = await client.post(
            f"/tickets/{tid}/transitions", headers=AGENT, json={"to": "in_progress"}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["sla"]["first_responded_at"] is not None
        assert resp.json()["sla"]["first_response_due"] is None
        # 10:00: waiting for the customer (1h45 Fri + 2h Mon consumed): the clock stops
        clock.now = at(16, 10)
        resp = await client.post(
            f"/tickets/{tid}/transitions",
            headers=AGENT,
            json={"to": "waiting_customer", "note": "asked for a video"},
        )
        waiting = resp.json()
        assert waiting["status"] == "waiting_customer"
        assert waiting["sla"]["paused"] and waiting["sla"]["resolution_due"] is None
        assert waiting["sla"]["business_minutes_elapsed"] == 225
        # three days later the customer answers through the portal: clock runs again
        clock.now = at(19, 10)
        assert (await client.get(f"/tickets/{tid}", headers=AGENT)).json()["sla"][
            "business_minutes_elapsed"
        ] == 225
        resp = await client.post(
            f"/tickets/{tid}/comments", headers=PORTAL, json={"body": "video attached"}
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["author_kind"] == "customer"
        detail = (await client.get(f"/tickets/{tid}", headers=AGENT)).json()
        assert detail["status"] == "in_progress"
        # 20h15 left from Thursday 10:00: 7h Thu, 9h Fri, 4h15 Mon → Monday 12:15
        assert _t(detail["sla"]["resolution_due"]) == at(23, 12, 15)
        assert not detail["sla"]["resolution_breached"]
        assert [h["to_status"] for h in detail["history"]] == [
            "open",
            "in_progress",
            "waiting_customer",
            "in_progress",
        ]

        # invalid move ⇒ 409; stale If-Match ⇒ 412
        body = problem(
            await client.post(f"/tickets/{tid}/transitions", headers=AGENT, json={"to": "closed"}),
            409,
        )
        assert "in_progress" in body["detail"]
        problem(
            await client.post(
                f"/tickets/{tid}/resolve",
                headers={**AGENT, "If-Match": '"1"'},
                json={"resolution": "x"},
            ),
            412,
        )
        problem(
            await client.post(
                f"/tickets/{tid}/transitions", headers=AGENT, json={"to": "resolved"}
            ),
            422,
        )

        # Thursday 12:00: resolved within target (3h45 + 2h = 5h45 business)
        clock.now = at(19, 12)
        etag = (await client.get(f"/tickets/{tid}", headers=AGENT)).headers["ETag"]
        resp = await client.post(
            f"/tickets/{tid}/resolve",
            headers={**AGENT, "If-Match": etag},
            json={"resolution": "Spindle bearing replaced"},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "resolved"
        assert resp.headers["ETag"] != etag
        resolved = await outbox(app.state.db, "ticket.resolved.v1")
        assert len(resolved) == 1
        payload = resolved[0].payload()
        assert payload.business_minutes_to_resolve == 225 + 120
        assert not payload.resolution_breached and not payload.first_response_breached
        assert payload.resolved_by == "sam" and payload.resolution == "Spindle bearing replaced"
        assert resolved[0].correlation_id == opened[0].correlation_id

        resp = await client.post(
            f"/tickets/{tid}/transitions", headers=AGENT, json={"to": "closed"}
        )
        assert resp.json()["status"] == "closed" and resp.json()["closed_at"]
        problem(
            await client.post(f"/tickets/{tid}/comments", headers=AGENT, json={"body": "x"}), 409
        )
        problem(
            await client.post(f"/tickets/{tid}/resolve", headers=AGENT, json={"resolution": "x"}),
            409,
        )


async def test_breach_flagged_while_nobody_touches_the_ticket(settings_for) -> None:
    cfg = settings(settings_for, consumers_enabled=False, sla_scan_interval_s=0.05)
    clock = Clock(at(9, 9))
    async with service(cfg, clock) as (app, client):
        account_id, _ = await account_and_lathe(app, cfg, client)
        resp = await client.post(
            "/tickets",
            headers=PORTAL,
            json={
                "account_id": account_id,
                "channel": "portal",
                "severity": "P1",
                "summary": "Line down",
                "description": "Production line stopped",
            },
        )
        assert resp.status_code == 201, resp.text
        tid = resp.json()["id"]
        assert resp.json()["warranty_status"] == "unknown"  # no asset named
        assert _t(resp.json()["sla"]["first_response_due"]) == at(9, 10)  # P1: 1 business hour

        async def breaches() -> list:
            r = await client.get("/tickets", headers=AGENT, params={"breached": "true"})
            return r.json()["items"]

        clock.now = at(9, 9, 59)  # the scan runs, but nothing is overdue yet
        await _scans_pass(app, cfg)
        assert await breaches() == []

        clock.now = at(9, 10, 1)  # nobody answered: the scan flags it
        flagged = await eventually(breaches, timeout=10, message="breach not flagged")
        assert [t["id"] for t in flagged] == [tid]
        sla = flagged[0]["sla"]
        assert sla["first_response_breached"] and not sla["resolution_breached"]
        assert _t(sla["breached_at"]) == at(9, 10, 1)
        assert flagged[0]["version"] == 2

        clock.now = at(9, 17, 30)  # P1 resolution: 8 business hours, ended 17:00
        ticket = await eventually(
            lambda: _get_if(client, tid, lambda t: t["sla"]["resolution_breached"]),
            timeout=10,
            message="resolution breach not flagged",
        )
        assert ticket["status"] == "open"
        account = (await client.get(f"/accounts/{account_id}", headers=AGENT)).json()
        factors = {f["factor"]: f["points"] for f in account["health"]["breakdown"]}
        assert factors["sla_breaches"] == -10 and factors["open_tickets"] == -15
        assert account["health_score"] == account["health"]["score"] == 50
        assert account["health_band"] == "at_risk"
        at_risk = (await client.get("/accounts?health=at_risk", headers=AGENT)).json()["items"]
        assert [a["id"] for a in at_risk] == [account_id]


async def _scans_pass(app, cfg) -> None:
    """Run the scan once more in the test's own task: the background one ran as well."""
    from aftersales.tickets import scan_sla

    assert await scan_sla(app.state.db, cfg, app.state.clock()) == 0


async def _get_if(client, tid: str, ok) -> dict | None:
    ticket = (await client.get(f"/tickets/{tid}", headers=AGENT)).json()
    return ticket if ok(ticket) else None


async def test_ticket_access_validation_and_idempotency(settings_for) -> None:
    cfg = settings(settings_for, consumers_enabled=False)
    clock = Clock(MONDAY_9)
    async with service(cfg, clock) as (app, client):
        account_id, lathe = await account_and_lathe(app, cfg, client)
        body = {
            "account_id": account_id,
            "asset_id": lathe["id"],
            "channel": "portal",
            "severity": "P3",
            "description": "Manual missing",
        }
        problem(await client.post("/tickets", headers=ALICE, json=body), 403)
        problem(await client.post("/tickets", json=body), 401)
        key = {"Idempotency-Key": "portal-req-1"}
        first = await client.post("/tickets", headers={**PORTAL, **key}, json=body)
        again = await client.post("/tickets", headers={**PORTAL, **key}, json=body)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        problem(
            await client.post(
                "/tickets", headers={**PORTAL, **key}, json={**body, "severity": "P4"}
            ),
            422,
        )
        assert len(await outbox(app.state.db, "ticket.opened.v1")) == 1
        tid = first.json()["id"]

        for bad in (
            {**body, "severity": "P5"},
            {**body, "channel": "pigeon"},
            {**body, "description": "   "},
            {**body, "priority": "high"},
            {k: v for k, v in body.items() if k != "description"},
            {**body, "description": "x" * 20_001},
        ):
            problem(await client.post("/tickets", headers=AGENT, json=bad), 422)
        problem(
            await client.post("/tickets", headers=AGENT, json={**body, "account_id": "nope"}), 422
        )
        problem(
            await client.post("/tickets", headers=AGENT, json={**body, "asset_id": "nope"}), 422
        )
        bad_json = await client.post(
            "/tickets", headers={**AGENT, "content-type": "application/json"}, content=b"{"
        )
        problem(bad_json, 400)

        # who sees it: the agent, the portal that opened it, the account owner — not others
        for headers in (AGENT, PORTAL, ALICE):
            assert (await client.get(f"/tickets/{tid}", headers=headers)).status_code == 200
        for headers in (OTHER_PORTAL, BOB):
            problem(await client.get(f"/tickets/{tid}", headers=headers), 404)
            assert (await client.get("/tickets", headers=headers)).json()["items"] == []
        assert [t["id"] for t in (await client.get("/tickets", headers=ALICE)).json()["items"]] == [
            tid
        ]
        # only agents move tickets; internal notes stay internal and are no first response
        problem(
            await client.post(
                f"/tickets/{tid}/transitions", headers=PORTAL, json={"to": "in_progress"}
            ),
            403,
        )
        note = await client.post(
            f"/tickets/{tid}/comments",
            headers=AGENT,
            json={"body": "check stock", "internal": True},
        )
        assert note.status_code == 201
        assert (await client.get(f"/tickets/{tid}", headers=AGENT)).json()["sla"][
            "first_responded_at"
        ] is None
        # an integration asking for an internal note is refused, not published; no coercion
        secret = {"body": "secret", "internal": True}
        refused = problem(
            await client.post(f"/tickets/{tid}/comments", headers=PORTAL, json=secret), 403
        )
        assert "internal" in refused["detail"]
        for loose in ("yes", "true", 1):
            problem(
                await client.post(
                    f"/tickets/{tid}/comments",
                    headers=AGENT,
                    json={"body": "x", "internal": loose},
                ),
                422,
            )
        comments = (await client.get(f"/tickets/{tid}", headers=AGENT)).json()["comments"]
        assert [c["body"] for c in comments] == ["check stock"]
        clock.advance(minutes=30)
        reply = await client.post(
            f"/tickets/{tid}/comments", headers=AGENT, json={"body": "sending it today"}
        )
        assert reply.status_code == 201
        seen_by_portal = (await client.get(f"/tickets/{tid}", headers=PORTAL)).json()
        assert [c["body"] for c in seen_by_portal["comments"]] == ["sending it today"]
        assert _t(seen_by_portal["sla"]["first_responded_at"]) == MONDAY_9 + timedelta(minutes=30)
        staff_view = (await client.get(f"/tickets/{tid}", headers=AGENT)).json()
        assert len(staff_view["comments"]) == 2
        problem(await client.get("/tickets?severity=P9", headers=AGENT), 422)
        problem(await client.get("/tickets?cursor=garbage", headers=AGENT), 422)
        stale_cursor = "WyJub3QtYS10aW1lIiwgIngiXQ"  # ["not-a-time", "x"]
        problem(await client.get(f"/tickets?cursor={stale_cursor}", headers=AGENT), 422)


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
