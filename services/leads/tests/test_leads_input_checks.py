"""Input a user-level probe found accepted (or answered with a 500): extreme and future times,
unknown currencies, companies created on the fly without the import's checks, a section letter
that is not the code's section, keyless repeated rows, and who may take an ownerless lead."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leads.reference import nace_table
from salesflow.testing.helpers import bearer

from .conftest import MARKETING
from .test_leads_journey import ANN, MANAGER, SCORING, setup, touch

CSV = {**MARKETING, "content-type": "text/csv"}
EXTREMES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+12:00"]


def _iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def _touchpoints(client: httpx.AsyncClient, company_id: int) -> list[dict]:
    resp = await client.get("/touchpoints", params={"company_id": company_id}, headers=MARKETING)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _mql_of_ann(client: httpx.AsyncClient) -> tuple[int, str]:
    company_id = await setup(client)
    await touch(client, "whitepaper_download", company_id=company_id)
    lead = await touch(client, "demo_request", company_id=company_id)
    assert lead["lead_status"] == "mql"
    return company_id, lead["lead_id"]


async def test_touchpoint_times_out_of_range_or_in_the_future_are_422(
    client: httpx.AsyncClient,
) -> None:
    company_id = await setup(client)
    base = {"company_id": company_id, "channel": "web", "kind": "page_visit"}
    for when in EXTREMES:
        resp = await client.post(
            "/touchpoints", json={**base, "occurred_at": when}, headers=MARKETING
        )
        assert resp.status_code == 422, (when, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    # one such item refuses the whole batch, with nothing written
    batch = {"items": [{**base, "occurred_at": _iso(), "external_id": "x-1"}]}
    batch["items"].append({**base, "occurred_at": EXTREMES[0]})
    assert (await client.post("/touchpoints", json=batch, headers=MARKETING)).status_code == 422
    assert await _touchpoints(client, company_id) == []

    ahead = await client.post(
        "/touchpoints", json={**base, "occurred_at": _iso(timedelta(days=1))}, headers=MARKETING
    )
    assert ahead.status_code == 422 and ahead.json()["field"] == "occurred_at", ahead.text
    # a clock running a minute ahead is no error
    skewed = await client.post(
        "/touchpoints", json={**base, "occurred_at": _iso(timedelta(minutes=1))}, headers=MARKETING
    )
    assert skewed.status_code == 201, skewed.text
    # in a batch the future item alone fails
    batch = {
        "items": [
            {**base, "occurred_at": "2099-01-01T00:00:00Z"},
            {**base, "occurred_at": _iso(), "external_id": "x-2"},
        ]
    }
    resp = await client.post("/touchpoints", json=batch, headers=MARKETING)
    assert resp.status_code == 200, resp.text
    first, second = resp.json()["items"]
    assert not first["ok"] and "occurred_at" in first["error"] and second["ok"]
    assert len(await _touchpoints(client, company_id)) == 2


async def test_an_empty_external_id_is_refused_not_shared(client: httpx.AsyncClient) -> None:
    """Found by the OpenAPI fuzzer: "" skipped the repeat check, and a second "" hit the unique
    index (500)."""
    company_id = await setup(client)
    body = {"company_id": company_id, "channel": "web", "kind": "page_visit", "external_id": ""}
    for _ in range(2):
        resp = await client.post(
            "/touchpoints", json={**body, "occurred_at": _iso()}, headers=MARKETING
        )
        assert resp.status_code == 422, resp.text
    assert await _touchpoints(client, company_id) == []


async def test_qualify_and_convert_refuse_bad_times_and_unknown_currencies(
    client: httpx.AsyncClient,
) -> None:
    _, lead_id = await _mql_of_ann(client)
    url = f"/leads/{lead_id}/qualify"
    good = {"contact": {"name": "Jean"}, "needs": {}, "first_contact_at": _iso()}
    for when in [*EXTREMES, "2999-01-01T00:00:00Z", _iso(timedelta(hours=1))]:
        resp = await client.post(url, json={**good, "first_contact_at": when}, headers=ANN)
        assert resp.status_code == 422, (when, resp.text)
    for code in ("XYZ", "XAU", "XXX"):
        needs = {"budget": {"amount": "5", "currency": code}}
        resp = await client.post(url, json={**good, "needs": needs}, headers=ANN)
        assert resp.status_code == 422, (code, resp.text)
    detail = (await client.get(f"/leads/{lead_id}", headers=ANN)).json()
    assert detail["status"] == "mql" and detail["first_contact_at"] is None

    needs = {"budget": {"amount": "5", "currency": "CHF"}}
    qualified = await client.post(url, json={**good, "needs": needs}, headers=ANN)
    assert qualified.status_code == 200, qualified.text

    url = f"/leads/{lead_id}/convert"
    for body in (
        {"expected_amount": {"amount": "100", "currency": "ABC"}},
        {"expected_close_date": "9999-12-31"},
        {"expected_close_date": "0001-01-01"},
    ):
        resp = await client.post(url, json=body, headers=ANN)
        assert resp.status_code == 422, (body, resp.text)
    converted = await client.post(
        url,
        json={
            "expected_amount": {"amount": "100", "currency": "EUR"},
            "expected_close_date": "2027-03-31",
        },
        headers=ANN,
    )
    assert converted.status_code == 200, converted.text


async def test_company_from_a_touchpoint_passes_the_import_checks(
    client: httpx.AsyncClient,
) -> None:
    await setup(client)
    count = (await client.get("/companies/count", headers=MARKETING)).json()["count"]
    base = {"channel": "web", "kind": "page_visit", "occurred_at": _iso()}
    for company, field in (
        ({"name": "Nowhere Ltd", "country": "XX"}, "country"),
        ({"name": "Nowhere2 Ltd", "country": "DE", "website": "not a url at all"}, "website"),
        ({"name": "Nowhere3 Ltd", "country": "DE", "postal_code": "<script>"}, "postal_code"),
        ({"name": "   ", "country": "DE"}, "name"),
    ):
        resp = await client.post(
            "/touchpoints", json={**base, "company": company}, headers=MARKETING
        )
        assert resp.status_code == 422, (company, resp.text)
        problem = resp.json()
        # pydantic names the country (body.company.country), the row validator the others
        named = (
            [problem["field"]]
            if "field" in problem
            else [".".join(e["loc"]) for e in problem["errors"]]
        )
        assert any(n.endswith(f"company.{field}") for n in named), problem
    batch = {"items": [{**base, "company": {"name": "Bad Web", "country": "DE", "website": "x y"}}]}
    item = (await client.post("/touchpoints", json=batch, headers=MARKETING)).json()["items"][0]
    assert not item["ok"] and item["error"].startswith("company.website: malformed website")
    assert (await client.get("/companies/count", headers=MARKETING)).json()["count"] == count

    ok = {
        "name": " Fine GmbH ",
        "country": "DE",
        "postal_code": "80331",
        "website": "fine.example.de",
    }
    created = await client.post("/touchpoints", json={**base, "company": ok}, headers=MARKETING)
    assert created.status_code == 201, created.text
    company = (
        await client.get(f"/companies/{created.json()['company_id']}", headers=MARKETING)
    ).json()
    assert (company["name"], company["domain"], company["source"]) == (
        "Fine GmbH",
        "fine.example.de",
        "touchpoint",
    )


async def test_a_manager_takes_no_ownerless_lead_of_another_team(
    client: httpx.AsyncClient,
) -> None:
    _, lead_id = await _mql_of_ann(client)
    recycled = await client.post(
        f"/leads/{lead_id}/disqualify", json={"reason": "later", "recycle": True}, headers=ANN
    )
    body = recycled.json()
    assert (body["owner"], body["team"], body["queue"]) == (None, "south", None)
    north = bearer("olga", ["sales_manager"], team="north")
    taken = await client.post(f"/leads/{lead_id}/assign", json={"owner": "nils"}, headers=north)
    assert taken.status_code == 403, taken.text
    detail = (await client.get(f"/leads/{lead_id}", headers=MANAGER)).json()
    assert (detail["owner"], detail["team"]) == (None, "south")
    # the team's own manager may
    mine = await client.post(f"/leads/{lead_id}/assign", json={"owner": "bob"}, headers=MANAGER)
    assert mine.status_code == 200 and mine.json()["owner"] == "bob"


async def test_touchpoints_of_a_lead_answer_like_the_lead(client: httpx.AsyncClient) -> None:
    _, lead_id = await _mql_of_ann(client)
    params = {"lead_id": lead_id}
    mine = await client.get("/touchpoints", params=params, headers=ANN)
    assert mine.status_code == 200 and len(mine.json()) == 2
    carol = bearer("carol", ["sales_rep"], team="south")
    assert (await client.get(f"/leads/{lead_id}", headers=carol)).status_code == 404
    assert (await client.get("/touchpoints", params=params, headers=carol)).status_code == 404


def test_a_section_letter_must_be_the_codes_section() -> None:
    rev21, rev2 = nace_table("2.1"), nace_table("2")
    assert rev21.get("K62.10") is rev21.get("62.10") is not None
    assert rev21.get("C62.10") is None and rev21.get("J62.10") is None
    assert rev2.get("J62.01") is not None and rev2.get("K62.01") is None
    assert rev21.get("c10.11") is not None


async def test_wrong_section_letters_are_unknown_codes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nace/C62.10", headers=MARKETING)).status_code == 404
    assert (await client.get("/nace/K62.10", headers=MARKETING)).json()["code"] == "62.10"
    csv = "name,country,nace\nWrongSec Co,DE,C62.10\nRightSec Co,DE,K62.10\n"
    report = (await client.post("/companies/import", content=csv.encode(), headers=CSV)).json()
    assert report["accepted"] == 1
    assert report["rejected_rows"] == [{"line": 2, "reason": "unknown NACE Rev. 2.1 code 'C62.10'"}]
    count = await client.get("/companies/count", params={"nace": "C62"}, headers=MARKETING)
    assert count.status_code == 422
    model = {**SCORING, "fit_rules": [{"field": "nace", "value": "C62", "points": "5"}]}
    resp = await client.put("/scoring-model", json=model, headers={**MARKETING, "If-Match": '"1"'})
    assert resp.status_code == 422, resp.text
    rules: dict[str, Any] = {
        "territories": [{"name": "t", "team": "south", "nace": ["C62"]}],
        "teams": [{"name": "south", "reps": [{"id": "ann"}]}],
    }
    resp = await client.put("/routing-rules", json=rules, headers={**MANAGER, "If-Match": '"1"'})
    assert resp.status_code == 422, resp.text


async def test_a_keyless_row_repeated_in_the_file_is_rejected(
    client: httpx.AsyncClient, leads_settings: Any
) -> None:
    # batches of 50 rows (conftest): the repeat on line 59 lies in a later batch than line 2
    rows = ["Probe NoPostal GmbH,AT", "Probe NoPostal GmbH,AT"]
    rows += [f"Filler {i},AT" for i in range(55)] + ["Probe NoPostal GmbH,AT", "Probe NoPostal,AT"]
    csv = "name,country\n" + "\n".join(rows) + "\n"
    report = (await client.post("/companies/import", content=csv.encode(), headers=CSV)).json()
    repeat = "duplicate of line 2 in this file (same row)"
    assert report["rejected_rows"] == [
        {"line": 3, "reason": repeat},
        {"line": 59, "reason": repeat},
    ]
    assert (report["accepted"], report["rejected"]) == (len(rows) - 2, 2)
    # the postal code check: the row validator rejects a postal code of other characters
    bad = "name,country,postal_code\nScript Co,DE,<script>\n"
    report = (await client.post("/companies/import", content=bad.encode(), headers=CSV)).json()
    assert report["rejected_rows"][0]["reason"].startswith("malformed postal code '<script>'")


async def test_blank_text_is_refused_and_text_is_stripped(
    client: httpx.AsyncClient, outbox: Any
) -> None:
    company_id, lead_id = await _mql_of_ann(client)
    blanks = ["", "   ", " \t\n", "\u00a0\u2003"]
    url = f"/leads/{lead_id}/qualify"
    good = {"contact": {"name": "Jean"}, "needs": {}, "first_contact_at": _iso()}
    bad_bodies: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    for blank in blanks:
        bad_bodies += [
            (url, {**good, "contact": {"name": blank}}, ANN),
            (url, {**good, "contact": {"name": "Jean", "role": blank}}, ANN),
            (url, {**good, "contact": {"name": "Jean", "phone": blank}}, ANN),
            (url, {**good, "contact": {"contact_id": blank}}, ANN),
            (url, {**good, "needs": {"need": blank}}, ANN),
            (url, {**good, "needs": {"authority": blank, "timeline": "Q3"}}, ANN),
            (f"/leads/{lead_id}/disqualify", {"reason": blank}, ANN),
            (f"/leads/{lead_id}/assign", {"owner": blank}, MANAGER),
            (f"/leads/{lead_id}/assign", {"owner": "bob", "team": blank}, MANAGER),
            ("/contacts", {"company_id": company_id, "name": blank}, ANN),
            ("/segments", {"name": blank, "criteria": {}}, MARKETING),
        ]
        touchpoint = {"company_id": company_id, "channel": "web", "kind": "page_visit"}
        for field in ("contact_name", "campaign", "external_id", "domain"):
            bad_bodies.append(
                ("/touchpoints", {**touchpoint, "occurred_at": _iso(), field: blank}, MARKETING)
            )
        hint = {"name": blank, "country": "DE"}
        bad_bodies.append(
            ("/touchpoints", {**touchpoint, "occurred_at": _iso(), "company": hint}, MARKETING)
        )
    # NUL is no text (PostgreSQL refuses it)
    bad_bodies.append((url, {**good, "needs": {"need": "\u0000"}}, ANN))
    bad_bodies.append((url, {**good, "contact": {"name": "Je\u0000an"}}, ANN))
    for path, body, headers in bad_bodies:
        resp = await client.post(path, json=body, headers=headers)
        assert resp.status_code == 422, (path, body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    detail = (await client.get(f"/leads/{lead_id}", headers=ANN)).json()
    assert (detail["status"], detail["contact"]) == ("mql", None)
    assert len(await _touchpoints(client, company_id)) == 2

    # surrounding whitespace is dropped from what is stored and forwarded
    body = {
        "contact": {"name": "  Jean Dupont \t", "role": " CTO "},
        "needs": {"need": "  a CRM  "},
        "first_contact_at": _iso(),
    }
    resp = await client.post(url, json=body, headers=ANN)
    assert resp.status_code == 200, resp.text
    resp = await client.post(f"/leads/{lead_id}/convert", json={}, headers=ANN)
    assert resp.status_code == 200, resp.text
    [(_, _, _, converted)] = await outbox("lead.converted.v1")
    assert converted["contact"]["name"] == "Jean Dupont"
    assert converted["contact"]["role"] == "CTO"
    assert converted["needs"]["need"] == "a CRM"
