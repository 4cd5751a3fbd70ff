"""After intake: cancellation rules, status from fulfilment events (also out of order), lists."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from orders_support import (
    ANALYST,
    DESK,
    SHOP,
    customer_body,
    fulfilment_event,
    outbox,
    publish,
    seed_master_data,
)

from orders.config import Settings
from orders.main import SPEC, create_app
from salesflow.testing.helpers import bearer, eventually, running
from salesflow.testing.plugin import migrate

TOPIC = "fulfillment.fulfillment.v1"


@pytest.fixture
async def service(settings_for, database_url) -> AsyncIterator:
    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings)
    app = create_app(settings)
    async with running(app) as client:
        client.app = app  # type: ignore[attr-defined]
        client.settings = settings  # type: ignore[attr-defined]
        await seed_master_data(client)
        yield client


async def _place(client, headers=DESK, **extra) -> dict:
    body = {"customer_id": "cust-1", "lines": [{"sku": "WIDGET", "quantity": "2"}], **extra}
    resp = await client.post("/orders", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _status(client, order_id: str) -> str:
    return (await client.get(f"/orders/{order_id}", headers=DESK)).json()["status"]


async def _wait_status(client, order_id: str, status: str) -> dict:
    async def reached() -> dict | None:
        body = (await client.get(f"/orders/{order_id}", headers=DESK)).json()
        return body if body["status"] == status else None

    return await eventually(reached, message=f"order not {status}")


async def test_cancel_before_dispatch_emits_order_cancelled(service) -> None:
    order = await _place(service)
    current = await service.get(f"/orders/{order['id']}", headers=DESK)
    stale = {**DESK, "If-Match": '"1"'}
    resp = await service.post(f"/orders/{order['id']}/cancel", json={"reason": "x"}, headers=stale)
    assert resp.status_code == 412
    resp = await service.post(
        f"/orders/{order['id']}/cancel",
        json={"reason": "customer withdrew"},
        headers={**DESK, "If-Match": current.headers["ETag"]},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "customer withdrew"
    assert [h["status"] for h in body["history"]] == ["received", "confirmed", "cancelled"]
    [row] = await outbox(service.app.state.db, "order.cancelled.v1")
    payload = json.loads(row.payload)
    assert payload["cancelled_by"] == "desk" and payload["version"] == 3
    assert row.headers["ce_correlationid"] == order["correlation_id"]
    again = await service.post(f"/orders/{order['id']}/cancel", json={"reason": "x"}, headers=DESK)
    assert again.status_code == 409


async def test_cancel_rules(service) -> None:
    planned = await _place(service)
    dispatched = await _place(service)
    rejected = await _place(service, requested_delivery_date="2000-01-01")
    assert rejected["status"] == "rejected"
    await publish(
        service.broker,
        service.settings,
        TOPIC,
        fulfilment_event("fulfillment.planned.v1", planned, 1),
        fulfilment_event("fulfillment.planned.v1", dispatched, 1),
        fulfilment_event("shipment.dispatched.v1", dispatched, 2),
    )
    await _wait_status(service, planned["id"], "in_fulfillment")

    async def dispatch_known() -> bool:
        body = (await service.get(f"/orders/{dispatched['id']}", headers=DESK)).json()
        return body["dispatched_at"] is not None

    await eventually(dispatch_known, message="dispatch not recorded")
    cancel = {"reason": "changed mind"}
    late = await service.post(f"/orders/{dispatched['id']}/cancel", json=cancel, headers=DESK)
    assert late.status_code == 409
    assert "dispatched" in late.json()["detail"]
    assert (
        await service.post(f"/orders/{rejected['id']}/cancel", json=cancel, headers=DESK)
    ).status_code == 409
    # in fulfilment but nothing dispatched yet: still possible
    assert (
        await service.post(f"/orders/{planned['id']}/cancel", json=cancel, headers=DESK)
    ).status_code == 200
    # roles and visibility
    own = await _place(service, headers=SHOP)
    other_shop = bearer("othershop", ["integration"])
    assert (
        await service.post(f"/orders/{own['id']}/cancel", json=cancel, headers=other_shop)
    ).status_code == 404
    assert (
        await service.post(f"/orders/{own['id']}/cancel", json=cancel, headers=ANALYST)
    ).status_code == 403
    assert (
        await service.post(f"/orders/{own['id']}/cancel", json=cancel, headers=SHOP)
    ).status_code == 200
    assert (await service.post("/orders/nope/cancel", json=cancel, headers=DESK)).status_code == 404


async def test_cancel_by_order_number_like_get(service) -> None:
    """An order is named by its id or its number on every route, cancel included."""
    order = await _place(service)
    other_shop = bearer("othershop", ["integration"])
    number = order["order_number"]
    cancel = {"reason": "by number"}
    # visibility holds for the number as for the id
    hidden = await service.post(f"/orders/{number}/cancel", json=cancel, headers=other_shop)
    assert hidden.status_code == 404
    resp = await service.post(f"/orders/{number}/cancel", json=cancel, headers=DESK)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == order["id"] and resp.json()["status"] == "cancelled"
    again = await service.post(f"/orders/{number}/cancel", json=cancel, headers=DESK)
    assert again.status_code == 409
    unknown = await service.post("/orders/SO-2026-999999/cancel", json=cancel, headers=DESK)
    assert unknown.status_code == 404


@pytest.fixture(autouse=True)
def _attach_broker(request, broker) -> None:
    if "service" in request.fixturenames:
        request.getfixturevalue("service").broker = broker


async def test_fulfilment_events_out_of_order_never_move_backwards(service) -> None:
    order = await _place(service)
    events = {
        "planned": fulfilment_event("fulfillment.planned.v1", order, 1),
        "dispatched": fulfilment_event("shipment.dispatched.v1", order, 2),
        "partial": fulfilment_event(
            "shipment.delivered.v1", order, 3, order_delivery="partially_delivered"
        ),
        "delivered": fulfilment_event(
            "shipment.delivered.v1", order, 4, order_delivery="delivered"
        ),
        "completed": fulfilment_event("fulfillment.completed.v1", order, 5),
    }
    # delivered overtakes everything; partial and planned arrive late
    await publish(
        service.broker,
        service.settings,
        TOPIC,
        events["delivered"],
        events["partial"],
        events["planned"],
    )
    body = await _wait_status(service, order["id"], "delivered")
    consumer = service.app.state.ctx.consumers[0]
    await eventually(
        lambda: _true(consumer.counts["handled"] >= 3), message="late events not consumed"
    )
    assert await _status(service, order["id"]) == "delivered"
    # completion, then a stale dispatch and a redelivered completion
    await publish(
        service.broker,
        service.settings,
        TOPIC,
        events["completed"],
        events["dispatched"],
        events["completed"],
    )
    await eventually(
        lambda: _true(consumer.counts["handled"] >= 5), message="completion not consumed"
    )
    body = await _wait_status(service, order["id"], "completed")
    assert [h["status"] for h in body["history"]] == [
        "received",
        "confirmed",
        "delivered",
        "completed",
    ]
    assert body["fulfillment_id"] == f"ful-{order['order_number']}"
    assert body["dispatched_at"] is not None
    [completed] = await outbox(service.app.state.db, "order.completed.v1")
    payload = json.loads(completed.payload)
    assert payload["fulfillment_id"] == body["fulfillment_id"]
    assert completed.headers["ce_causationid"] == events["completed"].id


async def test_step_by_step_statuses(service) -> None:
    order = await _place(service)
    steps = [
        (fulfilment_event("fulfillment.planned.v1", order, 1), "in_fulfillment"),
        (
            fulfilment_event(
                "shipment.delivered.v1", order, 2, order_delivery="partially_delivered"
            ),
            "partially_delivered",
        ),
        (
            fulfilment_event("shipment.delivered.v1", order, 3, order_delivery="delivered"),
            "delivered",
        ),
        (fulfilment_event("fulfillment.completed.v1", order, 4), "completed"),
    ]
    for event, status in steps:
        await publish(service.broker, service.settings, TOPIC, event)
        await _wait_status(service, order["id"], status)


async def _true(value: bool) -> bool:
    return value


async def test_unknown_order_in_a_fulfilment_event_is_dead_lettered(service) -> None:
    from salesflow.messaging import dlq

    ghost = {"id": "00000000-0000-0000-0000-000000000000", "order_number": "SO-1999-000001"}
    await publish(
        service.broker,
        service.settings,
        TOPIC,
        fulfilment_event("fulfillment.planned.v1", ghost, 1),
    )

    async def parked() -> list:
        async with service.app.state.db.session() as session:
            return await dlq.list_dead(session)

    [dead] = await eventually(parked, message="not dead-lettered")
    assert "unknown order" in dead.error


async def test_list_filters_and_visibility(service) -> None:
    a = await _place(service)
    b = await _place(service, requested_delivery_date="2000-01-01")  # rejected
    put = await service.put(
        "/customers/cust-2",
        json={
            "company": {"name": "Other", "country": "AT"},
            "owner": "sam",
            "team": "south",
            "bill_to": {"street": "Ring 1", "postal_code": "1010", "city": "Wien", "country": "AT"},
            "ship_to": {"street": "Ring 1", "postal_code": "1010", "city": "Wien", "country": "AT"},
        },
        headers=DESK,
    )
    assert put.status_code == 201, put.text
    c = await _place(service, customer_id="cust-2")

    async def ids(**params) -> set[str]:
        headers = params.pop("headers", DESK)
        resp = await service.get("/orders", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        return {o["id"] for o in resp.json()["items"]}

    assert await ids() == {a["id"], b["id"], c["id"]}
    assert await ids(status="confirmed") == {a["id"], c["id"]}
    assert await ids(status=["rejected", "confirmed"]) == {a["id"], b["id"], c["id"]}
    assert await ids(customer_id="cust-2") == {c["id"]}
    now = datetime.now(UTC)
    assert await ids(created_from=(now - timedelta(hours=1)).isoformat()) == {
        a["id"],
        b["id"],
        c["id"],
    }
    assert await ids(created_to=(now - timedelta(hours=1)).isoformat()) == set()
    naive = await service.get(
        "/orders", params={"created_from": "2026-01-01T00:00:00"}, headers=DESK
    )
    assert naive.status_code == 422
    assert (
        await service.get("/orders", params={"status": "bogus"}, headers=DESK)
    ).status_code == 422
    # a rep sees their customers' orders, a manager the team's
    assert await ids(headers=bearer("rita", ["sales_rep"])) == {a["id"], b["id"]}
    assert await ids(headers=bearer("sam", ["sales_rep"])) == {c["id"]}
    assert await ids(headers=bearer("boss", ["sales_manager"], team="south")) == {c["id"]}
    assert (
        await service.get(f"/orders/{c['id']}", headers=bearer("rita", ["sales_rep"]))
    ).status_code == 404
    # pagination
    page = (await service.get("/orders", params={"limit": 2}, headers=DESK)).json()
    rest = (
        await service.get(
            "/orders", params={"limit": 2, "cursor": page["next_cursor"]}, headers=DESK
        )
    ).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    # by order number
    by_number = await service.get(f"/orders/{a['order_number']}", headers=DESK)
    assert by_number.json()["id"] == a["id"]


async def test_sales_managers_read_only_their_teams_customers(service) -> None:
    """A customer's credit limit and open order value are as confidential as its orders."""
    put = await service.put(
        "/customers/cust-2",
        json=customer_body("Other", owner="sam", team="south"),
        headers=DESK,
    )
    assert put.status_code == 201, put.text
    await _place(service)  # an open order of cust-1 (team north)

    async def ids(headers) -> set[str]:
        resp = await service.get("/customers", headers=headers)
        assert resp.status_code == 200, resp.text
        return {c["customer_id"] for c in resp.json()["items"]}

    south = bearer("boss", ["sales_manager"], team="south")
    north = bearer("nora", ["sales_manager"], team="north")
    assert await ids(south) == {"cust-2"}
    assert await ids(north) == {"cust-1"}
    assert await ids(bearer("sam", ["sales_manager"])) == {"cust-2"}  # no team: own customers
    assert await ids(DESK) == await ids(ANALYST) == {"cust-1", "cust-2"}
    assert await ids(bearer("root", ["admin"])) == {"cust-1", "cust-2"}
    # one customer: 404 like its orders, for the list's name filter too
    assert (await service.get("/customers/cust-1", headers=south)).status_code == 404
    orders = await service.get("/orders", params={"customer_id": "cust-1"}, headers=south)
    assert orders.json()["items"] == []
    mine = await service.get("/customers/cust-1", headers=north)
    assert mine.status_code == 200 and "open_order_value" in mine.json()
    named = await service.get("/customers", params={"name": "acme"}, headers=south)
    assert named.json()["items"] == []


