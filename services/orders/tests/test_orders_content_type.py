"""POST /orders takes JSON only when it is declared JSON: another Content-Type (or none) is 415
and creates nothing, per request and through the group-commit batcher alike; so does an
Idempotency-Key that is empty or too long (400)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from orders_support import DESK, customer_body, order_body, outbox, seeded_client

from orders.config import Settings


@pytest.fixture(params=[False, True], ids=["per-request", "group-commit"])
async def client(request, settings_for, database_url) -> AsyncIterator:
    settings = settings_for(
        Settings, default_credit_limit=Decimal("10000"), intake_group_commit=request.param
    )
    async with seeded_client(settings, database_url) as client:
        yield client


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
