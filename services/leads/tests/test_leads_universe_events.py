"""Suspects and prospects as events: ``companies.imported`` per committed chunk of an import and
``prospects.materialized`` per chunk of a materialization, counted per segment cell; the counts
must equal the companies written, in the outbox and on the real broker."""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from leads.config import Settings
from leads.domain.universe import tally
from leads.sample_data import HEADER, company_rows
from leads.tables import CompanyRow
from salesflow.contracts.events.leads import CompaniesImported, ProspectsMaterialized
from salesflow.testing.kafka import envelopes, read_topic

from .conftest import MARKETING

CSV = {**MARKETING, "content-type": "text/csv"}
IMPORTED = "companies.imported.v1"
MATERIALIZED = "prospects.materialized.v1"
Cells = Counter[tuple[Any, ...]]


def file_with_bad_rows(n: int, *, start: int = 0, bad_every: int = 30) -> tuple[bytes, int]:
    """``n`` good rows with a bad one (missing name) after every ``bad_every``, and one
    duplicate of the first row at the end."""
    lines, bad = [HEADER], 0
    for i, line in enumerate(company_rows(n, start=start)):
        lines.append(line)
        if i % bad_every == bad_every - 1:
            lines.append(",DE,,,,,,,,,,,\n")
            bad += 1
    lines.append(next(company_rows(1, start=start)))  # duplicate inside the file
    return "".join(lines).encode(), bad + 1


def cells_of(events: list[tuple[str, str, dict, dict]], field: str) -> Cells:
    total: Cells = Counter()
    for _, _, _, payload in events:
        for c in payload[field]:
            total[(c["nace_section"], c["size_class"], c["country"], c["source"])] += c["count"]
    return total


async def db_cells(client: httpx.AsyncClient, **where: Any) -> Cells:
    c = CompanyRow.__table__.c
    stmt = select(c.nace_section, c.size_class, c.country, c.source, func.count()).group_by(
        c.nace_section, c.size_class, c.country, c.source
    )
    for name, value in where.items():
        stmt = stmt.where(c[name] == value)
    async with client.app.state.db.session() as session:  # type: ignore[attr-defined]
        rows = (await session.execute(stmt)).all()
    return Counter({tuple(r[:4]): r[4] for r in rows})


def test_tally_counts_companies_per_cell_in_a_stable_order() -> None:
    keys = [
        ("K", "small", "DE", "dnb"),
        (None, None, "AT", "manual"),
        ("K", "small", "DE", "dnb"),
        ("C", "large", "DE", "dnb"),
    ]
    assert tally(keys) == [
        ((None, None, "AT", "manual"), 1),
        (("C", "large", "DE", "dnb"), 1),
        (("K", "small", "DE", "dnb"), 2),
    ]
    assert tally([]) == []


async def test_every_committed_chunk_of_an_import_counts_its_new_companies(
    client: httpx.AsyncClient, leads_settings: Settings, broker: str, outbox: Any
) -> None:
    data, bad = file_with_bad_rows(170)  # 50 rows per chunk in the test settings: 4 chunks
    first = (await client.post("/companies/import", content=data, headers=CSV)).json()
    assert (first["accepted"], first["rejected"]) == (170, bad), first["rejected_rows"]

    events = await outbox(IMPORTED)
    assert [e[3]["chunk"] for e in events] == [1, 2, 3, 4]
    for _, key, headers, payload in events:
        CompaniesImported.model_validate(payload)
        assert key == payload["import_id"] == str(first["import_id"])
        assert headers["ce_subject"] == key and headers["ce_source"] == "/salesflow/leads"
    assert len({e[2]["ce_correlationid"] for e in events}) == 1  # one per import
    assert len({e[2]["ce_id"] for e in events}) == 4
    assert cells_of(events, "suspects") == await db_cells(client)
    assert sum(cells_of(events, "suspects").values()) == 170
    assert sum(e[3]["rows_rejected"] for e in events) == bad
    assert sum(e[3]["rows_updated"] for e in events) == 0
    assert len(cells_of(events, "suspects")) > 20  # many cells, not one lump

    # the same rows again: known companies are updated, none is a suspect again
    again = (await client.post("/companies/import", content=data, headers=CSV)).json()
    assert (again["accepted"], again["updated"]) == (0, 170)
    second = [e for e in await outbox(IMPORTED) if e[1] == str(again["import_id"])]
    assert [e[3]["chunk"] for e in second] == [1, 2, 3, 4]
    assert all(e[3]["suspects"] == [] for e in second)
    assert sum(e[3]["rows_updated"] for e in second) == 170

    # a file mixing known and new companies counts only the new ones
    mixed = (HEADER + "".join(company_rows(30, start=150))).encode()
    third = (await client.post("/companies/import", content=mixed, headers=CSV)).json()
    assert (third["accepted"], third["updated"]) == (10, 20)
    [mixed_event] = [e for e in await outbox(IMPORTED) if e[1] == str(third["import_id"])]
    assert sum(cells_of([mixed_event], "suspects").values()) == 10
    assert mixed_event[3]["rows_updated"] == 20

    # what the relay published to the broker is what the outbox holds
    records = await read_topic(broker, leads_settings.topic("leads.import.v1"), expect=9)
    published = envelopes(records)
    assert sorted(e.id for e in published) == sorted(e[2]["ce_id"] for e in await outbox(IMPORTED))
    assert all(e.type == IMPORTED for e in published)


