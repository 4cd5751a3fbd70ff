"""Accounts and installed base from fulfillment.completed and order.* through the real broker:
built exactly once under redelivery, updated by later orders; reads with ownership."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from aftersales_testkit import (
    COMPANY,
    Clock,
    fulfillment_completed,
    order_event,
    outbox,
    problem,
    publish,
    seed,
    service,
    settings,
)
from sqlalchemy import func
from sqlmodel import select

from aftersales.tables import AccountRow, AssetRow, OrderRow
from salesflow.testing.helpers import bearer, eventually

AGENT = bearer("sam", ["service_agent"])
ALICE = bearer("alice", ["sales_rep"], team="south")
BOB = bearer("bob", ["sales_rep"], team="south")
SOUTH_MANAGER = bearer("maria", ["sales_manager"], team="south")
NORTH_MANAGER = bearer("nils", ["sales_manager"], team="north")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


async def count(db, model, *where) -> int:
    async with db.session() as session:
        stmt = select(func.count()).select_from(model)
        for cond in where:
            stmt = stmt.where(cond)
        return (await session.exec(stmt)).one()


async def test_account_and_installed_base_built_once_under_redelivery(settings_for) -> None:
    cfg = settings(settings_for)
    received = order_event("order.received.v1", version=1)
    first = fulfillment_completed(cause=received)
    # fulfillment re-emits the same completion (new event id): the business key must hold
    reemitted = fulfillment_completed()
    async with service(cfg, Clock(NOW)) as (app, client):
        db = app.state.db
        await publish(cfg, "orders.order.v1", received)
        await publish(cfg, "fulfillment.fulfillment.v1", first, first, reemitted, first)
        consumer = app.state.ctx.consumers[0]

        async def settled() -> bool:
            c = consumer.counts
            # a rebalance may deliver a record once more: at least the two repeats are skipped
            return c["handled"] == 3 and c["duplicate"] >= 2

        await eventually(settled, message="events not consumed")
        assert await count(db, AccountRow) == 1
        # 2 serialised lathes + 1 care contract
        assert await count(db, AssetRow) == 3
        onboarded = await outbox(db, "account.onboarded.v1")
        assert len(onboarded) == 1
        event = onboarded[0]
        assert event.causation_id == first.id
        assert event.correlation_id == received.correlation_id == first.correlation_id
        data = event.payload()
        assert data.company.company_id == "co-1" and data.owner == "alice"
        assert sorted((a.kind, a.serial_number or "") for a in data.installed_base) == [
            ("contract", ""),
            ("goods", "SN-1"),
            ("goods", "SN-2"),
        ]
        account_id = data.account_id
        assert event.subject == account_id

        detail = (await client.get(f"/accounts/{account_id}", headers=ALICE)).json()
        lathes = [a for a in detail["installed_base"] if a["sku"] == "LATHE-500"]
        assert {a["warranty_end"] for a in lathes} == {"2029-03-01"}  # LATHE-* → 36 months
        assert {a["warranty_status"] for a in lathes} == {"in_warranty"}
        contract = next(a for a in detail["installed_base"] if a["kind"] == "contract")
        assert contract["contract_end"] == "2027-03-01" and contract["warranty_end"] is None
        assert detail["repeat_orders"] == 0
        assert detail["health"]["score"] == 75 and detail["health"]["band"] == "healthy"

        # a later order from the same customer: recorded as a repeat order, account updated
        renamed = {**COMPANY, "name": "Muster Maschinenbau AG"}
        second = order_event("order.received.v1", order_id="ord-2", company=renamed)
        stale = order_event("order.received.v1", order_id="ord-2", version=1, status="received")
        confirmed = order_event(
            "order.confirmed.v1", order_id="ord-2", version=2, status="confirmed", company=renamed
        )
        second_delivery = fulfillment_completed(
            order_id="ord-2",
            fulfillment_id="ful-2",
            company=renamed,
            items=[
                {
                    "line_no": 1,
                    "sku": "DRILL-1",
                    "kind": "goods",
                    "quantity": "5",
                    "unit": "C62",
                    "delivered_on": "2026-03-09",
                }
            ],
        )
        await publish(cfg, "orders.order.v1", second, confirmed, stale)
        await publish(cfg, "fulfillment.fulfillment.v1", second_delivery)

        async def second_delivered() -> bool:
            return await count(db, AssetRow) == 4

        await eventually(second_delivered, message="second delivery not taken in")
        await eventually(lambda: settled_count(consumer, 9), message="order events not consumed")
        assert await count(db, AccountRow) == 1
        assert len(await outbox(db, "account.onboarded.v1")) == 1
        async with db.session() as session:
            order = await session.get(OrderRow, "ord-2")
        assert order.status == "confirmed" and order.version == 2  # the stale one was dropped
        assert order.account_id == account_id

        detail = (await client.get(f"/accounts/{account_id}", headers=AGENT)).json()
        assert detail["name"] == "Muster Maschinenbau AG"
        assert detail["repeat_orders"] == 1
        assert [o["repeat"] for o in detail["orders"]] == [True, False]
        drill = next(a for a in detail["installed_base"] if a["sku"] == "DRILL-1")
        assert Decimal(drill["quantity"]) == 5 and drill["serial_number"] is None
        assert drill["warranty_end"] == "2028-03-08"  # default 24 months
        factors = {f["factor"]: f for f in detail["health"]["breakdown"]}
        assert factors["repeat_orders"] == {
            "factor": "repeat_orders",
            "count": 1,
            "points": 10,
            "detail": "orders after the first one",
        }
        assert detail["health"]["score"] == 85
        assert detail["previous_correlation_ids"][-1] == received.correlation_id
        assert len(detail["previous_correlation_ids"]) == 2


async def settled_count(consumer, n: int) -> bool:
    c = consumer.counts
    return c["handled"] + c["duplicate"] >= n


async def test_accounts_visible_to_owner_team_and_service(settings_for) -> None:
    cfg = settings(settings_for, consumers_enabled=False, renewal_notice_days=60)
    clock = Clock(NOW)
    async with service(cfg, clock) as (app, client):
        north = {**COMPANY, "company_id": "co-2", "name": "Nord GmbH"}
        await seed(
            app.state.db,
            cfg,
            fulfillment_completed(),
            fulfillment_completed(
                order_id="ord-9",
                fulfillment_id="ful-9",
                company=north,
                owner="nora",
                team="north",
                delivered_on=date(2025, 1, 20),
            ),
            now=NOW,
        )
        all_ids = {
            a["name"]: a["id"]
            for a in (await client.get("/accounts", headers=AGENT)).json()["items"]
        }
        assert set(all_ids) == {"Muster Maschinenbau GmbH", "Nord GmbH"}
        south_id, north_id = all_ids["Muster Maschinenbau GmbH"], all_ids["Nord GmbH"]

        async def names(headers: dict, **params) -> list[str]:
            resp = await client.get("/accounts", headers=headers, params=params)
            assert resp.status_code == 200, resp.text
            return [a["name"] for a in resp.json()["items"]]

        assert await names(ALICE) == ["Muster Maschinenbau GmbH"]
        assert await names(BOB) == []
        assert await names(SOUTH_MANAGER) == ["Muster Maschinenbau GmbH"]
        assert await names(NORTH_MANAGER) == ["Nord GmbH"]
        assert (await client.get(f"/accounts/{south_id}", headers=ALICE)).status_code == 200
        problem(await client.get(f"/accounts/{north_id}", headers=ALICE), 404)
        problem(await client.get(f"/accounts/{south_id}", headers=BOB), 404)
        problem(await client.get("/accounts/nope", headers=AGENT), 404)
        problem(await client.get("/accounts", headers=bearer("lg", ["logistics_system"])), 403)
        problem(await client.get("/accounts"), 401)

        # North's care contract (2025-01-20 + 12 months) ended; its lathes' warranty runs to
        # 2028. South's contract ends 2027-03-01: due within 60 days from 2027-01-15.
        assert await names(AGENT, renewal_due="true") == []
        clock.now = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
        assert await names(AGENT, renewal_due="true") == ["Muster Maschinenbau GmbH"]
        assert await names(AGENT, renewal_due="false") == ["Nord GmbH"]
        assert await names(AGENT, renewal_due="true", renewal_within_days=1) == []
        assert sorted(await names(AGENT, health="healthy")) == [
            "Muster Maschinenbau GmbH",
            "Nord GmbH",
        ]
        assert await names(AGENT, health="critical") == []
        problem(await client.get("/accounts?health=great", headers=AGENT), 422)
        first = await client.get("/accounts", headers=AGENT, params={"limit": 1})
        cursor = first.json()["next_cursor"]
        assert cursor
        rest = await client.get("/accounts", headers=AGENT, params={"limit": 1, "cursor": cursor})
        paged = [a["id"] for a in first.json()["items"] + rest.json()["items"]]
        assert sorted(paged) == sorted([south_id, north_id])
        assert rest.json()["next_cursor"] is None
