"""Plans from order.confirmed (exactly one per order), cancellation before and after dispatch,
and reading plans: filters, overdue, visibility, pagination."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from fulfillment_testkit import (
    ADMIN,
    FULFILLMENT,
    ORDERS,
    TECH,
    WMS,
    body,
    cancelled,
    confirmed,
    detail,
    goods,
    order,
    outbox,
    plan_of,
    processed,
    publish,
    read_topic,
    service,
    start_app,
)

from salesflow.testing.helpers import bearer, eventually, running

APR1, APR15 = date(2026, 4, 1), date(2026, 4, 15)


async def test_exactly_one_plan_per_order_under_redelivery(settings_for, database_url, broker):
    settings, app = await start_app(settings_for, database_url)
    o = order(
        [
            goods(1, "LATHE-500", "2", APR1),
            goods(2, "CHUCK-8", "1"),
            service(3, "INSTALL", "Installation on site"),
        ],
        requested=APR15,
    )
    first = confirmed(o)
    resent = confirmed(o)  # the same confirmation re-emitted under a new event id
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), first, first, resent, first)
        plan = await plan_of(client, o.order_id)
        await processed(app.state.db, first, resent)
        consumer = app.state.ctx.consumers[0]

        async def duplicates_absorbed() -> bool:  # the last copy may still be on its way
            return consumer.counts["duplicate"] >= 2

        await eventually(duplicates_absorbed, message="duplicates not seen")

        page = await client.get("/fulfillments", params={"order": o.order_number}, headers=ADMIN)
        assert [p["id"] for p in page.json()["items"]] == [plan["id"]]
        planned = await outbox(app.state.db, "fulfillment.planned.v1")
        assert len(planned) == 1
        assert planned[0].headers["ce_correlationid"] == first.correlation_id
        assert planned[0].headers["ce_causationid"] == first.id

        data = json.loads(planned[0].payload)
        assert data["fulfillment_id"] == plan["id"] and data["status"] == "planned"
        assert [
            (s["planned_date"], [ln["line_no"] for ln in s["lines"]]) for s in data["shipments"]
        ] == [
            ("2026-04-01", [1]),
            ("2026-04-15", [2]),
        ]
        [task] = data["tasks"]
        assert (task["line_no"], task["kind"], task["assignee"], task["due_date"]) == (
            3,
            "installation",
            "implementation-team",
            "2026-04-18",
        )
        assert [s["status"] for s in plan["shipments"]] == ["planned", "planned"]
        assert plan["shipments"][0]["lines"][0]["quantity"] == "2"
        assert plan["next_due_date"] == "2026-04-01"
        assert [e["kind"] for e in plan["timeline"]] == ["planned"]

        records = await read_topic(broker, settings.topic(FULFILLMENT), expect=1, timeout=10)
        assert [dict(r.headers)["ce_type"] for r in records] == [b"fulfillment.planned.v1"]
        assert records[0].key == plan["id"].encode()


async def test_confirmation_twin_and_cancellation_in_one_batch(settings_for, database_url, broker):
    """Plans are written at commit (one INSERT per table for the whole poll): a twin
    confirmation and a cancellation handled in the same transaction still see the new plan."""
    settings, app = await start_app(settings_for, database_url)
    o = order([goods(1, "LATHE-500", "1"), service(2, "TRAIN", "Schulung")])
    events = [confirmed(o), confirmed(o), cancelled(o)]
    await publish(broker, settings.topic(ORDERS), *events)  # before the start: one poll
    async with running(app) as client:
        await processed(app.state.db, *events)
        plan = await plan_of(client, o.order_id)
        assert plan["status"] == "cancelled"
        assert [e["kind"] for e in plan["timeline"]] == ["planned", "cancelled"]
        assert [s["status"] for s in plan["shipments"]] == ["cancelled"]
        assert [t["status"] for t in plan["tasks"]] == ["cancelled"]
        assert len(await outbox(app.state.db, "fulfillment.planned.v1")) == 1
        assert app.state.ctx.consumers[0].counts["dead_lettered"] == 0


async def test_cancellation_before_dispatch_cancels_after_dispatch_flags(
    settings_for, database_url, broker
):
    settings, app = await start_app(settings_for, database_url)
    early = order([goods(1, "LATHE-500", "1"), service(2, "TRAIN", "Schulung")])
    late = order([goods(1, "LATHE-500", "1")])
    never = order([goods(1, "LATHE-500", "1")])
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(early), confirmed(late))
        early_plan, late_plan = (
            await plan_of(client, early.order_id),
            await plan_of(client, late.order_id),
        )
        early_ship = early_plan["shipments"][0]["id"]
        late_ship = late_plan["shipments"][0]["id"]
        r = await client.post(
            f"/shipments/{early_ship}/events", json=body("in_production", 1), headers=WMS
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/shipments/{late_ship}/events", json=body("dispatched", 1), headers=WMS
        )
        assert r.status_code == 200, r.text

        # the cancellation of `never` overtakes its confirmation (e.g. a dead-lettered one)
        events = [cancelled(early), cancelled(late), cancelled(never), confirmed(never)]
        await publish(broker, settings.topic(ORDERS), *events)
        await processed(app.state.db, *events)

        early_plan = await detail(client, early_plan["id"])
        assert early_plan["status"] == "cancelled"
        assert early_plan["next_due_date"] is None and early_plan["cancelled_at"]
        assert [s["status"] for s in early_plan["shipments"]] == ["cancelled"]
        assert [t["status"] for t in early_plan["tasks"]] == ["cancelled"]
        assert early_plan["timeline"][-1]["kind"] == "cancelled"
        assert early_plan["timeline"][-1]["detail"]["reason"] == "customer request"

        r = await client.post(
            f"/shipments/{early_ship}/events", json=body("picked", 2), headers=WMS
        )
        assert r.status_code == 409
        assert "cancelled" in r.json()["detail"]
        task_id = early_plan["tasks"][0]["id"]
        r = await client.post(f"/tasks/{task_id}/complete", headers=TECH)
        assert r.status_code == 409 and "cancelled" in r.json()["detail"]

        late_plan = await detail(client, late_plan["id"])
        assert late_plan["status"] == "in_progress"
        assert late_plan["cancellation_flagged"] is True
        assert late_plan["cancellation_reason"] == "customer request"
        assert late_plan["timeline"][-1]["kind"] == "cancellation_flagged"
        # the goods are on the road: the plan goes on and completes
        r = await client.post(
            f"/shipments/{late_ship}/events", json=body("delivered", 3), headers=WMS
        )
        assert r.status_code == 200 and r.json()["fulfillment_status"] == "completed"
        flagged = (
            await client.get("/fulfillments", params={"order": late.order_id}, headers=ADMIN)
        ).json()
        assert flagged["items"][0]["cancellation_flagged"] is True

        page = (
            await client.get("/fulfillments", params={"order": never.order_id}, headers=ADMIN)
        ).json()
        assert page["items"] == []
        planned = await outbox(app.state.db, "fulfillment.planned.v1")
        assert {json.loads(p.payload)["order_id"] for p in planned} == {
            early.order_id,
            late.order_id,
        }


async def test_list_filters_overdue_visibility_and_pagination(settings_for, database_url, broker):
    today = datetime(2030, 1, 10, 12, tzinfo=UTC)  # injected: what is overdue depends on it
    settings, app = await start_app(settings_for, database_url, clock=lambda: today)
    late = order([goods(1, "LATHE-500", "1")], requested=date(2030, 1, 5), owner="alice")
    timely = order(
        [goods(1, "LATHE-500", "1")], requested=date(2030, 2, 1), owner="bob", team="north"
    )
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(late), confirmed(timely))
        late_plan, timely_plan = (
            await plan_of(client, late.order_id),
            await plan_of(client, timely.order_id),
        )

        async def ids(headers=ADMIN, **params) -> list[str]:
            resp = await client.get("/fulfillments", params=params, headers=headers)
            assert resp.status_code == 200, resp.text
            return [i["id"] for i in resp.json()["items"]]

        assert await ids(overdue="true") == [late_plan["id"]]
        assert await ids(overdue="false") == [timely_plan["id"]]
        assert late_plan["overdue"] is True and timely_plan["overdue"] is False
        assert sorted(await ids(status="planned")) == sorted([late_plan["id"], timely_plan["id"]])
        assert await ids(status="completed") == []
        assert await ids(order=timely.order_number) == [timely_plan["id"]]

        first = (await client.get("/fulfillments", params={"limit": 1}, headers=ADMIN)).json()
        second = (
            await client.get(
                "/fulfillments", params={"limit": 1, "cursor": first["next_cursor"]}, headers=ADMIN
            )
        ).json()
        assert first["next_cursor"] and second["next_cursor"] is None
        assert {first["items"][0]["id"], second["items"][0]["id"]} == {
            late_plan["id"],
            timely_plan["id"],
        }

        alice = bearer("alice", ["sales_rep"], team="south")
        assert await ids(alice) == [late_plan["id"]]
        assert await ids(bearer("nora", ["sales_manager"], team="north")) == [timely_plan["id"]]
        assert sorted(await ids(bearer("ana", ["analyst"]))) == sorted(
            [late_plan["id"], timely_plan["id"]]
        )
        r = await client.get(f"/fulfillments/{timely_plan['id']}", headers=alice)
        assert r.status_code == 404
        assert (await client.get("/fulfillments")).status_code == 401
        assert (
            await client.get("/fulfillments", headers=bearer("m", ["marketing"]))
        ).status_code == 403
        r = await client.get("/fulfillments", params={"status": "lost"}, headers=ADMIN)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        r = await client.get("/fulfillments", params={"cursor": "nonsense"}, headers=ADMIN)
        assert r.status_code == 422, r.text  # as the platform's pagination answers

        # delivered and done: no longer overdue
        ship = late_plan["shipments"][0]["id"]
        occurred = (today - timedelta(hours=1)).isoformat()
        payload = {**body("delivered", 0), "occurred_at": occurred}
        assert (
            await client.post(f"/shipments/{ship}/events", json=payload, headers=WMS)
        ).status_code == 200
        assert await ids(overdue="true") == []
        assert await ids(status="completed") == [late_plan["id"]]
        resp = await client.get(f"/fulfillments/{late_plan['id']}", headers=ADMIN)
        assert resp.headers["etag"] == f'"{resp.json()["version"]}"'
