"""Catalog and price books over HTTP: roles, definitions checked, every violated rule named."""

from __future__ import annotations

from offers_testkit import ALICE, ANALYST, CATALOG, Harness


async def test_products_crud_roles_and_validation(svc: Harness) -> None:
    c = svc.client
    await svc.seed_catalog()
    # reps and analysts read, only managers (and admins) write
    listed = await c.get("/products", headers=ALICE)
    assert listed.status_code == 200
    assert [p["sku"] for p in listed.json()["items"]] == [
        "INSTALL-H",
        "LATHE-500",
        "MANUAL",
        "STARTER-KIT",
    ]
    kit = next(p for p in listed.json()["items"] if p["sku"] == "STARTER-KIT")
    assert kit["is_bundle"] and kit["components"][1] == {"sku": "INSTALL-H", "quantity": "4"}
    assert (await c.get("/products?kind=service", headers=ANALYST)).json()["items"][0]["sku"] == (
        "INSTALL-H"
    )
    new = {"sku": "X-1", "name": "X", "unit": "C62", "kind": "goods"}
    assert (await c.post("/products", json=new, headers=ALICE)).status_code == 403
    assert (await c.post("/products", json=new, headers=ANALYST)).status_code == 403
    assert (
        await c.post("/products", headers=CATALOG, json={**new, "sku": "LATHE-500"})
    ).status_code == 409

    # an inconsistent definition is refused with every problem named
    bad = {
        "sku": "BAD-KIT",
        "name": "Bad kit",
        "unit": "C62",
        "kind": "goods",
        "tax_category": "luxury",
        "options": [{"code": "size", "name": "Size", "values": ["S", "M"], "default": "XL"}],
        "rules": [
            {
                "kind": "requires",
                "when": {"option": "size", "value": "S"},
                "then": {"option": "colour"},
            }
        ],
        "components": [{"sku": "GHOST", "quantity": "1"}, {"sku": "STARTER-KIT", "quantity": "1"}],
    }
    resp = await c.post("/products", json=bad, headers=CATALOG)
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    assert {v["rule"] for v in resp.json()["violations"]} == {
        "default_not_allowed",
        "rule_unknown_option",
        "bundle_unknown_component",
        "bundle_nested",
        "unknown_tax_category",
    }
    # malformed input: bad unit code, unknown field
    resp = await c.post("/products", json={**new, "unit": "piece"}, headers=CATALOG)
    assert resp.status_code == 422
    resp = await c.post("/products", json={**new, "price": "10"}, headers=CATALOG)
    assert resp.status_code == 422

    # update with If-Match; deactivating keeps the product readable
    got = await c.get("/products/MANUAL", headers=ALICE)
    etag = got.headers["etag"]
    fields = {
        k: v
        for k, v in got.json().items()
        if k
        in {
            "name",
            "description",
            "unit",
            "tax_category",
            "kind",
            "options",
            "rules",
            "components",
            "requires_skus",
            "excludes_skus",
        }
    }
    changed = {**fields, "name": "Manual (print, 2nd ed.)", "active": False}
    assert (await c.put("/products/MANUAL", json=changed, headers=CATALOG)).status_code == 428
    resp = await c.put("/products/MANUAL", json=changed, headers={**CATALOG, "If-Match": etag})
    assert resp.status_code == 200, resp.text
    assert resp.json()["active"] is False and resp.json()["version"] == 2
    stale = await c.put("/products/MANUAL", json=changed, headers={**CATALOG, "If-Match": etag})
    assert stale.status_code == 412
    assert (await c.get("/products?active=false", headers=ALICE)).json()["items"][0][
        "sku"
    ] == "MANUAL"
    assert (await c.get("/products/NOPE", headers=ALICE)).status_code == 404


