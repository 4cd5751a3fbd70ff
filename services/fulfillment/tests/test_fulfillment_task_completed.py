"""``task.completed``: a done task is published (the service counterpart of a dispatch, which
ends the order's cancellation window), and a cancellation crossing it only flags the plan."""

from __future__ import annotations

import json

from fulfillment_testkit import (
    FULFILLMENT,
    ORDERS,
    TECH,
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

from salesflow.testing.helpers import running

TASK_COMPLETED = "task.completed.v1"


async def test_completing_a_task_publishes_task_completed(settings_for, database_url, broker):
    settings, app = await start_app(settings_for, database_url)
    mixed = order([goods(1, "LATHE-500", "1"), service(2, "INSTALL", "Installation")])
    services_only = order([service(1, "TRAIN", "Schulung")])
    async with running(app) as client:
        planned = [confirmed(mixed), confirmed(services_only)]
        await publish(broker, settings.topic(ORDERS), *planned)
        mixed_plan = await plan_of(client, mixed.order_id)
        only_plan = await plan_of(client, services_only.order_id)

        [task] = mixed_plan["tasks"]
        r = await client.post(
            f"/tasks/{task['id']}/complete", json={"note": "running"}, headers=TECH
        )
        assert r.status_code == 200, r.text
        version = r.json()["fulfillment_version"]
        [row] = await outbox(app.state.db, TASK_COMPLETED)
        payload = json.loads(row.payload)
        assert row.key == mixed_plan["id"]
        assert row.headers["ce_correlationid"] == planned[0].correlation_id
        assert payload["fulfillment_id"] == mixed_plan["id"]
        assert (payload["order_id"], payload["order_number"]) == (
            mixed.order_id,
            mixed.order_number,
        )
        assert (payload["task_id"], payload["line_no"], payload["sku"]) == (
            task["id"],
            2,
            "INSTALL",
        )
        assert payload["kind"] == task["kind"] and payload["completed_by"] == "tech"
        assert payload["completed_at"] and payload["version"] == version
        assert payload["status"] == "in_progress"
        # a second completion is refused and publishes nothing
        again = await client.post(f"/tasks/{task['id']}/complete", headers=TECH)
        assert again.status_code == 409
        assert len(await outbox(app.state.db, TASK_COMPLETED)) == 1

        # the last open item: task.completed first, then fulfillment.completed (higher version)
        [only_task] = only_plan["tasks"]
        r = await client.post(f"/tasks/{only_task['id']}/complete", headers=TECH)
        assert r.status_code == 200 and r.json()["fulfillment_status"] == "completed"
        rows = [
            r for r in await outbox(app.state.db) if r.key == only_plan["id"]
        ]  # in insertion order
        assert [r.type for r in rows] == [
            "fulfillment.planned.v1",
            TASK_COMPLETED,
            "fulfillment.completed.v1",
        ]
        versions = [json.loads(r.payload)["version"] for r in rows]
        assert versions == sorted(set(versions))

        records = await read_topic(broker, settings.topic(FULFILLMENT), expect=5, timeout=15)
        on_topic = [(r.key.decode(), dict(r.headers)["ce_type"].decode()) for r in records]
        assert sorted(on_topic) == sorted(
            [
                (mixed_plan["id"], "fulfillment.planned.v1"),
                (only_plan["id"], "fulfillment.planned.v1"),
                (mixed_plan["id"], TASK_COMPLETED),
                (only_plan["id"], TASK_COMPLETED),
                (only_plan["id"], "fulfillment.completed.v1"),
            ]
        )


async def test_cancellation_after_a_done_task_only_flags_the_plan(
    settings_for, database_url, broker
):
    """Orders refuses to cancel once work was performed; a cancellation that crossed the
    task.completed still arrives here and must neither cancel the plan nor fail."""
    settings, app = await start_app(settings_for, database_url)
    mixed = order([goods(1, "LATHE-500", "1"), service(2, "INSTALL", "Installation")])
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(mixed))
        plan = await plan_of(client, mixed.order_id)
        r = await client.post(f"/tasks/{plan['tasks'][0]['id']}/complete", headers=TECH)
        assert r.status_code == 200, r.text

        cancellation = cancelled(mixed)
        await publish(broker, settings.topic(ORDERS), cancellation, cancellation)
        await processed(app.state.db, cancellation)

        plan = await detail(client, plan["id"])
        assert plan["status"] == "in_progress" and plan["cancelled_at"] is None
        assert plan["cancellation_flagged"] is True
        assert [t["status"] for t in plan["tasks"]] == ["done"]
        assert [s["status"] for s in plan["shipments"]] != ["cancelled"]
        flagged = plan["timeline"][-1]
        assert flagged["kind"] == "cancellation_flagged"
        assert "service work" in flagged["detail"]["note"]
        assert [e["kind"] for e in plan["timeline"]].count("cancellation_flagged") == 1
        assert app.state.ctx.consumers[0].counts["dead_lettered"] == 0
