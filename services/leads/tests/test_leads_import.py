"""POST /companies/import through HTTP: a generated file with every kind of bad row, dedupe on
re-import, files that are not CSV."""

from collections.abc import AsyncIterator

import httpx

from leads.sample_data import company_csv
from salesflow.testing.helpers import bearer

from .conftest import MARKETING

CSV = {**MARKETING, "content-type": "text/csv"}

HEADER = (
    "Company Name,Country,NUTS,PLZ,City,NACE,Employees,Annual Revenue,Currency,DUNS,VAT,Homepage\n"
)
ROWS = [
    # line 2..: (row, expected rejection or None)
    (
        "Alpha GmbH,DE,DE212,80331,München,62.10,12,1000000,EUR,150483782,DE111111111,alpha.example.com",
        None,
    ),
    ('"Beta, Multi\nLine AG",DE,DE3,10115,Berlin,K,300,,,150483783,,', None),
    (",DE,,10115,Berlin,,,,,,,", "missing name"),
    ("Gamma,XX,,1000,Nowhere,,,,,,,", "unknown country 'XX' (ISO 3166-1 alpha-2 expected)"),
    ("Delta,DE,FR10,1000,Paris,,,,,,,", "region 'FR10' is not a NUTS code of DE"),
    ("Epsilon,DE,,1000,Bonn,99.99,,,,,,", "unknown NACE Rev. 2.1 code '99.99'"),
    ("Zeta,DE,,1000,Bonn,,-5,,,,,", "negative employees (-5)"),
    ("Eta,DE,,1000,Bonn,,lots,,,,,", "employees 'lots' is not a whole number"),
    ("Theta,DE,,1000,Bonn,,,-1,EUR,,,", "negative revenue (-1)"),
    ("Iota,DE,,1000,Bonn,,,100,,,,", "revenue without currency"),
    ("Kappa,DE,,1000,Bonn,,,100,EUX,,,", "unknown currency 'EUX' (ISO 4217 expected)"),
    ("Lambda,DE,,1000,Bonn,,,,,12-34,,", "malformed D-U-N-S '12-34' (9 digits expected)"),
    ("Mu,DE,,1000,Bonn,,,,,,X1,", "malformed VAT id 'X1'"),
    ("Nu,DE,,1000,Bonn,,,,,,,not a site", "malformed website 'not a site'"),
    ("Xi,DE,,1000,Bonn", "expected 12 fields, found 5"),
    ("Omicron,DE,,1000,Bonn,,,,,150483782,,", "duplicate of line 2 in this file (same D-U-N-S)"),
    ("Pi,DE,,1000,Bonn,,,,,,DE 111 111 111,", "duplicate of line 2 in this file (same VAT id)"),
    (
        "ALPHA,DE,,80331,München,,,,,,,",
        "duplicate of line 2 in this file (same name, postal code and country)",
    ),
    ("", None),  # a blank line is skipped
    ("Rho,AT,AT13,1010,Wien,01.11,3,5000.50,EUR,,ATU12345678,https://www.rho.example.at/", None),
]


def build_file() -> tuple[bytes, list[tuple[int, str]]]:
    text = HEADER
    expected = []
    line = 2
    for row, reason in ROWS:
        text += row + "\n"
        if reason:
            expected.append((line, reason))
        line += row.count("\n") + 1
    data = text.encode()
    # a row with bytes that are not UTF-8, at the end
    data += b"Sigma \xff\xfe,DE,,1000,Bonn,,,,,,,\n"
    expected.append((line, "bytes that are not utf-8"))
    return data, expected


async def post(client: httpx.AsyncClient, data: bytes, **params: str) -> httpx.Response:
    return await client.post("/companies/import", content=data, headers=CSV, params=params)


async def test_every_kind_of_bad_row_is_rejected_with_line_and_reason(
    client: httpx.AsyncClient,
) -> None:
    data, expected = build_file()
    resp = await post(client, data, source="listflix")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [(r["line"], r["reason"]) for r in body["rejected_rows"]] == expected
    assert body["rejected"] == len(expected)
    assert (body["accepted"], body["updated"], body["blank_lines"]) == (3, 0, 1)
    assert body["rows"] == body["accepted"] + body["rejected"]
    assert body["columns"]["Annual Revenue"] == "revenue"

    companies = (await client.get("/companies", headers=MARKETING)).json()["items"]
    by_name = {c["name"]: c for c in companies}
    assert set(by_name) == {"Alpha GmbH", "Beta, Multi\nLine AG", "Rho"}
    alpha = by_name["Alpha GmbH"]
    assert (alpha["nace"], alpha["nace_section"], alpha["size_class"]) == ("62.10", "K", "small")
    assert (alpha["revenue"], alpha["revenue_currency"]) == ("1000000.0000", "EUR")
    assert alpha["source"] == "listflix" and alpha["status"] == "suspect"
    assert by_name["Beta, Multi\nLine AG"]["size_class"] == "large"
    assert by_name["Rho"]["domain"] == "rho.example.at"
    [run] = (await client.get("/companies/import", headers=MARKETING)).json()
    assert (run["id"], run["status"], run["accepted"], run["rejected"]) == (
        body["import_id"],
        "completed",
        3,
        len(expected),
    )


