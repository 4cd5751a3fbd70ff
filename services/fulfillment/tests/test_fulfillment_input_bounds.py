"""Input at the edges (found by probing the API as a user): times out of range, fractions of
pieces, proofs of delivery from the future, requested dates at the end of the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fulfillment_testkit import (
    ORDERS,
    STATUS,
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
    processed,
    publish,
    service,
    start_app,
    status,
)

from fulfillment.domain.planning import LineKind as PlanKind
from fulfillment.domain.planning import OrderLineIn, PlanningRules, days_after, draft_plan
from salesflow.messaging import dlq
from salesflow.testing.helpers import running

PROBLEM = "application/problem+json"
EDGES = ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "1700000000", 0)


async def test_times_out_of_range_are_refused(settings_for, database_url, broker):
    settings, app = await start_app(settings_for, database_url)
    o = order([goods(1, "LATHE-500", "1"), service(2, "COMM", "Commissioning")])
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(o))
        plan = await plan_of(client, o.order_id)
        url = f"/shipments/{plan['shipments'][0]['id']}/events"
        complete = f"/tasks/{plan['tasks'][0]['id']}/complete"
        for edge in EDGES:
            resp = await client.post(url, json=body("picked", 1, occurred_at=edge), headers=WMS)
            assert resp.status_code == 422, (edge, resp.text)
            assert resp.headers["content-type"] == PROBLEM
            resp = await client.post(complete, json={"completed_at": edge}, headers=TECH)
            assert resp.status_code == 422, (edge, resp.text)
        for received_at in ("9999-12-31", 0):
            pod = {"signed_by": "Bob", "received_at": received_at}
            resp = await client.post(
                url, json=body("delivered", 1, proof_of_delivery=pod), headers=WMS
            )
            assert resp.status_code == 422, (received_at, resp.text)
        after = await detail(client, plan["id"])
        assert after["version"] == plan["version"]
        assert after["shipments"][0]["status"] == "planned"
        assert after["tasks"][0]["status"] == "open"


async def test_a_proof_of_delivery_from_the_future_is_refused(settings_for, database_url, broker):
    settings, app = await start_app(settings_for, database_url)
    o = order([goods(1, "LATHE-500", "2")])
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(o))
        plan = await plan_of(client, o.order_id)
        url = f"/shipments/{plan['shipments'][0]['id']}/events"
        future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
        pod = {"signed_by": "Bob", "received_at": future}
        resp = await client.post(url, json=body("delivered", 1, proof_of_delivery=pod), headers=WMS)
        assert resp.status_code == 422, resp.text
        assert "received_at" in resp.json()["detail"]
        assert await outbox(app.state.db, "shipment.delivered.v1") == []
        # today is not the future, wherever the goods were signed for
        today = datetime.now(UTC).date().isoformat()
        pod = {"signed_by": "Bob", "received_at": today}
        resp = await client.post(url, json=body("delivered", 1, proof_of_delivery=pod), headers=WMS)
        assert resp.status_code == 200, resp.text
        assert resp.json()["shipment"]["lines"][0]["delivered_on"] == today


async def test_fractions_of_pieces_are_refused_on_both_channels(settings_for, database_url, broker):
    settings, app = await start_app(settings_for, database_url)
    o = order([goods(1, "LATHE-500", "3"), goods(2, "STEEL", "2.5", unit="KGM")])
    async with running(app) as client:
        db = app.state.db
        await publish(broker, settings.topic(ORDERS), confirmed(o))
        plan = await plan_of(client, o.order_id)
        url = f"/shipments/{plan['shipments'][0]['id']}/events"

        half = body("delivered", 1, [line(1, "LATHE-500", "0.5")])
        resp = await client.post(url, json=half, headers=WMS)
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"] == PROBLEM
        assert "whole number of pieces" in resp.json()["detail"]
        assert (await detail(client, plan["id"]))["version"] == plan["version"]

        on_topic = status(o, "delivered", 2, [line(1, "LATHE-500", "1.5")])
        await publish(broker, settings.topic(STATUS), on_topic)
        await processed(db, on_topic)
        async with db.session() as session:
            [dead] = await dlq.list_dead(session)
        assert dead.event_id == on_topic.id and "whole number of pieces" in dead.error
        assert dead.attempts == 1  # permanent: no retries

        # whole pieces, and fractions of a line measured in kilograms, are delivered
        ok = body("delivered", 3, [line(1, "LATHE-500", "1.000"), line(2, "STEEL", "1.25")])
        resp = await client.post(url, json=ok, headers=WMS)
        assert resp.status_code == 200, resp.text
        lines = resp.json()["shipment"]["lines"]
        assert [Decimal(ln["delivered_quantity"]) for ln in lines] == [1, Decimal("1.25")]


async def test_a_date_at_the_end_of_the_calendar_still_gets_a_plan(
    settings_for, database_url, broker
):
    settings, app = await start_app(settings_for, database_url)
    o = order(
        [goods(1, "LATHE-500", "1"), service(2, "INSTALL", "Installation")],
        requested=date(9999, 12, 31),
    )
    async with running(app) as client:
        await publish(broker, settings.topic(ORDERS), confirmed(o))
        plan = await plan_of(client, o.order_id)
        assert plan["shipments"][0]["planned_date"] == "9999-12-31"
        assert plan["tasks"][0]["due_date"] == "9999-12-31"
        async with app.state.db.session() as session:
            assert await dlq.list_dead(session) == []


def test_due_dates_stop_at_the_end_of_the_calendar() -> None:
    assert days_after(date(2026, 3, 2), 3) == date(2026, 3, 5)
    assert days_after(date(9999, 12, 29), 3) == date.max
    assert days_after(date.max, 10) == date.max
    lines = [
        OrderLineIn(1, "LATHE", "Lathe", Decimal(1), "C62", PlanKind.GOODS),
        OrderLineIn(2, "SRV", "Schulung", Decimal(8), "HUR", PlanKind.SERVICE),
    ]
    plan = draft_plan(lines, requested_date=None, today=date(9999, 12, 30), rules=PlanningRules())
    assert plan.shipments[0].planned_date == date.max
    assert plan.tasks[0].due_date == date.max
