"""Status events on logistics.status.v1: routed to shipments by lines or consignment id, applied
once, folded in the order they happened, early ones parked until the plan exists, impossible or
unroutable ones dead-lettered with the reason."""

from __future__ import annotations

import json
from datetime import date

from fulfillment_testkit import (
    ORDERS,
    STATUS,
    T0,
    confirmed,
    detail,
    goods,
    line,
    order,
    outbox,
    plan_of,
    processed,
    publish,
    read_topic,
    start_app,
    status,
)
from sqlmodel import select

from fulfillment.tables import PendingStatusRow
from salesflow.messaging import dlq
from salesflow.testing.helpers import eventually, running

APR1, APR15 = date(2026, 4, 1), date(2026, 4, 15)


async def test_topic_status_events(settings_for, database_url, broker):
    settings, app = await start_app(settings_for, database_url, pending_sweep_interval_s=0.2)
    o = order(
        [
            goods(1, "LATHE-500", "2", APR1),
            goods(2, "CHUCK-8", "1", APR15),
            goods(3, "SENSOR", "4", APR15),
        ]
    )
    async with running(app) as client:
        db = app.state.db
        # production starts before fulfillment has planned the order (topics are not ordered
        # against each other); the status names lines of both shipments
        early = status(o, "in_production", 1, [line(1, "LATHE-500", "2"), line(2, "CHUCK-8", "1")])
        never = status(o, "in_production", 2, [line(9, "GHOST", "1")])  # no such line
        await publish(broker, settings.topic(STATUS), early, never)

        async def parked() -> bool:
            async with db.session() as session:
                return (
                    await session.get(PendingStatusRow, early.data["status_event_id"])
                ) is not None

        await eventually(parked, message="early status not parked")
        await processed(db, never)
        await publish(broker, settings.topic(ORDERS), confirmed(o))
        plan = await plan_of(client, o.order_id)
        first, second = plan["shipments"]
        assert [ln["line_no"] for ln in first["lines"]] == [1]
        assert [ln["line_no"] for ln in second["lines"]] == [2, 3]
        # a shipment shows its least advanced line
        assert (first["status"], second["status"]) == ("in_production", "planned")
        assert [ln["stage"] for ln in second["lines"]] == ["in_production", "planned"]

        ext = "EXT-1"
        dispatched = status(
            o,
            "dispatched",
            10,
            [line(1, "LATHE-500", "2")],
            external_shipment_id=ext,
            carrier="DACHSER",
            tracking_number="DAC1",
        )
        delivered = status(
            o, "delivered", 20, external_shipment_id=ext
        )  # no lines: whole consignment
        redelivered = status(
            o,
            "delivered",
            20,
            external_shipment_id=ext,
            status_event_id=delivered.data["status_event_id"],
        )  # same status, new envelope
        part = status(o, "delivered", 50, [line(3, "SENSOR", "2", "S-1", "S-2")])
        rest = status(
            o,
            "delivered",
            55,
            [line(2, "CHUCK-8", "1", "C-1"), line(3, "SENSOR", "2", "S-3", "S-4")],
        )
        late_dispatch = status(
            o,
            "dispatched",
            40,
            [line(2, "CHUCK-8", "1"), line(3, "SENSOR", "4")],
            carrier="UPS",
            tracking_number="1Z",
        )
        impossible = status(o, "picked", 60, [line(2, "CHUCK-8", "1")])
        unroutable = status(o, "delivery_failed", 61, external_shipment_id="EXT-unknown")
        events = [
            dispatched,
            delivered,
            redelivered,
            part,
            rest,
            late_dispatch,
            impossible,
            unroutable,
        ]
        await publish(broker, settings.topic(STATUS), *events)
        await processed(db, *events)

        final = await detail(client, plan["id"])
        assert final["status"] == "completed"
        first, second = final["shipments"]
        assert (first["status"], first["external_ids"], first["tracking_number"]) == (
            "delivered",
            [ext],
            "DAC1",
        )
        assert (second["status"], second["carrier"]) == ("delivered", "UPS")
        assert second["lines"][1]["serial_numbers"] == ["S-1", "S-2", "S-3", "S-4"]
        timeline = [
            (e["status"], e["shipment_id"] == first["id"])
            for e in final["timeline"]
            if e["kind"] == "status"
        ]
        assert timeline == [
            ("in_production", True),  # one status event, split over both shipments
            ("in_production", False),
            ("dispatched", True),
            ("delivered", True),
            ("dispatched", False),  # arrived after the deliveries, placed where it happened
            ("delivered", False),
            ("delivered", False),
        ]

        async with db.session() as session:
            dead = await dlq.list_dead(session)
        assert sorted(d.event_id for d in dead) == sorted([never.id, impossible.id, unroutable.id])
        reasons = {d.event_id: d.error for d in dead}
        assert "has no goods line 9" in reasons[never.id]  # parked first, refused once planned
        assert "impossible status transition" in reasons[impossible.id]
        assert "already fully delivered" in reasons[impossible.id]
        assert "name the shipment" in reasons[unroutable.id]
        assert all(d.attempts == 1 for d in dead)  # permanent: no retries

        delivered_events = [
            json.loads(r.payload) for r in await outbox(db, "shipment.delivered.v1")
        ]
        assert [e["lines"][0]["quantity"] for e in delivered_events] == ["2", "2", "1"]
        assert [e["order_delivery"] for e in delivered_events] == [
            "partially_delivered",
            "partially_delivered",
            "delivered",
        ]
        [completed] = await outbox(db, "fulfillment.completed.v1")
        assert completed.headers["ce_causationid"] == rest.id
        items = json.loads(completed.payload)["items"]
        assert [(i["line_no"], i["quantity"]) for i in items] == [(1, "2"), (2, "1"), (3, "4")]

        async with db.session() as session:
            assert (await session.exec(select(PendingStatusRow))).all() == []
        rejected = [e for e in final["timeline"] if e["kind"] == "status_rejected"]
        assert [e["detail"]["status_event_id"] for e in rejected] == [never.data["status_event_id"]]
        records = await read_topic(broker, settings.topic("fulfillment.dlq"), expect=3)
        assert {dict(r.headers)["ce_id"].decode() for r in records} == {
            never.id,
            impossible.id,
            unroutable.id,
        }

        # fixed at the source, the parked-then-refused event is replayed like any dead letter
        async with db.session() as session, session.begin():
            [parked_dead] = [d for d in await dlq.list_dead(session) if d.event_id == never.id]
            assert parked_dead.topic == STATUS
            await dlq.replay(session, parked_dead)

        async def dead_again() -> bool:
            async with db.session() as session:
                return len(await dlq.list_dead(session)) == 3

        await eventually(dead_again, message="replayed event not dead-lettered again")

        # a report parked while its plan was being committed is applied by the sweeper
        raced = status(o, "ready", 5, [line(1, "LATHE-500", "2")])  # fits between 1 and 10
        async with db.session() as session, session.begin():
            session.add(
                PendingStatusRow(
                    status_event_id=raced.data["status_event_id"],
                    order_id=o.order_id,
                    occurred_at=T0,
                    headers={k: v.decode() for k, v in raced.headers()},
                    payload=raced.value().decode(),
                    received_at=T0,
                )
            )

        async def swept() -> list | None:
            timeline = (await detail(client, plan["id"]))["timeline"]
            statuses = [
                e["status"]
                for e in timeline
                if e["kind"] == "status" and e["shipment_id"] == first["id"]
            ]
            return statuses if "ready" in statuses else None

        assert await eventually(swept, message="sweeper did not apply the parked report") == [
            "in_production",
            "ready",
            "dispatched",
            "delivered",
        ]
