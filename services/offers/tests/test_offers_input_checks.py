"""Input the probe found accepted though it went wrong later: shared field types, addresses
orders would reject, the bill-to standing in for the ship-to, decimals in exponent form,
bundles nested through a component, unknown status filters."""

from __future__ import annotations

import json

from offers_testkit import ALICE, CATALOG, SHIP_TO, Harness

ACCEPT = {"accepted_by": "Erika Muster", "accepted_on": "2026-03-02"}
KEPT = {
    "name",
    "unit",
    "tax_category",
    "kind",
    "options",
    "rules",
    "requires_skus",
    "excludes_skus",
}


async def _sent_offer(svc: Harness, **overrides: object) -> dict:
    opp, _ = await svc.open_opportunity()
    offer = await svc.create_offer(opp, **overrides)
    resp = await svc.client.post(f"/offers/{offer['id']}/send", headers=ALICE)
    assert resp.status_code == 200, resp.text
    return offer


async def test_request_fields_use_the_shared_types(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, _ = await svc.open_opportunity()
    book = {"name": "b", "currency": "EUR", "valid_from": "2026-01-01"}
    for bad in (
        {"valid_from": "0001-01-01"},  # outside 1900–2199
        {"valid_from": 0},  # a number is no ISO date
        {"valid_to": "9999-12-31"},
        {"currency": "XYZ"},  # shaped like a code, but not ISO 4217
        {"currency": "XAU"},  # gold: no money to invoice in
        {"active": 0},  # a number is no boolean (found by the OpenAPI fuzzer)
        {"priority": False},  # a boolean is no number
    ):
        resp = await c.post("/price-books", json={**book, **bad}, headers=CATALOG)
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
    assert (await c.get("/price-books?currency=XYZ", headers=ALICE)).status_code == 422
    assert (await c.get("/price-books?currency=EUR", headers=ALICE)).status_code == 200

    line = {"sku": "MANUAL", "quantity": "1"}
    for bad in (
        {"valid_until": "9999-12-31"},
        {"lines": [{**line, "requested_delivery_date": "0001-01-01"}]},
        {"terms": {"requested_delivery_date": "2200-01-01"}},
        {"ship_to": {**SHIP_TO, "country": "XX"}},  # not ISO 3166-1
        {"currency": "ABC"},
    ):
        resp = await c.post("/offers", json=svc.offer_body(opp, **bad), headers=ALICE)
        assert resp.status_code == 422, (bad, resp.text)
    offer = await svc.create_offer(opp)
    resp = await c.post(
        f"/offers/{offer['id']}/revise", json={"valid_until": "0001-01-01"}, headers=ALICE
    )
    assert resp.status_code == 422


async def test_addresses_orders_would_reject_are_refused(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    opp, _ = await svc.open_opportunity()
    no_postal_code = {k: v for k, v in SHIP_TO.items() if k != "postal_code"}
    for bad in (
        {"bill_to": no_postal_code},
        {"ship_to": no_postal_code},
        {"ship_to": {**SHIP_TO, "postal_code": "  "}},
        {"ship_to": {**SHIP_TO, "street": " "}},
    ):
        resp = await c.post("/offers", json=svc.offer_body(opp, **bad), headers=ALICE)
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
    resp = await c.post("/offers", json=svc.offer_body(opp, bill_to=no_postal_code), headers=ALICE)
    assert resp.json()["detail"] == "the bill-to address lacks postal_code"
    # Ghana has no postal codes: complete without one, as for orders
    accra = {"street": "Independence Ave 1", "city": "Accra", "country": "GH"}
    await svc.create_offer(opp, ship_to=accra)

    offer = await _sent_offer(svc, ship_to=None)
    oid = offer["id"]
    resp = await c.post(f"/offers/{oid}/revise", json={"bill_to": no_postal_code}, headers=ALICE)
    assert resp.status_code == 422
    # the acceptance is refused before anything is written: offer still sent, no event
    resp = await c.post(
        f"/offers/{oid}/accept",
        json={**ACCEPT, "bill_to": SHIP_TO, "ship_to": no_postal_code},
        headers=ALICE,
    )
    assert resp.status_code == 422, resp.text
    assert "ship-to address lacks postal_code" in resp.json()["detail"]
    assert (await c.get(f"/offers/{oid}", headers=ALICE)).json()["status"] == "sent"
    assert "offer.accepted.v1" not in await svc.types(oid)
    resp = await c.post(f"/offers/{oid}/accept", json={**ACCEPT, "ship_to": SHIP_TO}, headers=ALICE)
    assert resp.status_code == 200, resp.text


async def test_accept_with_only_a_bill_to_ships_there(svc: Harness) -> None:
    await svc.seed_catalog()
    offer = await _sent_offer(svc, ship_to=None)
    bill_to = {"street": "A 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}
    resp = await svc.client.post(
        f"/offers/{offer['id']}/accept", json={**ACCEPT, "bill_to": bill_to}, headers=ALICE
    )
    assert resp.status_code == 200, resp.text
    data = (await svc.outbox(offer["id"]))[-1]["data"]
    assert data["bill_to"]["city"] == "Berlin" and data["ship_to"] == data["bill_to"]


async def test_decimals_are_written_without_exponent(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    book = {
        "name": "EUR exponent check",
        "currency": "EUR",
        "valid_from": "2026-01-01",
        "active": False,
        "entries": [
            {"sku": "LATHE-500", "unit_price": "185000"},
            {
                "sku": "MANUAL",
                "unit_price": "1E+2",
                "tiers": [{"min_quantity": "1e1", "unit_price": "9E+1"}],
            },
        ],
    }
    resp = await c.post("/price-books", json=book, headers=CATALOG)
    assert resp.status_code == 201, resp.text
    for got in (
        resp.json(),
        (await c.get(f"/price-books/{resp.json()['id']}", headers=ALICE)).json(),
    ):
        lathe, manual = got["entries"]
        assert lathe["unit_price"] == "185000.00" and manual["unit_price"] == "100.00"
        assert manual["tiers"] == [{"min_quantity": "10", "unit_price": "90"}]
    listed = (await c.get("/price-books", headers=ALICE)).json()["items"]
    assert not [e for b in listed for e in b["entries"] if "E" in e["unit_price"]]

    # a quantity written "1e2" is 100 in the offer, its versions, its events and for orders
    lines = [
        {"sku": "INSTALL-H", "quantity": "1e2", "discount_percent": "5E0"},
        {"sku": "STARTER-KIT", "quantity": "1E+1"},
    ]
    offer = await _sent_offer(svc, lines=lines, discount_percent="0e1")
    oid = offer["id"]
    doc = offer["current"]["document"]
    assert [line["quantity"] for line in doc["lines"]] == ["100", "10"]
    assert doc["lines"][0]["list_unit_price"] == "120.00"
    assert [p["quantity"] for p in doc["lines"][1]["components"]] == ["10", "40"]
    again = (await c.get(f"/offers/{oid}/versions/1", headers=ALICE)).json()
    assert [line["quantity"] for line in again["document"]["lines"]] == ["100", "10"]
    resp = await c.post(f"/offers/{oid}/accept", json={**ACCEPT, "ship_to": SHIP_TO}, headers=ALICE)
    assert resp.status_code == 200, resp.text
    events = await svc.outbox(oid)
    accepted = events[-1]
    assert accepted["type"] == "offer.accepted.v1"
    assert [line["quantity"] for line in accepted["data"]["lines"]] == ["100", "10"]
    assert [p["quantity"] for p in accepted["data"]["bundle_components"]] == ["10", "40"]
    for event in events:
        text = json.dumps(event["data"])
        assert "E+" not in text and "e+" not in text, event["type"]


async def test_a_component_cannot_become_a_bundle(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    got = await c.get("/products/MANUAL", headers=CATALOG)  # a part of STARTER-KIT
    fields = {k: v for k, v in got.json().items() if k in KEPT}
    bundle = {**fields, "components": [{"sku": "INSTALL-H", "quantity": "1"}]}
    headers = {**CATALOG, "If-Match": got.headers["etag"]}
    resp = await c.put("/products/MANUAL", json=bundle, headers=headers)
    assert resp.status_code == 422, resp.text
    assert [v["rule"] for v in resp.json()["violations"]] == ["bundle_nested"]
    assert "STARTER-KIT" in resp.json()["violations"][0]["message"]
    assert (await c.get("/products/MANUAL", headers=CATALOG)).json()["is_bundle"] is False
    # a product no bundle contains may still become one
    got = await c.get("/products/LATHE-500", headers=CATALOG)
    lathe = {k: v for k, v in got.json().items() if k in KEPT}
    resp = await c.put(
        "/products/LATHE-500",
        json={**lathe, "components": [{"sku": "MANUAL", "quantity": "1"}]},
        headers={**CATALOG, "If-Match": got.headers["etag"]},
    )
    assert resp.status_code == 200, resp.text

    # a product that excludes itself could never be offered
    selfish = {"sku": "SOLO", "name": "Solo", "unit": "C62", "kind": "goods"}
    resp = await c.post("/products", json={**selfish, "excludes_skus": ["SOLO"]}, headers=CATALOG)
    assert resp.status_code == 422
    assert [v["rule"] for v in resp.json()["violations"]] == ["excludes_self"]
    assert (await c.post("/products", json=selfish, headers=CATALOG)).status_code == 201
    resp = await c.put(
        "/products/SOLO",
        json={**{k: v for k, v in selfish.items() if k != "sku"}, "excludes_skus": ["SOLO"]},
        headers={**CATALOG, "If-Match": '"1"'},
    )
    assert resp.status_code == 422


async def test_unknown_status_filter_is_refused(svc: Harness) -> None:
    await svc.seed_catalog()
    offer = await _sent_offer(svc)
    c = svc.client
    resp = await c.get("/offers?status=foo", headers=ALICE)
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    sent = (await c.get("/offers?status=sent", headers=ALICE)).json()["items"]
    assert [o["id"] for o in sent] == [offer["id"]]
