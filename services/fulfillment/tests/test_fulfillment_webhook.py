"""The status webhook: applied, duplicate, out-of-order and impossible status events, partial
deliveries per line, task completion and fulfillment.completed with serial numbers."""

from __future__ import annotations

import json

from fulfillment_testkit import (
    ORDERS,
    TECH,
    WMS,
    body,
    confirmed,
    detail,
    goods,
    line,
    order,
    outbox,
    plan_of,
    publish,
    service,
    start_app,
)

from salesflow.testing.helpers import bearer, running


async def test_webhook_tracks_a_shipment_to_completion(settings_for, database_url, broker):
    settings, app = await start_app(settings_for, database_url)
    o = order(
        [goods(1, "LATHE-500", "3"), goods(2, "CHUCK-8", "1"), service(3, "COMM", "Commissioning")]
    )
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(o))
        plan = await plan_of(client, o.order_id)
        [shipment] = plan["shipments"]
        url = f"/shipments/{shipment['id']}/events"

        async def post(payload: dict, headers=WMS):
            return await client.post(url, json=payload, headers=headers)

        # a partial delivery is reported before the dispatch it follows
        partial = body(
            "delivered",
            20,
            [line(1, "LATHE-500", "1", "SN-1"), line(2, "CHUCK-8", "1", "SN-C1")],
            proof_of_delivery={"signed_by": "M. Meier", "reference": "POD-1"},
        )
        r = await post(partial)
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == "applied"
        assert r.json()["fulfillment_status"] == "partially_delivered"
        assert r.json()["shipment"]["status"] == "partially_delivered"

        dispatch = body(
            "dispatched",
            10,
            carrier="DHL Freight",
            tracking_number="JD01",
            tracking_url="https://track.example.com/JD01",
        )
        r = await post(dispatch)
        assert r.status_code == 200, r.text
        ship = r.json()["shipment"]
        assert ship["status"] == "partially_delivered" and ship["carrier"] == "DHL Freight"
        lathe, chuck = ship["lines"]
        assert (lathe["delivered_quantity"], lathe["serial_numbers"]) == ("1", ["SN-1"])
        assert (chuck["delivered_quantity"], chuck["stage"]) == ("1", "delivered")

        # repeated: nothing changes, nothing is emitted
        before = len(await outbox(app.state.db))
        r = await post(partial)
        assert r.status_code == 200 and r.json()["outcome"] == "duplicate"
        assert r.json()["shipment"]["version"] == ship["version"]
        assert len(await outbox(app.state.db)) == before

        # impossible: the rest cannot be picked after its dispatch, nor delivered twice over
        r = await post(body("picked", 15))
        assert r.status_code == 409
        problem = r.json()
        assert (
            "already dispatched" in problem["detail"] and problem["code"] == "impossible_transition"
        )
        r = await post(body("delivered", 25, [line(1, "LATHE-500", "3")]))
        assert r.status_code == 409 and "exceeds the 2 not yet delivered" in r.json()["detail"]
        r = await post(body("delivered", 25, [line(1, "LATHE-500", "1", "SN-1")]))
        assert r.status_code == 409 and "SN-1 was delivered before" in r.json()["detail"]
        r = await post(body("delivered", 25, [line(7, "X", "1")]))
        assert r.status_code == 409 and "not part of this shipment" in r.json()["detail"]

        # a failed attempt, then the rest arrives
        r = await post(body("delivery_failed", 30, reason="goods receipt closed"))
        assert r.json()["shipment"]["status"] == "delivery_failed"
        assert r.json()["shipment"]["failure_reason"] == "goods receipt closed"
        r = await post(body("delivered", 40, [line(1, "LATHE-500", "2", "SN-2", "SN-3")]))
        assert r.status_code == 200, r.text
        assert r.json()["shipment"]["status"] == "delivered"
        assert r.json()["fulfillment_status"] == "delivered"  # the commissioning is still open
        r = await post(body("returned", 50))
        assert r.status_code == 409 and "after-sales" in r.json()["detail"]

        # the last task completes the plan
        task = plan["tasks"][0]
        worklist = await client.get(
            "/tasks", params={"assignee": "implementation-team", "status": "open"}, headers=TECH
        )
        assert [t["id"] for t in worklist.json()["items"]] == [task["id"]]
        mine = await client.get("/tasks", headers=bearer("bob", ["sales_rep"]))
        assert mine.json()["items"] == []  # bob owns no order
        assert task["kind"] == "commissioning" and task["assignee"] == "implementation-team"
        r = await client.post(
            f"/tasks/{task['id']}/complete",
            json={"note": "running at the customer"},
            headers={**TECH, "Idempotency-Key": "k-1"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["fulfillment_status"] == "completed"
        assert r.json()["task"]["completed_by"] == "tech"
        replay = await client.post(
            f"/tasks/{task['id']}/complete",
            json={"note": "running at the customer"},
            headers={**TECH, "Idempotency-Key": "k-1"},
        )
        assert replay.status_code == 200 and replay.headers.get("idempotent-replayed") == "true"
        again = await client.post(f"/tasks/{task['id']}/complete", headers=TECH)
        assert again.status_code == 409 and "already done" in again.json()["detail"]
        r = await post(body("delivered", 60))
        assert r.status_code == 409 and "already fully delivered" in r.json()["detail"]
        # a report that fits into the history is still taken: it only adds what happened
        r = await post(body("in_production", 5))
        assert r.status_code == 200 and r.json()["fulfillment_status"] == "completed"

        dispatched = await outbox(app.state.db, "shipment.dispatched.v1")
        [sent] = [json.loads(d.payload) for d in dispatched]
        assert (sent["carrier"], sent["tracking_number"]) == ("DHL Freight", "JD01")
        assert sent["tracking_url"] == "https://track.example.com/JD01"
        # it happened before the partial delivery that arrived first: it carried everything
        assert [(ln["line_no"], ln["quantity"]) for ln in sent["lines"]] == [(1, "3"), (2, "1")]
        delivered = [
            json.loads(d.payload) for d in await outbox(app.state.db, "shipment.delivered.v1")
        ]
        assert [d["order_delivery"] for d in delivered] == ["partially_delivered", "delivered"]
        assert delivered[0]["lines"][0]["serial_numbers"] == ["SN-1"]
        assert delivered[0]["proof_of_delivery"]["signed_by"] == "M. Meier"
        [done] = await outbox(app.state.db, "fulfillment.completed.v1")
        completed = json.loads(done.payload)
        assert done.headers["ce_correlationid"] == plan["correlation_id"]
        assert completed["status"] == "completed"
        items = {i["line_no"]: i for i in completed["items"]}
        assert (
            items[1]["serial_numbers"] == ["SN-1", "SN-2", "SN-3"] and items[1]["quantity"] == "3"
        )
        assert items[2]["serial_numbers"] == ["SN-C1"] and items[2]["kind"] == "goods"
        assert items[3]["kind"] == "service" and items[3]["unit"] == "HUR"
        versions = [json.loads(r.payload)["version"] for r in await outbox(app.state.db)]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)

        final = await detail(client, plan["id"])
        assert final["status"] == "completed" and final["completed_at"]
        statuses = [(e["status"], e["channel"]) for e in final["timeline"] if e["kind"] == "status"]
        # in the order they happened, not the order they arrived
        assert statuses == [
            ("in_production", "webhook"),
            ("dispatched", "webhook"),
            ("delivered", "webhook"),
            ("delivery_failed", "webhook"),
            ("delivered", "webhook"),
        ]
        kinds = [e["kind"] for e in final["timeline"]]
        assert kinds.index("task_completed") < kinds.index("completed")
        assert len(await outbox(app.state.db, "fulfillment.completed.v1")) == 1


async def test_webhook_guards_input_roles_and_ids_and_services_only_orders(
    settings_for, database_url, broker
):
    settings, app = await start_app(settings_for, database_url)
    o = order([goods(1, "LATHE-500", "1")])
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(o))
        plan = await plan_of(client, o.order_id)
        url = f"/shipments/{plan['shipments'][0]['id']}/events"
        ok = body("picked", 1)

        assert (await client.post(url, json=ok)).status_code == 401
        assert (await client.post(url, json=ok, headers=TECH)).status_code == 403
        r = await client.post("/shipments/nope/events", json=ok, headers=WMS)
        assert r.status_code == 404
        for bad in (
            {**ok, "colour": "red"},  # unknown field
            {**ok, "status": "lost"},
            {**ok, "occurred_at": "2026-03-01T10:00:00"},  # no timezone
            {**ok, "occurred_at": "1700000000"},  # a Unix timestamp is not ISO 8601
            {**ok, "proof_of_delivery": {"received_at": "0"}},
            {**ok, "occurred_at": "2999-01-01T00:00:00+00:00"},  # in the future
            {**ok, "lines": [line(1, "LATHE-500", "-1")]},
            {**ok, "order_id": "someone-else"},
            {k: v for k, v in ok.items() if k != "status_event_id"},
        ):
            r = await client.post(url, json=bad, headers=WMS)
            assert r.status_code == 422, (bad, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        r = await client.post(
            url, content=b"{not json", headers={**WMS, "content-type": "application/json"}
        )
        assert r.status_code == 400
        # with the order's own ids, the contract payload is accepted as it is
        r = await client.post(
            url, json={**ok, "order_id": o.order_id, "order_number": o.order_number}, headers=WMS
        )
        assert r.status_code == 200 and r.json()["outcome"] == "applied"
        r = await client.post("/tasks/nope/complete", headers=bearer("d", ["order_desk"]))
        assert r.status_code == 404
        assert (await detail(client, plan["id"]))["status"] == "in_progress"
        huge = body("delivered", 2, [line(1, "LATHE-500", "1e20")])
        assert (await client.post(url, json=huge, headers=WMS)).status_code == 422

        # services only: no shipment, the tasks alone complete the plan
        training = order([service(1, "TRAIN", "Schulung"), service(2, "INST", "Montage")])
        await publish(broker, settings.topic(ORDERS), confirmed(training))
        plan = await plan_of(client, training.order_id)
        assert plan["shipments"] == [] and [t["kind"] for t in plan["tasks"]] == [
            "training",
            "installation",
        ]
        desk = bearer("d", ["order_desk"])
        future = {"completed_at": "2999-01-01T00:00:00+00:00"}
        r = await client.post(
            f"/tasks/{plan['tasks'][0]['id']}/complete", json=future, headers=desk
        )
        assert r.status_code == 422
        r = await client.post(f"/tasks/{plan['tasks'][0]['id']}/complete", headers=desk)
        assert r.json()["fulfillment_status"] == "in_progress"
        r = await client.post(f"/tasks/{plan['tasks'][1]['id']}/complete", headers=desk)
        assert r.json()["fulfillment_status"] == "completed"
        [done] = await outbox(app.state.db, "fulfillment.completed.v1")
        assert [i["kind"] for i in json.loads(done.payload)["items"]] == ["service", "service"]
