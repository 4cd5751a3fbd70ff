"""Input at the edges (found by probing the API as a user): amounts too large to keep, dates
and codes out of range, SKUs in the path, credit limits finer than the currency, LIKE
wildcards. Each is refused as a 422 problem (or taken literally), never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from orders_support import (
    DESK,
    SHOP,
    customer_body,
    order_body,
    outbox,
    price_body,
    seeded_client,
)
from sqlalchemy import func, select

from orders.config import Settings
from orders.tables import OrderRow, PriceRow
from salesflow.messaging.tables import IdempotencyRow

PROBLEM = "application/problem+json"


@pytest.fixture(params=[False, True], ids=["per-request", "group-commit"])
async def client(request, settings_for, database_url) -> AsyncIterator:
    settings = settings_for(Settings, intake_group_commit=request.param)
    async with seeded_client(settings, database_url) as client:
        yield client


def order(*lines: dict, **extra) -> dict:
    return order_body(*lines, quantity="1", **extra)


async def _count(client, table) -> int:
    async with client.app.state.db.session() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def test_orders_too_large_to_keep_are_refused_and_write_nothing(client) -> None:
    huge_line = {
        "sku": "WIDGET",
        "quantity": "9999999999.9999",
        "unit_price": "99999999999999.9999",
    }
    resp = await client.post(
        "/orders", json=order(huge_line), headers={**DESK, "Idempotency-Key": "big-1"}
    )
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == PROBLEM
    [error] = resp.json()["errors"]
    assert error["line_no"] == 1 and "largest amount" in error["msg"]

    # an integration at list price: 1e8 per piece times 1e9 pieces
    put = await client.put("/price-list/GOLD", json=price_body("100000000"), headers=DESK)
    assert put.status_code == 201, put.text
    resp = await client.post(
        "/orders", json=order({"sku": "GOLD", "quantity": "1000000000"}), headers=SHOP
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["sku"] == "GOLD"

    # every line fits, their sum does not
    near = {"sku": "WIDGET", "quantity": "1", "unit_price": "9000000000000", "tax_rate": "0"}
    resp = await client.post("/orders", json=order(near, near), headers=DESK)
    assert resp.status_code == 422, resp.text
    assert "gross total" in resp.json()["detail"]

    assert await _count(client, OrderRow.__table__) == 0
    assert await outbox(client.app.state.db) == []
    assert await _count(client, IdempotencyRow.__table__) == 0  # the key stays free
    # the largest order that fits is taken
    resp = await client.post("/orders", json=order(near), headers=DESK)
    assert resp.status_code == 201, resp.text
    assert resp.json()["totals"]["gross"]["amount"] == "9000000000000.00"


async def test_dates_and_codes_out_of_range_are_refused(client) -> None:
    line = {"sku": "X-1", "quantity": "1", "unit_price": "5", "name": "X", "unit": "C62"}
    line |= {"kind": "goods", "tax_rate": "0"}
    cases = [
        order(requested_delivery_date=0),
        order(requested_delivery_date="9999-12-31"),
        order({"sku": "WIDGET", "quantity": "1", "requested_delivery_date": "9999-12-31"}),
        order({"sku": "WIDGET", "quantity": "1", "requested_delivery_date": 0}),
        order(line, currency="XYZ"),
        order(ship_to={"street": "A 1", "city": "B", "postal_code": "1", "country": "XX"}),
    ]
    for body in cases:
        resp = await client.post("/orders", json=body, headers=DESK)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"] == PROBLEM
    assert await _count(client, OrderRow.__table__) == 0

    resp = await client.put("/price-list/WIDGET-2", json=price_body(currency="QQQ"), headers=DESK)
    assert resp.status_code == 422, resp.text
    bad_limit = customer_body(credit_limit={"amount": "100", "currency": "ZZZ"})
    assert (await client.put("/customers/c-3", json=bad_limit, headers=DESK)).status_code == 422
    bad_country = customer_body(company={"name": "QA4", "country": "XX"})
    assert (await client.put("/customers/c-4", json=bad_country, headers=DESK)).status_code == 422
    assert (
        await client.get("/price-list", params={"currency": "QQQ"}, headers=DESK)
    ).status_code == 422

    for edge in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "1700000000"):
        resp = await client.get("/orders", params={"created_from": edge}, headers=DESK)
        assert resp.status_code == 422, (edge, resp.text)
        assert resp.headers["content-type"] == PROBLEM


async def test_price_list_path_sku_is_validated_like_order_lines(client) -> None:
    for sku in ("-bad", "a b", "B" * 10_000):
        resp = await client.put(f"/price-list/{sku}", json=price_body(), headers=DESK)
        assert resp.status_code == 422, (sku[:20], resp.text)
        assert resp.headers["content-type"] == PROBLEM
    async with client.app.state.db.session() as session:
        skus = set((await session.execute(select(PriceRow.sku))).scalars())
    assert skus == {"WIDGET", "SETUP"}
    assert (await client.put("/price-list/A.b_c-9", json=price_body(), headers=DESK)).is_success


async def test_a_sku_with_a_slash_is_priced_under_its_own_path(client) -> None:
    """SKUs may hold "/" (``AB/12``): the path takes it, written plain or as %2F."""
    created = await client.put("/price-list/AB/12", json=price_body(), headers=DESK)
    assert created.status_code == 201, created.text
    assert created.json()["sku"] == "AB/12"
    replaced = await client.put(
        "/price-list/AB%2F12",
        json=price_body("60.00"),
        headers={**DESK, "If-Match": created.headers["etag"]},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["unit_price"] == "60.00"
    listed = (await client.get("/price-list", headers=DESK)).json()["items"]
    assert [p["unit_price"] for p in listed if p["sku"] == "AB/12"] == ["60.00"]


async def test_credit_limits_finer_than_the_currency_are_refused(client) -> None:
    for amount, currency in (("100.005", "EUR"), ("100.6", "JPY"), ("1.0001", "KWD")):
        body = customer_body(credit_limit={"amount": amount, "currency": currency})
        resp = await client.put("/customers/c-5", json=body, headers=DESK)
        assert resp.status_code == 422, (amount, currency, resp.text)
        assert "decimals" in resp.text
    body = customer_body(credit_limit={"amount": "100.50", "currency": "EUR"})
    resp = await client.put("/customers/c-5", json=body, headers=DESK)
    assert resp.status_code == 201, resp.text
    assert Decimal(resp.json()["credit_limit"]["amount"]) == Decimal("100.50")
    body = customer_body(credit_limit={"amount": "100.000", "currency": "JPY"})
    resp = await client.put("/customers/c-6", json=body, headers=DESK)
    assert resp.status_code == 201, resp.text
    assert Decimal(resp.json()["credit_limit"]["amount"]) == Decimal(100)


async def test_customer_name_filter_takes_wildcards_literally(client) -> None:
    for cid, name in (("c-pct", "100% Solar"), ("c-us", "Under_Score"), ("c-bs", "Back\\slash")):
        resp = await client.put(f"/customers/{cid}", json=customer_body(name), headers=DESK)
        assert resp.status_code == 201, resp.text

    async def names(text: str) -> set[str]:
        resp = await client.get("/customers", params={"name": text, "limit": 200}, headers=DESK)
        assert resp.status_code == 200, resp.text
        return {c["name"] for c in resp.json()["items"]}

    assert await names("%") == {"100% Solar"}
    assert await names("_") == {"Under_Score"}
    assert await names("\\") == {"Back\\slash"}
    assert await names("solar") == {"100% Solar"}  # still "contains", any case