async def test_materialize_counts_only_companies_that_became_prospects(
    client: httpx.AsyncClient, leads_settings: Settings, broker: str, outbox: Any
) -> None:
    data = (HEADER + "".join(company_rows(200))).encode()
    assert (await client.post("/companies/import", content=data, headers=CSV)).json()[
        "accepted"
    ] == 200
    # a match that is already a lead joins the segment but is no new prospect
    touch = {
        "channel": "web",
        "kind": "whitepaper_download",
        "occurred_at": datetime.now(UTC).isoformat(),
        "company_id": 1,
    }
    assert (await client.post("/touchpoints", json=touch, headers=MARKETING)).json()["lead_created"]
    countries = ["DE", "AT", "CH", "FR", "NL", "BE", "IT"]  # 140 of the 200, company 1 is DE
    segment = (
        await client.post(
            "/segments",
            json={"name": "Seven", "criteria": {"countries": countries}},
            headers=MARKETING,
        )
    ).json()
    url = f"/segments/{segment['id']}/materialize"

    first = (await client.post(url, headers=MARKETING)).json()
    assert (first["matched"], first["added"], first["promoted"]) == (140, 140, 139)
    events = await outbox(MATERIALIZED)
    assert [e[3]["chunk"] for e in events] == [1, 2, 3]  # 50 per chunk in the test settings
    assert first["chunks"] == 3
    for _, key, _, payload in events:
        ProspectsMaterialized.model_validate(payload)
        assert key == payload["segment_id"] == segment["id"]
        assert (payload["segment_name"], payload["run_id"]) == ("Seven", first["run_id"])
    assert cells_of(events, "prospects") == await db_cells(client, status="prospect")
    assert sum(cells_of(events, "prospects").values()) == 139

    again = (await client.post(url, headers=MARKETING)).json()
    assert (again["added"], again["promoted"], again["chunks"]) == (0, 0, 0)
    assert len(await outbox(MATERIALIZED)) == 3

    # new matches arrive: the next run counts them, and only them
    more = (HEADER + "".join(company_rows(20, start=500))).encode()
    await client.post("/companies/import", content=more, headers=CSV)
    third = (await client.post(url, headers=MARKETING)).json()
    assert (third["added"], third["promoted"], third["members"]) == (14, 14, 154)
    latest = (await outbox(MATERIALIZED))[3:]  # chunks by id: the new ones end two chunks
    assert [e[3]["chunk"] for e in latest] == list(range(1, third["chunks"] + 1))
    assert {e[3]["run_id"] for e in latest} == {third["run_id"]}
    assert sum(cells_of(latest, "prospects").values()) == 14
    assert cells_of(await outbox(MATERIALIZED), "prospects") == await db_cells(
        client, status="prospect"
    )

    expect = len(await outbox(MATERIALIZED))
    records = await read_topic(broker, leads_settings.topic("leads.segment.v1"), expect=expect)
    assert sorted(e.id for e in envelopes(records)) == sorted(
        e[2]["ce_id"] for e in await outbox(MATERIALIZED)
    )


async def test_a_company_created_by_a_touchpoint_is_one_new_suspect(
    client: httpx.AsyncClient, outbox: Any
) -> None:
    touch = {
        "channel": "event",
        "kind": "event_visit",
        "occurred_at": datetime.now(UTC).isoformat(),
        "company": {"name": "Fresh GmbH", "country": "DE", "postal_code": "80331"},
    }
    body = (await client.post("/touchpoints", json=touch, headers=MARKETING)).json()
    assert body["company_created"]
    [(_, key, _, payload)] = await outbox(IMPORTED)
    assert key == payload["import_id"] == f"touchpoint:{body['company_id']}"
    assert payload["chunk"] == 1
    assert payload["suspects"] == [
        {
            "nace_section": None,
            "size_class": None,
            "country": "DE",
            "source": "touchpoint",
            "count": 1,
        }
    ]
    # the same company again is known: no new suspect
    again = (await client.post("/touchpoints", json=touch, headers=MARKETING)).json()
    assert not again["company_created"]
    assert len(await outbox(IMPORTED)) == 1
