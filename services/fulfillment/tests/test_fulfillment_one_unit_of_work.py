"""A consumer poll is one unit of work: a report applied earlier in it (its timeline row written
with Core, not through the session) must be seen by the later ones — a duplicate is dropped, a
later report folds onto the earlier one, the plan completes once."""

from __future__ import annotations

import json

from fulfillment_testkit import confirmed, goods, line, order, outbox, status
from sqlmodel import col, select

from fulfillment.config import Settings
from fulfillment.handlers import HANDLERS
from fulfillment.main import SPEC
from fulfillment.tables import FulfillmentRow, ShipmentLineRow, ShipmentRow, TimelineRow
from salesflow.contracts.envelope import Envelope
from salesflow.db import Database
from salesflow.messaging.handlers import HandlerContext
from salesflow.testing.plugin import migrate


def _from_topic(event: Envelope) -> Envelope:
    return Envelope.from_record(event.headers(), event.value())


async def test_reports_in_one_unit_of_work_see_each_other(settings_for, database_url) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings)
    db = Database(database_url)
    o = order([goods(1, "LATHE-500", "2")])
    dispatched = status(o, "dispatched", 10, carrier="DACHSER", tracking_number="DAC1")
    twin = status(  # the same report again, in a new envelope
        o,
        "dispatched",
        10,
        status_event_id=dispatched.data["status_event_id"],
        carrier="DACHSER",
        tracking_number="DAC1",
    )
    delivered = status(o, "delivered", 20, [line(1, "LATHE-500", "2", "S-1", "S-2")])
    poll = [confirmed(o), dispatched, twin, delivered, delivered]
    try:
        async with db.session() as session, session.begin():
            for event in map(_from_topic, poll):
                await HANDLERS[event.type](HandlerContext(session, event, settings))
        async with db.session() as session:
            kinds = (
                await session.exec(
                    select(TimelineRow.kind, TimelineRow.status).order_by(col(TimelineRow.id))
                )
            ).all()
        assert kinds == [
            ("planned", None),
            ("status", "dispatched"),
            ("status", "delivered"),
            ("completed", None),
        ]
        # one version per change, in the events and in the rows written
        versions = [(row.type, json.loads(row.payload)["version"]) for row in await outbox(db)]
        assert versions == [
            ("fulfillment.planned.v1", 1),
            ("shipment.dispatched.v1", 2),
            ("shipment.delivered.v1", 3),
            ("fulfillment.completed.v1", 4),
        ]
        (done,) = await outbox(db, "fulfillment.completed.v1")
        items = json.loads(done.payload)["items"]
        assert [i["serial_numbers"] for i in items] == [["S-1", "S-2"]]
        async with db.session() as session:
            plan = (await session.exec(select(FulfillmentRow))).one()
            shipment = (await session.exec(select(ShipmentRow))).one()
            ln = (await session.exec(select(ShipmentLineRow))).one()
        assert (plan.status, plan.version, plan.completed_at is not None) == ("completed", 4, True)
        assert (shipment.status, shipment.version, shipment.tracking_number) == (
            "delivered",
            3,
            "DAC1",
        )
        assert (ln.stage, ln.delivered_quantity, ln.serial_numbers) == (
            "delivered",
            2,
            ["S-1", "S-2"],
        )
    finally:
        await db.dispose()
