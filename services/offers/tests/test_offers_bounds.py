"""Second probe round: amounts an order could not hold, extreme quantities and prices, the
price book segment, ETags on create, duplicate options with bad values, products requiring
themselves, and product saves that could nest bundles when they run at the same time."""

from __future__ import annotations

import asyncio
import json

from offers_testkit import ALICE, CATALOG, SHIP_TO, Harness
from sqlmodel import select

from offers.api.products import serialize_product_saves
from offers.tables import OfferVersionRow, ProductRow

ACCEPT = {"accepted_by": "Erika Muster", "accepted_on": "2026-03-02", "ship_to": SHIP_TO}
BIG = {"sku": "BIG", "name": "Big machine", "unit": "C62", "kind": "goods"}
MAX_QTY = "9999999999.9999"  # the largest quantity the API admits
MAX_PRICE = "999999999999.999999"  # the largest price


async def _book(svc: Harness, currency: str, entries: list[dict], **extra: object) -> dict:
    book = {"name": f"{currency} book", "currency": currency, "valid_from": "2026-01-01"}
    resp = await svc.client.post(
        "/price-books", json={**book, **extra, "entries": entries}, headers=CATALOG
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _product(svc: Harness, **fields: object) -> None:
    resp = await svc.client.post("/products", json={**BIG, **fields}, headers=CATALOG)
    assert resp.status_code == 201, resp.text


def _rules(resp) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    return [(v["rule"], v["line_no"]) for v in resp.json()["violations"]]


async def test_lines_and_totals_an_order_cannot_hold_are_refused(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    # zero VAT, so that net and gross are the same and the bound can be hit to the cent
    await _product(svc, tax_category="zero")
    await _book(
        svc,
        "EUR",
        [{"sku": "BIG", "unit_price": "1000000000.00"}],
        priority=5,
    )
    opp, _ = await svc.open_opportunity()

    def lines(*quantities: str) -> list[dict]:
        return [{"sku": "BIG", "quantity": q} for q in quantities]

    # 10000 × 1000000000 EUR = 10**15 cents: the first amount an order cannot hold
    resp = await c.post("/offers", json=svc.offer_body(opp, lines=lines("10000")), headers=ALICE)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["title"] == "Amount too large"
    assert _rules(resp) == [
        ("line_too_large", 1),
        ("line_too_large", 1),
        ("total_too_large", None),
        ("total_too_large", None),
    ]
    assert "line 1: the net amount 10000000000000.00 EUR" in resp.json()["detail"]
    assert "9999999999999.99 EUR" in resp.json()["detail"]
    # a little less fits
    fits = await svc.create_offer(opp, lines=lines("9999.9999"))
    assert fits["current"]["document"]["totals"]["gross"]["amount"] == "9999999900000.00"
    # every line fits, their sum does not
    resp = await c.post(
        "/offers", json=svc.offer_body(opp, lines=lines("6000", "6000")), headers=ALICE
    )
    assert resp.status_code == 422
    assert _rules(resp) == [("total_too_large", None), ("total_too_large", None)]
    # VAT alone can push a line's gross over: 19 % on 900000000 × 9500 = 8550000000000 EUR
    lathe = {
        "sku": "LATHE-500",
        "quantity": "900000000",
        "options": [{"code": "voltage", "value": "400V"}],
    }
    resp = await c.post("/offers", json=svc.offer_body(opp, lines=[lathe]), headers=ALICE)
    assert resp.status_code == 422
    assert _rules(resp) == [("line_too_large", 1), ("total_too_large", None)]
    assert "gross" in resp.json()["detail"]

    # a revision is priced the same way, and nothing is written when it is refused
    offer = await svc.create_offer(opp, lines=lines("1"))
    resp = await c.post(
        f"/offers/{offer['id']}/revise", json={"lines": lines("1", "1", "20000")}, headers=ALICE
    )
    assert resp.status_code == 422
    assert _rules(resp)[0] == ("line_too_large", 4)  # new lines follow v1 line 1
    assert (await c.get(f"/offers/{offer['id']}", headers=ALICE)).json()["offer_version"] == 1


async def test_extreme_quantities_and_prices_never_give_a_500(svc: Harness) -> None:
    c = svc.client
    options = [{"code": f"o{i}", "name": f"Option {i}", "values": ["x"]} for i in range(50)]
    await _product(svc, options=options)
    surcharges = [
        {"sku": "BIG", "option_code": f"o{i}", "option_value": "x", "unit_price": MAX_PRICE}
        for i in range(50)
    ]
    entries = [{"sku": "BIG", "unit_price": MAX_PRICE}, *surcharges]
    # CLF has 4 minor units and prices keep 4 more: the most digits any currency needs
    for currency in ("CLF", "BHD", "EUR", "JPY"):
        price = MAX_PRICE if currency != "JPY" else "999999999999.9999"
        await _book(svc, currency, [{**e, "unit_price": price} for e in entries])
    opp, _ = await svc.open_opportunity()
    chosen = [{"code": f"o{i}", "value": "x"} for i in range(50)]
    line = {"sku": "BIG", "quantity": MAX_QTY, "options": chosen, "discount_percent": "0.0001"}
    for currency in ("CLF", "BHD", "EUR", "JPY"):
        body = svc.offer_body(opp, currency=currency, lines=[line] * 500)
        resp = await c.post("/offers", json=body, headers=ALICE)
        assert resp.status_code == 422, (currency, resp.text[:300])
        assert resp.headers["content-type"] == "application/problem+json"
        rules = _rules(resp)
        assert rules.count(("line_too_large", 500)) == 2, currency
        assert rules[-2:] == [("total_too_large", None)] * 2
    for bad in ("NaN", "Infinity", "1e999999999", "1E+10", "-1", "0.00001"):
        resp = await c.post(
            "/offers",
            json=svc.offer_body(opp, lines=[{"sku": "BIG", "quantity": bad}]),
            headers=ALICE,
        )
        assert resp.status_code == 422, (bad, resp.text)
    resp = await c.post("/products/BIG/configuration", json={"options": chosen * 1}, headers=ALICE)
    assert resp.status_code == 200, resp.text


async def test_an_offer_priced_too_large_before_the_bound_cannot_be_accepted(
    svc: Harness,
) -> None:
    await svc.seed_catalog()
    opp, _ = await svc.open_opportunity()
    offer = await svc.create_offer(opp, lines=[{"sku": "MANUAL", "quantity": "1"}])
    oid = offer["id"]
    assert (await svc.client.post(f"/offers/{oid}/send", headers=ALICE)).status_code == 200
    # as if priced by an older release that had no bound: the frozen line is too large
    async with svc.app.state.db.session() as session, session.begin():
        row = (
            await session.exec(select(OfferVersionRow).where(OfferVersionRow.offer_id == oid))
        ).one()
        doc = json.loads(row.document)
        doc["lines"][0]["net"] = "10000000000000.00"
        row.document = json.dumps(doc)
        session.add(row)
    resp = await svc.client.post(f"/offers/{oid}/accept", json=ACCEPT, headers=ALICE)
    assert resp.status_code == 422, resp.text
    assert "line 1 of this version exceed 9999999999999.99 EUR" in resp.json()["detail"]
    assert "offer.accepted.v1" not in await svc.types(oid)


async def test_price_book_segment_is_an_eu_size_class(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    book = {"name": "seg", "currency": "EUR", "valid_from": "2026-01-01"}
    for bad in ("galactic", "Large", "", "MEDIUM"):
        resp = await c.post("/price-books", json={**book, "segment": bad}, headers=CATALOG)
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
    # ACME is "medium": a medium book beats the list price, a large one does not apply
    medium = await _book(
        svc, "EUR", [{"sku": "INSTALL-H", "unit_price": "110.00"}], segment="medium"
    )
    await _book(svc, "EUR", [{"sku": "INSTALL-H", "unit_price": "80.00"}], segment="large")
    assert medium["segment"] == "medium"
    got = await c.get(f"/price-books/{medium['id']}", headers=ALICE)
    resp = await c.put(
        f"/price-books/{medium['id']}",
        json={**book, "segment": "galactic"},
        headers={**CATALOG, "If-Match": got.headers["etag"]},
    )
    assert resp.status_code == 422
    opp, _ = await svc.open_opportunity()
    offer = await svc.create_offer(opp, lines=[{"sku": "INSTALL-H", "quantity": "1"}])
    line = offer["current"]["document"]["lines"][0]
    assert line["unit_price"] == "110.00" and line["price_source"].startswith("segment price")
    listed = (await c.get("/price-books?segment=medium", headers=ALICE)).json()["items"]
    assert [b["id"] for b in listed] == [medium["id"]]
    assert (await c.get("/price-books?segment=galactic", headers=ALICE)).status_code == 422


async def test_create_answers_with_an_etag(svc: Harness) -> None:
    c = svc.client
    key = {**CATALOG, "Idempotency-Key": "etag-product"}
    product = {"sku": "E-1", "name": "E", "unit": "C62", "kind": "goods"}
    for _ in range(2):  # the replayed answer carries it too
        resp = await c.post("/products", json=product, headers=key)
        assert resp.status_code == 201 and resp.headers["etag"] == '"1"'
    fields = {k: v for k, v in product.items() if k != "sku"}
    resp = await c.put(
        "/products/E-1",
        json={**fields, "name": "E2"},
        headers={**CATALOG, "If-Match": resp.headers["etag"]},
    )
    assert resp.status_code == 200 and resp.headers["etag"] == '"2"'

    book = {"name": "b", "currency": "EUR", "valid_from": "2026-01-01"}
    for _ in range(2):
        resp = await c.post(
            "/price-books", json=book, headers={**CATALOG, "Idempotency-Key": "etag-book"}
        )
        assert resp.status_code == 201 and resp.headers["etag"] == '"1"'
    resp = await c.put(
        f"/price-books/{resp.json()['id']}",
        json={**book, "name": "b2"},
        headers={**CATALOG, "If-Match": resp.headers["etag"]},
    )
    assert resp.status_code == 200 and resp.headers["etag"] == '"2"'


async def test_duplicate_option_with_a_bad_value_and_a_product_requiring_itself(
    svc: Harness,
) -> None:
    await svc.seed_catalog()
    c = svc.client
    for options in (
        [{"code": "voltage", "value": "999V"}, {"code": "voltage", "value": "400V"}],
        [{"code": "voltage", "value": "400V"}, {"code": "voltage", "value": "999V"}],
    ):
        resp = await c.post(
            "/products/LATHE-500/configuration", json={"options": options}, headers=ALICE
        )
        assert resp.status_code == 422
        rules = {v["rule"] for v in resp.json()["violations"]}
        assert {"duplicate_option"} <= rules, options
    resp = await c.post(
        "/products/LATHE-500/configuration",
        json={"options": [{"code": "plug", "value": "XX"}, {"code": "plug", "value": "YY"}]},
        headers=ALICE,
    )
    assert {v["rule"] for v in resp.json()["violations"]} >= {
        "value_not_allowed",
        "duplicate_option",
    }

    selfish = {"sku": "SOLO", "name": "Solo", "unit": "C62", "kind": "goods"}
    resp = await c.post("/products", json={**selfish, "requires_skus": ["SOLO"]}, headers=CATALOG)
    assert resp.status_code == 422
    assert [v["rule"] for v in resp.json()["violations"]] == ["requires_self"]
    assert resp.json()["title"] == "Invalid product"
    assert (await c.post("/products", json=selfish, headers=CATALOG)).status_code == 201
    resp = await c.put(
        "/products/SOLO",
        json={
            **{k: v for k, v in selfish.items() if k != "sku"},
            "requires_skus": ["SOLO", "MANUAL"],
        },
        headers={**CATALOG, "If-Match": '"1"'},
    )
    assert resp.status_code == 422
    assert [v["rule"] for v in resp.json()["violations"]] == ["requires_self"]


async def test_a_product_save_waits_for_another_one_before_checking_bundles(
    svc: Harness,
) -> None:
    """Another save, in progress, puts LATHE-500 into a bundle; a save making LATHE-500 a
    bundle must wait for it and then see it (on SQLite writers queue anyway)."""
    await svc.seed_catalog()
    got = await svc.client.get("/products/LATHE-500", headers=CATALOG)
    keep = ("name", "unit", "tax_category", "kind", "options", "rules")
    lathe = {k: v for k, v in got.json().items() if k in keep}
    as_bundle = {**lathe, "components": [{"sku": "MANUAL", "quantity": "1"}]}
    headers = {**CATALOG, "If-Match": got.headers["etag"]}

    async with svc.app.state.db.session() as session, session.begin():
        await serialize_product_saves(session)
        kit = await session.get(ProductRow, "STARTER-KIT")
        assert kit is not None
        kit.components = [*kit.components, {"sku": "LATHE-500", "quantity": "1"}]
        session.add(kit)
        await session.flush()
        put = asyncio.create_task(
            svc.client.put("/products/LATHE-500", json=as_bundle, headers=headers)
        )
        await asyncio.sleep(0.5)
        assert not put.done()  # waiting for the save in progress
    resp = await put
    assert resp.status_code == 422, resp.text
    assert [v["rule"] for v in resp.json()["violations"]] == ["bundle_nested"]
    assert "STARTER-KIT" in resp.json()["violations"][0]["message"]
