"""Orders from offer.accepted: exactly once under duplicates and replays, the contract kept."""

from __future__ import annotations

import json

from orders_support import ANALYST, accepted_event, offer_accepted, outbox, publish, read_topic
from sqlalchemy import func
from sqlmodel import select

from orders.config import Settings
from orders.main import SPEC, create_app
from orders.tables import OrderRow
from salesflow.contracts.envelope import Envelope
from salesflow.messaging import dlq
from salesflow.testing.helpers import eventually, running
from salesflow.testing.plugin import migrate


async def _orders_of(client, offer_id: str) -> list[dict]:
    resp = await client.get("/orders", params={"offer_id": offer_id}, headers=ANALYST)
    return resp.json()["items"]


async def _count_orders(app) -> int:
    async with app.state.db.session() as session:
        return (await session.exec(select(func.count()).select_from(OrderRow))).one()


async def test_duplicates_and_replays_make_exactly_one_order(
    settings_for, database_url, broker
) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings)
    payload = offer_accepted("off-1", 2)
    event = accepted_event(payload, correlation_id="journey-1")
    reemitted = accepted_event(payload, correlation_id="journey-1")  # same acceptance, new id
    other = accepted_event(offer_accepted("off-2", 1, customer_id="co-2"))
    # redelivery (same event id three times), a re-emission, and another offer behind them
    await publish(broker, settings, "offers.offer.v1", event, event, reemitted, event, other)
    app = create_app(settings)
    async with running(app) as client:
        consumer = app.state.ctx.consumers[0]

        async def both_done() -> bool:
            return len(await _orders_of(client, "off-2")) == 1 and consumer.counts["duplicate"] >= 2

        await eventually(both_done, message="offers not taken in")
        [order] = await _orders_of(client, "off-1")
        assert order["status"] == "confirmed"
        assert order["offer_version"] == 2
        assert order["correlation_id"] == "journey-1"
        detail = (await client.get(f"/orders/{order['id']}", headers=ANALYST)).json()
        contract = detail["contract"]
        assert contract["offer_id"] == "off-1" and contract["offer_version"] == 2
        assert contract["accepted_by"] == "Erika Muster"
        assert contract["event_id"] == event.id
        assert contract["snapshot"]["lines"][0]["unit_price"] == {
            "amount": "1000.00",
            "currency": "EUR",
        }
        assert detail["totals"] == json.loads(json.dumps(payload.totals.model_dump(mode="json")))
        assert detail["customer_po_number"] == "PO-77"
        assert detail["owner"] == "rita" and detail["team"] == "north"

        # a replay of the whole topic (new consumer group, inbox wiped) changes nothing
        async with app.state.db.session() as session, session.begin():
            from sqlalchemy import delete

            from salesflow.messaging.tables import InboxRow

            await session.execute(delete(InboxRow))
        await publish(broker, settings, "offers.offer.v1", event, reemitted)
        await eventually(
            lambda: _true(consumer.counts["handled"] >= 5), message="replay not consumed"
        )
        assert await _count_orders(app) == 2
        assert len(await outbox(app.state.db, "order.confirmed.v1")) == 2

    # the journey goes on: order.received is caused by offer.accepted, same correlation id
    records = await read_topic(broker, settings.topic("orders.order.v1"), expect=4)
    envelopes = [Envelope.from_record(r.headers, r.value) for r in records]
    mine = [e for e in envelopes if e.subject == order["id"]]
    received = next(e for e in mine if e.type == "order.received.v1")
    confirmed = next(e for e in mine if e.type == "order.confirmed.v1")
    assert received.causation_id == event.id
    assert confirmed.causation_id == received.id
    assert {e.correlation_id for e in mine} == {"journey-1"}
    assert all(r.key.decode() == order["id"] for r in records if r.key.decode() == order["id"])


async def _true(value: bool) -> bool:
    return value


