"""NACE endpoints, company filters and segments through HTTP."""

import httpx

from salesflow.testing.helpers import bearer

from .conftest import MARKETING

ANALYST = bearer("ana", ["analyst"])
CSV = (
    "name,country,region,postal_code,nace,employees,revenue,currency\n"
    "Soft A,DE,DE212,80331,62.10,5,400000,EUR\n"  # K, micro
    "Soft B,DE,DE300,10115,62.20,40,3000000,EUR\n"  # K, small
    "Soft C,AT,AT130,1010,62.10,120,9000000,EUR\n"  # K, medium
    "Farm D,DE,DE212,80333,01.11,300,50000000,EUR\n"  # A, large
    "Print E,FR,FR101,75001,18.11,30,,\n"  # C, small
    "Unknown F,DE,,12345,,,,\n"  # no NACE, no size
)


async def load(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/companies/import",
        content=CSV.encode(),
        headers={**MARKETING, "content-type": "text/csv"},
    )
    assert resp.json()["accepted"] == 6, resp.text


async def names(client: httpx.AsyncClient, **params: object) -> set[str]:
    resp = await client.get("/companies", params=params, headers=ANALYST)
    assert resp.status_code == 200, resp.text
    return {c["name"] for c in resp.json()["items"]}


async def test_nace_search_and_hierarchy(client: httpx.AsyncClient) -> None:
    resp = await client.get("/nace", params={"q": "computer programming"}, headers=ANALYST)
    body = resp.json()
    assert body["counts"] == {"section": 22, "division": 87, "group": 287, "class": 651}
    assert "62.10" in [i["code"] for i in body["items"]]
    one = (await client.get("/nace/62.1", headers=ANALYST)).json()
    assert one["parent"]["code"] == "62" and one["section"] == "K"
    assert [a["code"] for a in one["ancestors"]] == ["K", "62"]
    assert [c["code"] for c in one["children"]] == ["62.10"]
    rev2 = (await client.get("/nace/J", params={"revision": "2"}, headers=ANALYST)).json()
    assert "62" in [c["code"] for c in rev2["children"]]
    assert (await client.get("/nace/99.99", headers=ANALYST)).status_code == 404
    assert (await client.get("/nace", params={"revision": "3"}, headers=ANALYST)).status_code == 422


async def test_company_filters(client: httpx.AsyncClient) -> None:
    await load(client)
    assert await names(client, nace="K") == {"Soft A", "Soft B", "Soft C"}
    assert await names(client, nace="62.1") == {"Soft A", "Soft C"}
    assert await names(client, nace=["62.20", "A"]) == {"Soft B", "Farm D"}
    assert await names(client, size_class="small") == {"Soft B", "Print E"}
    assert await names(client, size_class=["micro", "large"]) == {"Soft A", "Farm D"}
    assert await names(client, employees_min=30, employees_max=120) == {
        "Soft B",
        "Soft C",
        "Print E",
    }
    assert await names(
        client, revenue_min="1000000", revenue_max="9000000", revenue_currency="EUR"
    ) == {"Soft B", "Soft C"}
    assert await names(client, country=["AT", "FR"]) == {"Soft C", "Print E"}
    assert await names(client, region="DE2") == {"Soft A", "Farm D"}
    assert await names(client, nace="K", country="DE", size_class="micro") == {"Soft A"}
    assert await names(client, status="prospect") == set()
    count = (await client.get("/companies/count", params={"nace": "K"}, headers=ANALYST)).json()
    assert count["count"] == 3
    bad = await client.get("/companies", params={"nace": "99.99"}, headers=ANALYST)
    assert bad.status_code == 422 and "99.99" in bad.json()["detail"]
    no_currency = await client.get("/companies", params={"revenue_min": "1"}, headers=ANALYST)
    assert no_currency.status_code == 422


async def test_pagination_walks_every_company(client: httpx.AsyncClient) -> None:
    await load(client)
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/companies", params=params, headers=ANALYST)).json()
        seen += [c["name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6


async def test_segment_preview_and_idempotent_materialize(client: httpx.AsyncClient) -> None:
    await load(client)
    criteria = {"nace": ["K"], "countries": ["DE", "AT"], "size_classes": ["micro", "medium"]}
    preview = await client.post("/segments/preview", json=criteria, headers=ANALYST)
    assert preview.status_code == 200 and preview.json()["count"] == 2
    old_path = await client.post("/segment-preview", json=criteria, headers=ANALYST)
    assert old_path.json()["count"] == 2
    bad = await client.post("/segments/preview", json={"nace": ["ZZ"]}, headers=ANALYST)
    assert bad.status_code == 422
    # GET reads a segment by id: there is no segment called "preview"
    assert (await client.get("/segments/preview", headers=ANALYST)).status_code == 404
    assert (await client.delete("/segments/preview", headers=ANALYST)).status_code == 405
    created = await client.post(
        "/segments", json={"name": "IT DACH", "criteria": criteria}, headers=MARKETING
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["count"] == 2 and segment["members"] == 0
    assert segment["criteria"]["nace"] == ["K"]

    first = await client.post(f"/segments/{segment['id']}/materialize", headers=MARKETING)
    assert first.json() | {"materialized_at": None, "run_id": None} == {
        "segment_id": segment["id"],
        "matched": 2,
        "added": 2,
        "promoted": 2,
        "members": 2,
        "materialized_at": None,
        "run_id": None,
        "chunks": 1,
    }
    assert await names(client, status="prospect") == {"Soft A", "Soft C"}
    again = (await client.post(f"/segments/{segment['id']}/materialize", headers=MARKETING)).json()
    assert (again["added"], again["promoted"], again["members"]) == (0, 0, 2)

    # a new match arriving later is added on the next run, and only it
    more = "name,country,postal_code,nace,employees\nSoft G,DE,20095,62.90,3\n"
    await client.post(
        "/companies/import",
        content=more.encode(),
        headers={**MARKETING, "content-type": "text/csv"},
    )
    third = (await client.post(f"/segments/{segment['id']}/materialize", headers=MARKETING)).json()
    assert (third["added"], third["promoted"], third["members"]) == (1, 1, 3)
    listed = (await client.get("/segments", headers=ANALYST)).json()["items"]
    assert [s["members"] for s in listed] == [3]


async def test_segment_rules(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/segments", json={"name": "x", "criteria": {"nace": ["ZZ"]}}, headers=MARKETING
    )
    assert unknown.status_code == 422
    extra = await client.post(
        "/segments", json={"name": "x", "criteria": {"colour": "red"}}, headers=MARKETING
    )
    assert extra.status_code == 422
    rep = await client.post(
        "/segments", json={"name": "x", "criteria": {}}, headers=bearer("rita", ["sales_rep"])
    )
    assert rep.status_code == 403
    missing = await client.post("/segments/nope/materialize", headers=MARKETING)
    assert missing.status_code == 404