async def test_configuration_check_names_every_violated_rule(svc: Harness) -> None:
    await svc.seed_catalog()
    c = svc.client
    ok = await c.post(
        "/products/LATHE-500/configuration",
        json={"options": [{"code": "voltage", "value": "480V"}, {"code": "plug", "value": "US"}]},
        headers=ALICE,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["options"] == {"voltage": "480V", "plug": "US", "cooling": "air"}
    bad = await c.post(
        "/products/LATHE-500/configuration",
        json={
            "options": [
                {"code": "voltage", "value": "480V"},
                {"code": "cooling", "value": "water"},
                {"code": "colour", "value": "red"},
            ]
        },
        headers=ALICE,
    )
    assert bad.status_code == 422
    rules = sorted(v["rule"] for v in bad.json()["violations"])
    assert rules == ["requires:voltage=480V requires plug=US", "unknown_option"]
    assert "480V requires plug=US" in bad.json()["detail"]
    missing = await c.post("/products/LATHE-500/configuration", json={}, headers=ALICE)
    assert [v["rule"] for v in missing.json()["violations"]] == ["option_required"]


async def test_price_books_are_validated_and_replaced_with_if_match(svc: Harness) -> None:
    seeded = await svc.seed_catalog()
    c = svc.client
    bad = {
        "name": "broken",
        "currency": "JPY",
        "valid_from": "2026-01-01",
        "entries": [
            {"sku": "GHOST", "unit_price": "1"},
            {"sku": "LATHE-500", "unit_price": "1000.5"},  # more places than JPY allows (0+4 ok)
            {"sku": "LATHE-500", "unit_price": "1000.12345"},
            {
                "sku": "INSTALL-H",
                "unit_price": "100",
                "tiers": [{"min_quantity": "10", "unit_price": "120"}],
            },
            {
                "sku": "LATHE-500",
                "option_code": "voltage",
                "option_value": "110V",
                "unit_price": "5",
            },
        ],
    }
    resp = await c.post("/price-books", json=bad, headers=CATALOG)
    assert resp.status_code == 422
    assert sorted(v["rule"] for v in resp.json()["violations"]) == [
        "duplicate_entry",
        "price_precision",
        "tiers",
        "unknown_option",
        "unknown_sku",
    ]
    for invalid in (
        {**bad, "entries": [], "currency": "XYZ"},  # not ISO 4217
        {**bad, "entries": [], "valid_to": "2025-12-31"},  # ends before it starts
        {**bad, "entries": [], "segment": "large", "customer_id": "c"},  # both
        {**bad, "entries": [{"sku": "MANUAL", "unit_price": "-1"}]},
        {**bad, "entries": [{"sku": "MANUAL", "unit_price": "NaN"}]},
    ):
        assert (await c.post("/price-books", json=invalid, headers=CATALOG)).status_code == 422
    assert (
        await c.post("/price-books", json={**bad, "entries": []}, headers=ALICE)
    ).status_code == 403

    book = seeded["list_book"]
    got = await c.get(f"/price-books/{book['id']}", headers=ALICE)
    assert got.status_code == 200 and len(got.json()["entries"]) == 6
    body = {k: got.json()[k] for k in ("name", "currency", "valid_from", "priority", "entries")}
    body["entries"] = body["entries"][:2]
    resp = await c.put(
        f"/price-books/{book['id']}",
        json=body,
        headers={**CATALOG, "If-Match": got.headers["etag"]},
    )
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["entries"]) == 2 and resp.json()["version"] == 2
    listed = await c.get("/price-books?currency=EUR", headers=ALICE)
    assert len(listed.json()["items"]) == 2


async def test_a_sku_with_a_slash_is_reached_under_its_own_path(svc: Harness) -> None:
    """SKUs may hold "/" (``AB/12``): read, change and configure it, written plain or as %2F."""
    c = svc.client
    product = {"sku": "AB/12", "name": "Flange", "unit": "C62", "kind": "goods"}
    created = await c.post("/products", json=product, headers=CATALOG)
    assert created.status_code == 201, created.text
    for path in ("/products/AB/12", "/products/AB%2F12"):
        got = await c.get(path, headers=ALICE)
        assert got.status_code == 200, (path, got.text)
        assert got.json()["sku"] == "AB/12"
    changed = await c.put(
        "/products/AB/12",
        json={k: v for k, v in {**product, "name": "Flange DN50"}.items() if k != "sku"},
        headers={**CATALOG, "If-Match": created.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Flange DN50"
    checked = await c.post("/products/AB/12/configuration", json={"options": []}, headers=ALICE)
    assert checked.status_code == 200, checked.text
    assert checked.json()["sku"] == "AB/12"
    assert (await c.get("/products/AB/13", headers=ALICE)).status_code == 404