async def test_a_second_accepted_version_of_one_offer_is_dead_lettered(
    settings_for, database_url, broker
) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings)
    await publish(
        broker,
        settings,
        "offers.offer.v1",
        accepted_event(offer_accepted("off-9", 1)),
        accepted_event(offer_accepted("off-9", 2)),
    )
    app = create_app(settings)
    async with running(app) as client:

        async def parked() -> list:
            async with app.state.db.session() as session:
                return await dlq.list_dead(session)

        [dead] = await eventually(parked, message="second version not dead-lettered")
        assert "accepted, but order" in dead.error
        assert dead.attempts == 1  # a permanent error is not retried
        assert [o["offer_version"] for o in await _orders_of(client, "off-9")] == [1]


async def test_incomplete_ship_to_and_credit_limit_reject_offer_orders(
    settings_for, database_url, broker
) -> None:
    from decimal import Decimal

    from salesflow.contracts.events.common import Address

    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings, default_credit_limit=Decimal("5000"))
    no_postcode = Address(street="Dock 4", city="Hamburg", country="DE")
    await publish(
        broker,
        settings,
        "offers.offer.v1",
        accepted_event(offer_accepted("off-a", 1, customer_id="co-3", ship_to=no_postcode)),
        accepted_event(offer_accepted("off-b", 1, quantity="3")),  # 3,400 net, 4,046 gross
    )
    app = create_app(settings)
    async with running(app) as client:

        async def first_two() -> bool:
            return len((await client.get("/orders", headers=ANALYST)).json()["items"]) == 2

        await eventually(first_two, message="orders missing")
        # + 1,547 gross would exceed 5,000
        await publish(
            broker,
            settings,
            "offers.offer.v1",
            accepted_event(offer_accepted("off-c", 1, quantity="1")),
        )

        async def three() -> list:
            items = (await client.get("/orders", headers=ANALYST)).json()["items"]
            return items if len(items) == 3 else []

        items = {o["offer_id"]: o for o in await eventually(three, message="orders missing")}
        assert items["off-b"]["status"] == "confirmed"
        for offer_id, code in (("off-a", "incomplete_ship_to"), ("off-c", "credit_limit_exceeded")):
            detail = (await client.get(f"/orders/{items[offer_id]['id']}", headers=ANALYST)).json()
            assert detail["status"] == "rejected"
            assert [r["code"] for r in detail["rejection_reasons"]] == [code]
        rejected = await outbox(app.state.db, "order.rejected.v1")
        assert len(rejected) == 2
        # the customer was learnt from the offers: direct intake knows it now
        customer = (await client.get("/customers/co-1", headers=ANALYST)).json()
        assert customer["source"] == "offer"
        assert customer["open_order_value"]["amount"] == "4046.00"


