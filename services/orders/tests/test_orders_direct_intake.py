"""Direct intake over POST /orders: pricing, roles, validation, credit limit, idempotency, and
JSON taken only when declared JSON (415 otherwise, per request and through the group-commit
batcher alike)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from orders_support import DESK, SHOP, customer_body, order_body, outbox, seeded_client
from sqlalchemy import select

from orders.config import Settings
from salesflow.api.idempotency import STALE_AFTER, fingerprint
from salesflow.messaging.tables import IdempotencyRow
from salesflow.testing.helpers import bearer


@pytest.fixture(params=[False, True], ids=["per-request", "group-commit"])
async def client(request, settings_for, database_url) -> AsyncIterator:
    settings = settings_for(
        Settings, default_credit_limit=Decimal("10000"), intake_group_commit=request.param
    )
    async with seeded_client(settings, database_url) as client:
        yield client


def order(*lines: dict, **extra) -> dict:
    return order_body(*lines, quantity="3", **extra)


async def test_price_list_order_is_confirmed_with_exact_totals(client) -> None:
    resp = await client.post(
        "/orders",
        json=order({"sku": "WIDGET", "quantity": "3"}, {"sku": "SETUP", "quantity": "1.5"}),
        headers=DESK,
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "confirmed"
    assert body["order_number"].startswith("SO-")
    assert [line["net"]["amount"] for line in body["lines"]] == ["150.00", "180.00"]
    assert body["totals"]["net"]["amount"] == "330.00"
    assert body["totals"]["tax"]["amount"] == "62.70"
    assert body["totals"]["gross"]["amount"] == "392.70"
    assert body["ship_to"]["street"] == "Lagerweg 5"  # the customer's, as none was given
    assert [h["status"] for h in body["history"]] == ["received", "confirmed"]
    emitted = await outbox(client.app.state.db)
    assert [r.type for r in emitted] == ["order.received.v1", "order.confirmed.v1"]
    confirmed = json.loads(emitted[1].payload)
    assert confirmed["order_number"] == body["order_number"]
    assert [(line["sku"], line["kind"]) for line in confirmed["lines"]] == [
        ("WIDGET", "goods"),
        ("SETUP", "service"),
    ]
    assert "unit_price" not in confirmed["lines"][0]  # production gets no prices
    # one journey: confirmed is caused by received and shares its correlation id
    assert emitted[1].headers["ce_causationid"] == emitted[0].event_id
    assert emitted[1].headers["ce_correlationid"] == emitted[0].headers["ce_correlationid"]


async def test_correlation_id_of_the_request_is_the_orders(client) -> None:
    headers = {**DESK, "X-Correlation-Id": "journey-42"}
    resp = await client.post("/orders", json=order(), headers=headers)
    assert resp.json()["correlation_id"] == "journey-42"
    emitted = await outbox(client.app.state.db, "order.confirmed.v1")
    assert emitted[0].headers["ce_correlationid"] == "journey-42"


async def test_agreed_prices_only_for_the_order_desk(client) -> None:
    agreed = {
        "sku": "SPECIAL-1",
        "quantity": "1",
        "unit_price": "999.99",
        "name": "Special",
        "unit": "C62",
        "kind": "goods",
        "tax_rate": "7",
        "discount_percent": "10",
    }
    resp = await client.post("/orders", json=order(agreed), headers=SHOP)
    assert resp.status_code == 403
    resp = await client.post("/orders", json=order(agreed), headers=DESK)
    assert resp.status_code == 201, resp.text
    line = resp.json()["lines"][0]
    assert line["net"]["amount"] == "899.99"  # 999.99 less 10 %, rounded half up
    assert line["tax"]["amount"] == "63.00"
    # an agreed price for a listed SKU takes the rest from the list
    resp = await client.post(
        "/orders", json=order({"sku": "WIDGET", "quantity": "2", "unit_price": "40"}), headers=DESK
    )
    assert resp.json()["lines"][0]["net"]["amount"] == "80.00"
    assert resp.json()["lines"][0]["name"] == "Widget"


async def test_at_list_price_the_price_list_names_the_product_and_its_kind(client) -> None:
    """A web shop cannot turn a listed service into goods (or back), nor rename the product."""
    relabelled = {"sku": "SETUP", "quantity": "2", "kind": "goods", "name": "Free gold bar"}
    resp = await client.post("/orders", json=order(relabelled), headers=SHOP)
    assert resp.status_code == 422, resp.text
    [error] = resp.json()["errors"]
    assert error["line_no"] == 1 and "listed as service" in error["msg"]
    assert (await client.get("/orders", headers=DESK)).json()["items"] == []
    renamed = {"sku": "WIDGET", "quantity": "1", "kind": "goods", "name": "Free gold bar"}
    renamed["description"] = "24 carat"
    service = {"sku": "SETUP", "quantity": "1", "kind": "service", "name": "Free install"}
    resp = await client.post("/orders", json=order(renamed, service), headers=SHOP)
    assert resp.status_code == 201, resp.text
    lines = resp.json()["lines"]
    assert [(x["name"], x["description"], x["kind"]) for x in lines] == [
        ("Widget", None, "goods"),
        ("Setup", None, "service"),
    ]
    [row] = await outbox(client.app.state.db, "order.confirmed.v1")
    descriptions = [x["description"] for x in json.loads(row.payload)["lines"]]
    assert descriptions == ["Widget", "Setup"]


async def test_integration_orders_come_from_a_web_shop_and_are_its_own(client) -> None:
    resp = await client.post("/orders", json=order(channel="edi"), headers=SHOP)
    assert resp.status_code == 201
    assert resp.json()["channel"] == "edi"
    assert (
        await client.post("/orders", json=order(channel="order_desk"), headers=SHOP)
    ).status_code == 403
    other_shop = bearer("othershop", ["integration"])
    order_id = resp.json()["id"]
    assert (await client.get(f"/orders/{order_id}", headers=SHOP)).status_code == 200
    assert (await client.get(f"/orders/{order_id}", headers=other_shop)).status_code == 404
    assert (
        await client.post("/orders", json=order(), headers=bearer("x", ["sales_rep"]))
    ).status_code == 403


async def test_invalid_requests_are_refused_without_an_order(client) -> None:
    cases = [
        (order(customer_id="nobody"), 422),
        (order({"sku": "NOT-LISTED", "quantity": "1"}), 422),
        (order({"sku": "WIDGET", "quantity": "1", "unit": "KGM"}), 422),
        (order({"sku": "WIDGET", "quantity": "0"}), 422),
        (order({"sku": "WIDGET", "quantity": "1.5e400"}), 422),
        (order({"sku": "WIDGET", "quantity": 1.5}), 201),  # a JSON number is read as decimal
        ({"customer_id": "cust-1", "lines": []}, 422),
        (order(unknown_field=1), 422),
        (order(currency="euro"), 422),
        (order({"sku": "WIDGET", "quantity": "1", "unit_price": "-1"}), 422),
    ]
    for body, status in cases:
        resp = await client.post("/orders", json=body, headers=DESK)
        assert resp.status_code == status, (body, resp.text)
        if status == 422:
            assert resp.headers["content-type"] == "application/problem+json"
    resp = await client.post(
        "/orders", content=b"{not json", headers={**DESK, "Content-Type": "application/json"}
    )
    assert resp.status_code == 400


async def test_incomplete_addresses_and_invalid_lines_reject_the_order(client) -> None:
    resp = await client.post(
        "/orders",
        json=order(
            {"sku": "WIDGET", "quantity": "2.5"},
            ship_to={"street": "Dock 1", "city": "Berlin", "country": "DE"},
            requested_delivery_date="2001-01-01",
        ),
        headers=DESK,
    )
    assert resp.status_code == 201
    body = resp.json()
    assert body["status"] == "rejected"
    codes = {r["code"] for r in body["rejection_reasons"]}
    assert codes == {"incomplete_ship_to", "fractional_quantity", "delivery_date_in_past"}
    rejected = await outbox(client.app.state.db, "order.rejected.v1")
    assert {r["code"] for r in json.loads(rejected[0].payload)["reasons"]} == codes
    assert await outbox(client.app.state.db, "order.confirmed.v1") == []


async def test_credit_limit_counts_open_orders_and_frees_on_cancel(client) -> None:
    # limit 10,000 EUR gross (service default); one widget is 59.50 gross
    big = order({"sku": "WIDGET", "quantity": "100"})  # 5,950.00 gross
    first = await client.post("/orders", json=big, headers=DESK)
    assert first.json()["status"] == "confirmed"
    second = await client.post("/orders", json=big, headers=DESK)
    assert second.json()["status"] == "rejected"
    [reason] = second.json()["rejection_reasons"]
    assert reason["code"] == "credit_limit_exceeded"
    assert "5950.00" in reason["message"]
    customer = (await client.get("/customers/cust-1", headers=DESK)).json()
    assert customer["open_order_value"] == {"amount": "5950.00", "currency": "EUR"}
    # cancelling the first frees the limit
    cancel = await client.post(
        f"/orders/{first.json()['id']}/cancel", json={"reason": "dup"}, headers=DESK
    )
    assert cancel.status_code == 200
    assert (await client.post("/orders", json=big, headers=DESK)).json()["status"] == "confirmed"


async def test_customer_limit_overrides_the_default(client) -> None:
    current = await client.get("/customers/cust-1", headers=DESK)
    from orders_support import customer_body

    body = customer_body(credit_limit={"amount": "100.00", "currency": "EUR"})
    resp = await client.put("/customers/cust-1", json=body, headers=DESK)
    assert resp.status_code == 428  # If-Match required for an update
    resp = await client.put(
        "/customers/cust-1", json=body, headers={**DESK, "If-Match": current.headers["ETag"]}
    )
    assert resp.status_code == 200, resp.text
    two = await client.post("/orders", json=order({"sku": "WIDGET", "quantity": "2"}), headers=DESK)
    assert two.json()["status"] == "rejected"
    body = customer_body(credit_limit={"amount": "100.00", "currency": "USD"})
    resp = await client.put(
        "/customers/cust-1", json=body, headers={**DESK, "If-Match": resp.headers["ETag"]}
    )
    mismatch = await client.post(
        "/orders", json=order({"sku": "WIDGET", "quantity": "1"}), headers=DESK
    )
    assert [r["code"] for r in mismatch.json()["rejection_reasons"]] == [
        "credit_limit_currency_mismatch"
    ]


# --- Idempotency-Key ----------------------------------------------------------------------------


async def test_same_key_same_body_returns_the_stored_response(client) -> None:
    headers = {**DESK, "Idempotency-Key": "k-1"}
    first = await client.post("/orders", json=order(), headers=headers)
    again = await client.post("/orders", json=order(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(await outbox(client.app.state.db, "order.received.v1")) == 1


async def test_same_key_other_body_is_refused(client) -> None:
    headers = {**DESK, "Idempotency-Key": "k-2"}
    assert (await client.post("/orders", json=order(), headers=headers)).status_code == 201
    other = order({"sku": "WIDGET", "quantity": "4"})
    resp = await client.post("/orders", json=other, headers=headers)
    assert resp.status_code == 422
    # keys are per principal: another caller may use the same key
    assert (
        await client.post("/orders", json=other, headers={**SHOP, "Idempotency-Key": "k-2"})
    ).status_code == 201


async def test_failed_request_frees_its_key(client) -> None:
    headers = {**DESK, "Idempotency-Key": "k-3"}
    assert (
        await client.post("/orders", json=order(customer_id="ghost"), headers=headers)
    ).status_code == 422
    assert (await client.post("/orders", json=order(), headers=headers)).status_code == 201


async def test_concurrent_duplicates_give_one_order(client) -> None:
    """Whether a twin overlaps the first request (409) or comes after it (the stored answer)
    depends on scheduling; either way there is one order."""
    headers = {**DESK, "Idempotency-Key": "k-4"}
    results = await asyncio.gather(
        *(client.post("/orders", json=order(), headers=headers) for _ in range(8))
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    created = {r.json()["id"] for r in results if r.status_code == 201}
    assert len(created) == 1  # replays of the stored answer name the same order
    assert len(await outbox(client.app.state.db, "order.received.v1")) == 1


async def _reserve(client, key: str, body: dict, created_at: datetime) -> None:
    """An uncompleted reservation of ``key`` for ``body``, as a request in progress leaves it."""
    from starlette.requests import Request

    from orders.schemas import OrderIn

    request = Request(
        {"type": "http", "method": "POST", "path": "/orders", "headers": [], "query_string": b""}
    )
    async with client.app.state.db.session() as session, session.begin():
        session.add(
            IdempotencyRow(
                principal="desk",
                key=key,
                route="/orders",
                request_hash=fingerprint(request, OrderIn.model_validate(body)),
                created_at=created_at,
            )
        )


async def test_twin_of_a_request_in_progress_gets_409(client) -> None:
    """A request in progress holds its key (an uncompleted row); its twin is refused."""
    body = order()
    await _reserve(client, "k-6", body, datetime.now(UTC))
    resp = await client.post("/orders", json=body, headers={**DESK, "Idempotency-Key": "k-6"})
    assert resp.status_code == 409, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert await outbox(client.app.state.db, "order.received.v1") == []


async def test_stale_reservation_of_a_crashed_request_is_taken_over(client) -> None:
    """A reservation left by a request that died long ago is taken over: the order is made and
    its answer kept under the key (group commit: an UPDATE of the row it read)."""
    body = order()
    await _reserve(client, "k-7", body, datetime.now(UTC) - STALE_AFTER - timedelta(minutes=1))
    headers = {**DESK, "Idempotency-Key": "k-7"}
    first = await client.post("/orders", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/orders", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert len(await outbox(client.app.state.db, "order.received.v1")) == 1
    async with client.app.state.db.session() as session:
        [row] = (await session.execute(select(IdempotencyRow))).scalars().all()
    assert row.completed_at is not None and json.loads(row.response_body) == first.json()


async def test_concurrent_same_key_other_bodies_never_make_two_orders(client) -> None:
    headers = {**DESK, "Idempotency-Key": "k-5"}
    bodies = [order({"sku": "WIDGET", "quantity": str(n)}) for n in range(1, 7)]
    results = await asyncio.gather(
        *(client.post("/orders", json=b, headers=headers) for b in bodies)
    )
    statuses = [r.status_code for r in results]
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 422}
    assert len(await outbox(client.app.state.db, "order.received.v1")) == 1


# --- Content-Type and Idempotency-Key form ------------------------------------------------------

BODY = json.dumps(order_body({"sku": "WIDGET", "quantity": "3"})).encode()


async def _orders(client) -> list:
    resp = await client.get("/orders", headers=DESK)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_order_body_not_declared_json_is_415_and_creates_nothing(
    client, content_type
) -> None:
    headers = {**DESK, "Idempotency-Key": "ct-1"}
    if content_type:
        headers["Content-Type"] = content_type
    resp = await client.post("/orders", content=BODY, headers=headers)
    assert resp.status_code == 415, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["status"] == 415
    assert await _orders(client) == []
    assert await outbox(client.app.state.db) == []
    # the key was not spent on the refusal: the same order, declared JSON, goes through
    headers["Content-Type"] = "application/json"
    assert (await client.post("/orders", content=BODY, headers=headers)).status_code == 201


async def test_order_declared_json_with_charset_is_taken(client) -> None:
    resp = await client.post(
        "/orders",
        content=BODY,
        headers={**DESK, "Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["status"] == "confirmed"
    assert [o["id"] for o in await _orders(client)] == [resp.json()["id"]]


async def test_master_data_routes_refuse_undeclared_json_too(client) -> None:
    resp = await client.put(
        "/customers/cust-9",
        content=json.dumps(customer_body("Other AG")).encode(),
        headers={**DESK, "Content-Type": "text/plain"},
    )
    assert resp.status_code == 415, resp.text
    assert (await client.get("/customers/cust-9", headers=DESK)).status_code == 404


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_an_empty_or_overlong_idempotency_key_is_400_and_creates_nothing(client, key) -> None:
    headers = {**DESK, "Content-Type": "application/json", "Idempotency-Key": key}
    resp = await client.post("/orders", content=BODY, headers=headers)
    assert resp.status_code == 400, resp.text
    assert "1 to 200 characters" in resp.json()["detail"]
    assert await _orders(client) == []