async def test_known_companies_are_updated_not_duplicated(client: httpx.AsyncClient) -> None:
    data, _ = build_file()
    assert (await post(client, data)).status_code == 200
    again = (
        HEADER
        + "Alpha Renamed GmbH,DE,,,,,20,,,150483782,,\n"  # known by D-U-N-S
        + "Rho GmbH,AT,,,,,,,,,ATU 12345678,\n"  # known by VAT id
        + "beta multi line,DE,,10115,,,,,,,,\n"  # known by name + postal code + country
        + "Omega,DE,,99999,Köln,,,,,,,\n"  # new
        + "Conflict,DE,,,,,,,,150483783,DE111111111,\n"  # D-U-N-S of Beta, VAT of Alpha
    )
    body = (await post(client, again.encode())).json()
    assert (body["accepted"], body["updated"], body["rejected"]) == (1, 3, 1)
    assert "matches different known companies" in body["rejected_rows"][0]["reason"]
    companies = (await client.get("/companies", headers=MARKETING)).json()["items"]
    assert len(companies) == 4
    alpha = next(c for c in companies if c["duns"] == "150483782")
    # the row's values win, what it leaves empty stays
    assert (alpha["name"], alpha["employees"], alpha["city"]) == (
        "Alpha Renamed GmbH",
        20,
        "München",
    )


async def test_rows_repeating_a_rejected_row_say_so(client: httpx.AsyncClient) -> None:
    data, _ = build_file()
    assert (await post(client, data)).status_code == 200
    conflict = "Conflict,DE,,,,,,,,150483783,DE111111111,"  # D-U-N-S of Beta, VAT of Alpha
    again = (
        HEADER
        + conflict
        + "\n"
        + conflict.replace("Conflict", "Conflict Again")  # the same keys: the same conflict
        + "\n"
        + "Beta Only,DE,,,,,,,,150483783,,\n"  # one key of line 2 only
        + "Omega,DE,,99999,Köln,,,,,150483799,,\n"
        + "Omega Again,DE,,,,,,,,150483799,,\n"  # a repeat of a written row
    )
    body = (await post(client, again.encode())).json()
    assert (body["accepted"], body["updated"], body["rejected"]) == (1, 0, 4)
    reasons = {r["line"]: r["reason"] for r in body["rejected_rows"]}
    assert reasons[2].startswith("matches different known companies")
    assert reasons[3] == reasons[2]
    assert reasons[4] == (
        f"duplicate of line 2 in this file (same D-U-N-S), which was rejected ({reasons[2]})"
    )
    assert reasons[6] == "duplicate of line 5 in this file (same D-U-N-S)"


async def test_a_list_imported_again_updates_each_company_once(client: httpx.AsyncClient) -> None:
    async def companies() -> dict[str, dict[str, object]]:
        page = await client.get("/companies", params={"limit": 200}, headers=MARKETING)
        return {c["duns"]: c for c in page.json()["items"]}

    data = b"".join(company_csv(120))  # three batches of the test settings' 50 rows
    assert (await post(client, data)).json()["accepted"] == 120
    before = await companies()
    changed = data.replace(b"Sample 5 GmbH", b"Sample Five GmbH")
    report = (await post(client, changed)).json()
    assert (report["accepted"], report["updated"], report["rejected"]) == (0, 120, 0)
    after = await companies()
    assert after.keys() == before.keys() and len(after) == 120
    for duns, company in after.items():
        old = before[duns]
        # every company was written by the second import, even where no field changed
        assert company["updated_at"] > old["updated_at"]
        same = {k: v for k, v in company.items() if k not in ("updated_at", "name")}
        assert same == {k: v for k, v in old.items() if k not in ("updated_at", "name")}
    assert after["100000005"]["name"] == "Sample Five GmbH"
    assert after["100000006"]["name"] == "Sample 6 GmbH"


async def test_duplicates_across_batches_and_a_streamed_body(client: httpx.AsyncClient) -> None:
    # the test settings write 50 rows per batch: 300 rows are six batches
    async def body() -> AsyncIterator[bytes]:
        for chunk in company_csv(300, chunk_rows=37):
            yield chunk
        yield b"Again 7,DE,,,,,,,,100000007,,,\n"  # D-U-N-S of line 9

    resp = await client.post("/companies/import", content=body(), headers=CSV)
    report = resp.json()
    assert (report["accepted"], report["rejected"]) == (300, 1), report["rejected_rows"]
    assert report["rejected_rows"] == [
        {"line": 302, "reason": "duplicate of line 9 in this file (same D-U-N-S)"}
    ]


async def test_semicolons_and_windows_1252(client: httpx.AsyncClient) -> None:
    text = "Firmenname;Land;PLZ;Ort;Mitarbeiter\nMüller & Söhne KG;de;50667;Köln;7\n"
    resp = await client.post(
        "/companies/import",
        content=text.encode("windows-1252"),
        headers={**MARKETING, "content-type": "text/csv; charset=windows-1252"},
    )
    assert resp.json()["accepted"] == 1 and resp.json()["delimiter"] == ";"
    [company] = (await client.get("/companies", headers=MARKETING)).json()["items"]
    assert (company["name"], company["city"], company["size_class"]) == (
        "Müller & Söhne KG",
        "Köln",
        "micro",
    )


async def test_files_that_are_not_csv_are_refused_whole(client: httpx.AsyncClient) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)
    cases = [
        ({"content-type": "application/json"}, b'{"name": "x"}', 415),
        ({"content-type": "text/csv; charset=klingon"}, b"name,country\n", 415),
        ({"content-type": "text/csv"}, png, 400),
        ({"content-type": "text/csv"}, b"", 400),
        ({"content-type": "text/csv"}, b"city,zip\nBonn,53111\n", 400),
    ]
    for headers, data, status in cases:
        resp = await client.post(
            "/companies/import", content=data, headers={**MARKETING, **headers}
        )
        assert resp.status_code == status, (data[:20], resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
    assert (await client.get("/companies", headers=MARKETING)).json()["items"] == []


async def test_only_marketing_and_managers_import(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/companies/import",
        content=b"name,country\nA,DE\n",
        headers={**bearer("rita", ["sales_rep"]), "content-type": "text/csv"},
    )
    assert resp.status_code == 403