async def test_the_database_refuses_a_second_order_for_one_offer_version(
    settings_for, database_url
) -> None:
    """The last line of defence when two replicas take in the same acceptance at once (both
    past the business-key check): the unique constraint on (offer_id, offer_version)."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import IntegrityError

    from orders import customers, drafts
    from orders.intake import take_in
    from salesflow.db import Database

    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings)
    db = Database(database_url)
    payload = offer_accepted("off-twin", 3)
    now = datetime.now(UTC)
    try:
        for attempt in range(2):
            event = accepted_event(payload)
            async with db.session() as session:
                try:
                    async with session.begin():
                        await customers.upsert_from_offer(session, payload, event.time, now)
                        await take_in(session, settings, [drafts.from_offer(payload, event)], now)
                except IntegrityError:
                    assert attempt == 1
                    continue
            assert attempt == 0
        async with db.session() as session:
            rows = (await session.exec(select(OrderRow.order_number))).all()
        assert len(rows) == 1
        # the twin's number went back with its rollback: the next order gets number 2
        assert rows[0].endswith("-000001")
        async with db.session() as session, session.begin():
            other = offer_accepted("off-next", 1)
            await take_in(session, settings, [drafts.from_offer(other, accepted_event(other))], now)
        async with db.session() as session:
            numbers = sorted((await session.exec(select(OrderRow.order_number))).all())
        assert [n[-6:] for n in numbers] == ["000001", "000002"]
    finally:
        await db.dispose()


async def test_accepted_offers_keep_the_customer_master_current(settings_for, database_url) -> None:
    """The customer is learnt from the first acceptance and refreshed by newer ones; an older
    event does not overwrite newer data, and one without account id keeps the known id."""
    from datetime import UTC, datetime, timedelta

    from orders import customers
    from orders.tables import CustomerRow
    from salesflow.db import Database

    await migrate(SPEC.migrations_dir, database_url)
    db = Database(database_url)
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)

    def accepted(offer_id: str, name: str, account_id: str | None):
        payload = offer_accepted(offer_id, 1)
        return payload.model_copy(
            update={
                "customer": payload.customer.model_copy(update={"name": name}),
                "account_id": account_id,
            }
        )

    async def learn(payload, event_time: datetime) -> CustomerRow:
        async with db.session() as session, session.begin():
            await customers.upsert_from_offer(session, payload, event_time, t0)
        async with db.session() as session:
            return await session.get(CustomerRow, payload.customer.company_id)

    try:
        first = await learn(accepted("off-a", "First GmbH", "acc-1"), t0)
        assert (first.name, first.account_id, first.version) == ("First GmbH", "acc-1", 1)
        assert first.source == "offer" and first.source_time == t0
        assert first.snapshot["name"] == "First GmbH" and first.bill_to is not None
        newer = await learn(accepted("off-b", "Newer GmbH", None), t0 + timedelta(hours=1))
        assert (newer.name, newer.account_id, newer.version) == ("Newer GmbH", "acc-1", 2)
        assert newer.source_time == t0 + timedelta(hours=1)
        older = await learn(accepted("off-c", "Older GmbH", "acc-0"), t0 + timedelta(minutes=5))
        assert (older.name, older.account_id, older.version) == ("Newer GmbH", "acc-1", 2)
        assert older.source_time == t0 + timedelta(hours=1)
    finally:
        await db.dispose()


async def test_offers_too_large_to_keep_become_rejected_orders(
    settings_for, database_url, broker
) -> None:
    """An accepted offer whose amounts exceed what orders keeps (10^15 minor units) still gets
    its one order, rejected with ``amount_too_large``, instead of a dead letter."""
    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings)
    # every line fits, the gross total (10.71 trillion EUR) does not
    total_only = offer_accepted("off-big", 1, quantity="2", unit_price="4500000000000.00")
    # a line far beyond even a 64-bit integer of cents
    line_too = offer_accepted("off-huge", 1, customer_id="co-7", unit_price="1" + "0" * 20)
    await publish(
        broker, settings, "offers.offer.v1", accepted_event(total_only), accepted_event(line_too)
    )
    app = create_app(settings)
    async with running(app) as client:

        async def both() -> list:
            items = (await client.get("/orders", headers=ANALYST)).json()["items"]
            return items if len(items) == 2 else []

        items = {o["offer_id"]: o for o in await eventually(both, message="orders missing")}
        for offer_id, payload, line_nos in (
            ("off-big", total_only, [None]),
            ("off-huge", line_too, [1, None]),
        ):
            order = items[offer_id]
            assert order["status"] == "rejected"
            assert order["gross"] == payload.totals.gross.model_dump(mode="json")
            detail = (await client.get(f"/orders/{order['id']}", headers=ANALYST)).json()
            reasons = detail["rejection_reasons"]
            assert [(r["code"], r["line_no"]) for r in reasons] == [
                ("amount_too_large", no) for no in line_nos
            ]
            assert [h["status"] for h in detail["history"]] == ["received", "rejected"]
        async with app.state.db.session() as session:
            assert await dlq.list_dead(session) == []
        assert len(await outbox(app.state.db, "order.received.v1")) == 2
        assert len(await outbox(app.state.db, "order.rejected.v1")) == 2
        # a rejected order is not open: the customer's open order value stays untouched
        customer = (await client.get("/customers/co-1", headers=ANALYST)).json()
        assert customer["open_order_value"] in (None, {"amount": "0.00", "currency": "EUR"})
