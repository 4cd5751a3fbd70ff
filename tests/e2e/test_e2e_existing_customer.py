"""An existing customer goes straight to an order (phases 1–5 skipped): order desk intake →
confirmed → planned → produced, shipped and delivered by the logistics simulator → fulfilment
completed → order completed → account onboarded with its installed base → traced in controlling.
Only the public HTTP APIs and topics are used, with every service a real process."""

from __future__ import annotations

import asyncio

from journey_kit import ADMIN, ANALYST, ORDER_DESK, Platform, ok, until

from fulfillment.simulator import run_simulator
from salesflow.stack import DevStack

ADDRESS = {"street": "Hafenstraße 1", "postal_code": "20457", "city": "Hamburg", "country": "DE"}


async def test_existing_customer_straight_to_an_order(stack: DevStack, topic_prefix: str) -> None:
    platform = Platform(stack)
    stop = asyncio.Event()
    simulator = asyncio.create_task(
        run_simulator(
            stack.bootstrap,
            topic_prefix,
            delay_s=0.05,
            partial_ratio=0.0,
            failure_ratio=0.0,
            seed=7,
            stop_event=stop,
            session_timeout_ms=2000,
            heartbeat_interval_ms=300,
        )
    )
    try:
        ok(
            await platform.orders.put(
                "/customers/cust-42",
                headers=ORDER_DESK,
                json={
                    "company": {
                        "name": "Nordwerk GmbH",
                        "country": "DE",
                        "city": "Hamburg",
                        "postal_code": "20457",
                        "nace": "28.41",
                    },
                    "account_id": "acct-nordwerk",
                    "owner": "alice",
                    "team": "north",
                    "bill_to": ADDRESS,
                    "ship_to": ADDRESS,
                },
            ),
            201,
        )
        ok(
            await platform.orders.put(
                "/price-list/LATHE-200",
                headers=ORDER_DESK,
                json={
                    "currency": "EUR",
                    "name": "Lathe 200",
                    "unit": "C62",
                    "kind": "goods",
                    "unit_price": "12500.00",
                    "tax_rate": "19",
                },
            ),
            201,
        )
        order = ok(
            await platform.orders.post(
                "/orders",
                headers={**ORDER_DESK, "Idempotency-Key": "po-4711"},
                json={
                    "customer_id": "cust-42",
                    "customer_po_number": "PO-4711",
                    "lines": [{"sku": "LATHE-200", "quantity": "2"}],
                },
            ),
            201,
        )
        assert order["status"] in ("received", "confirmed"), order
        order_id = order["id"]

        async def completed() -> dict | None:
            body = ok(await platform.orders.get(f"/orders/{order_id}", headers=ORDER_DESK))
            return body if body["status"] == "completed" else None

        done = await until(completed, timeout=90, what="order completed")
        statuses = [h["status"] for h in done["history"]]
        assert statuses[0] == "received" and statuses[-1] == "completed"
        assert "confirmed" in statuses and "delivered" in statuses

        async def onboarded() -> list:
            body = ok(await platform.aftersales.get("/accounts", headers=ADMIN))
            return body["items"]

        accounts = await until(onboarded, timeout=60, what="account onboarded")
        account = ok(await platform.aftersales.get(f"/accounts/{accounts[0]['id']}", headers=ADMIN))
        assets = account["installed_base"]
        assert len(assets) == 2 and {a["sku"] for a in assets} == {"LATHE-200"}
        assert all(a["serial_number"] for a in assets)

        correlation_id = done["correlation_id"]

        async def traced() -> dict | None:
            resp = await platform.controlling.get(f"/journeys/{correlation_id}", headers=ANALYST)
            if resp.status_code != 200:
                return None
            body = resp.json()
            types = [s["type"] for s in body["steps"]]
            return (
                body if "account.onboarded.v1" in types and "order.completed.v1" in types else None
            )

        journey = await until(traced, timeout=60, what="journey traced in controlling")
        types = [s["type"] for s in journey["steps"]]
        for expected in (
            "order.received.v1",
            "order.confirmed.v1",
            "fulfillment.planned.v1",
            "shipment.status.v1",
            "shipment.dispatched.v1",
            "shipment.delivered.v1",
            "fulfillment.completed.v1",
            "order.completed.v1",
            "account.onboarded.v1",
        ):
            assert expected in types, (expected, types)
        times = [s["occurred_at"] for s in journey["steps"]]
        assert times == sorted(times)
    finally:
        stop.set()
        await asyncio.wait_for(simulator, 30)
        await platform.close()