def _work_rows(body: dict) -> list[dict]:
    return [h for h in body["history"] if h["source"] == "task.completed.v1"]


async def test_completed_task_ends_the_cancellation_window(service) -> None:
    """Service work (``task.completed``) is the counterpart of a dispatch: no cancellation after
    it, whatever order the fulfilment events arrive in, and a redelivery changes nothing."""
    in_order = await _place(service)
    overtaking = await _place(service)
    delivered = await _place(service)
    done = fulfilment_event("task.completed.v1", in_order, 2)
    events = [
        fulfilment_event("fulfillment.planned.v1", in_order, 1),
        done,
        done,  # redelivered
        # the completed task overtakes the plan
        fulfilment_event("task.completed.v1", overtaking, 2),
        fulfilment_event("fulfillment.planned.v1", overtaking, 1),
        # a task completed after the goods were delivered does not move the order back
        fulfilment_event("shipment.delivered.v1", delivered, 3, order_delivery="delivered"),
        fulfilment_event("task.completed.v1", delivered, 2),
    ]
    await publish(service.broker, service.settings, TOPIC, *events)
    consumer = service.app.state.ctx.consumers[0]
    await eventually(
        lambda: _true(consumer.counts["handled"] + consumer.counts["duplicate"] >= len(events)),
        message="fulfilment events not consumed",
    )
    assert consumer.counts["dead_lettered"] == 0

    body = (await service.get(f"/orders/{in_order['id']}", headers=DESK)).json()
    assert body["status"] == "in_fulfillment" and body["dispatched_at"] is None
    assert [h["status"] for h in body["history"]] == [
        "received",
        "confirmed",
        "in_fulfillment",
        "in_fulfillment",
    ]
    [work] = _work_rows(body)  # once, although delivered twice
    assert work["event_id"] == done.id and "installation done" in work["note"]

    body = (await service.get(f"/orders/{overtaking['id']}", headers=DESK)).json()
    assert body["status"] == "in_fulfillment"
    assert [h["status"] for h in body["history"]] == ["received", "confirmed", "in_fulfillment"]
    assert len(_work_rows(body)) == 1

    body = (await service.get(f"/orders/{delivered['id']}", headers=DESK)).json()
    assert body["status"] == "delivered"
    assert [h["status"] for h in _work_rows(body)] == ["delivered"]

    cancel = {"reason": "changed mind"}
    for order in (in_order, overtaking):
        resp = await service.post(f"/orders/{order['id']}/cancel", json=cancel, headers=DESK)
        assert resp.status_code == 409, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert "service work" in resp.json()["detail"]
        assert await _status(service, order["id"]) == "in_fulfillment"
    assert await outbox(service.app.state.db, "order.cancelled.v1") == []


async def test_task_completed_after_cancellation_keeps_the_order_cancelled(service) -> None:
    order = await _place(service)
    resp = await service.post(f"/orders/{order['id']}/cancel", json={"reason": "x"}, headers=DESK)
    assert resp.status_code == 200, resp.text
    await publish(
        service.broker, service.settings, TOPIC, fulfilment_event("task.completed.v1", order, 2)
    )

    async def recorded() -> dict | None:
        body = (await service.get(f"/orders/{order['id']}", headers=DESK)).json()
        return body if _work_rows(body) else None

    body = await eventually(recorded, message="task completion not recorded")
    assert body["status"] == "cancelled"
    [work] = _work_rows(body)
    assert work["status"] == "cancelled" and "after the order was cancelled" in work["note"]
