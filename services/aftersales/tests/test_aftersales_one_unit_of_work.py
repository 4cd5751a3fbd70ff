"""A consumer poll is one unit of work: an order row written with Core by one event is found by
the next events of the same poll (newer versions applied, stale ones dropped) and adopted by an
account onboarded in it (or, from earlier units of work, by the new account of its company)."""

from __future__ import annotations

from datetime import UTC, datetime

from aftersales_testkit import fulfillment_completed, order_event, seed, settings
from sqlmodel import select

from aftersales.handlers import HANDLERS
from aftersales.main import SPEC
from aftersales.tables import AccountRow, AssetRow, OrderRow
from salesflow.contracts.envelope import Envelope
from salesflow.db import Database
from salesflow.messaging.handlers import HandlerContext
from salesflow.testing.plugin import migrate

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _from_topic(event: Envelope) -> Envelope:
    return Envelope.from_record(event.headers(), event.value())


async def test_events_of_one_poll_see_each_other(settings_for, database_url) -> None:
    cfg = settings(settings_for)
    await migrate(SPEC.migrations_dir, database_url)
    db = Database(database_url)
    poll = [
        order_event("order.confirmed.v1", version=2, status="confirmed", net="100.00"),
        order_event("order.received.v1", version=1),  # stale, but brings the line prices
        order_event("order.confirmed.v1", version=2, status="confirmed", net="999.00"),  # stale
        fulfillment_completed(),
        fulfillment_completed(),  # the same completion again
    ]
    try:
        async with db.session() as session, session.begin():
            for event in map(_from_topic, poll):
                await HANDLERS[event.type](HandlerContext(session, event, cfg))
        async with db.session() as session:
            (order,) = (await session.exec(select(OrderRow))).all()
            (account,) = (await session.exec(select(AccountRow))).all()
            assets = (await session.exec(select(AssetRow))).all()
        assert (order.version, order.status, str(order.net_amount)) == (2, "confirmed", "100.0000")
        assert sorted(order.lines) == ["1", "2"]
        assert order.account_id == account.id
        assert len(assets) == 3  # two serialised lathes and the care contract
    finally:
        await db.dispose()


async def test_a_new_account_adopts_the_earlier_orders_of_its_company(
    settings_for, database_url
) -> None:
    cfg = settings(settings_for)
    await migrate(SPEC.migrations_dir, database_url)
    db = Database(database_url)
    other = {"company_id": "co-9", "name": "Other AG", "country": "DE"}
    try:
        await seed(
            db,
            cfg,
            order_event("order.received.v1", order_id="ord-0"),
            order_event("order.received.v1", order_id="ord-1"),
            order_event("order.received.v1", order_id="ord-9", company=other),
            fulfillment_completed(order_id="ord-1"),
            now=NOW,
        )
        async with db.session() as session:
            (account,) = (await session.exec(select(AccountRow))).all()
            owners = dict(
                (await session.exec(select(OrderRow.order_id, OrderRow.account_id))).all()
            )
        assert owners == {"ord-0": account.id, "ord-1": account.id, "ord-9": None}
    finally:
        await db.dispose()
