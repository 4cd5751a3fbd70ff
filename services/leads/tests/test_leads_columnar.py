"""The columnar pass of imports gives exactly what the row validator gives, row for row: the
same stored values, the same rejections with their lines and reasons, the same counts."""

from __future__ import annotations

import csv
import io
import random

import pytest

from leads.domain.company_rows import FIELDS, RowValidator, map_header
from leads.importing.columnar import ChunkValidator, Validated
from leads.importing.stream import CsvStream, TextChunk
from leads.importing.writer import insert_row
from leads.reference import countries, currencies, nace_table

STAMP = "2026-11-27 10:00:00+00:00"
IMPORT_ID = 7

FULL = list(FIELDS)  # a column for every field, named as the field
# per column: plain values the columnar pass takes, and odd or bad ones for the row validator
VALUES = {
    "name": [
        "Acme GmbH",
        "Sample 12 GmbH & Co. KG",
        "  Spaced  Ltd ",
        "GmbH",
        "a.b.c s.a.",
        "!!!",
        "Müller AG",
        "\tTabbed Inc",
        "Nbsp\xa0",
        "",
        "x" * 301,
        "O'Brien & Sons plc",
        'Acme "Best" Ltd',
        "Comma, Inc",
        '"Quoted" GmbH',
    ],
    "country": ["DE", "de", " AT ", "FR", "XX", "", "Deutschland", "GR"],
    "region": ["", "DE1", "de21", "AT 13", "FR1", "EL3", "XX9", "DE1234"],
    "postal_code": [
        "10115",
        "",
        " 80-331 ",
        "SW1A 1AA",
        "1" * 21,
        "8010\u3000",
        "Ünter",
        "<b>",
        "-1",
    ],
    "city": ["Berlin", "", "München", " Graz ", "\u3000Tokyo", "y" * 201, "Wien\x1f"],
    "nace": ["", "C", "10", "10.1", "10.11", "C10.11", "1011", "99.99", "C25.6", "zz"],
    "nace_revision": ["", "2", "2.1", "rev 2", "NACE Rev. 2.1", "3"],
    "employees": ["", "0", "12", " 250 ", "0012", "-5", "1e3", "12.5", "99999999", "٣", "\t7"],
    "revenue": [
        "",
        "1000",
        "1000.5",
        "12.",
        "0.1234",
        "0.12345",
        "1,5",
        "1 000",
        "-1",
        "99999999999999.9999",
        "100000000000000",
        ".5",
        "abc",
    ],
    "currency": ["EUR", "eur", "", " USD ", "XXX"],
    "duns": ["", "123456789", "12-345-6789", "12345", " 987654321 ", "abcdefghi"],
    "vat_id": ["", "DE123456789", "de 123.456.789", "X", "ATU12345678", "FR+*12"],
    "website": [
        "",
        "https://www.Acme.de/about",
        "acme.de",
        "http://user@host.com:80/",
        "WWW.EXAMPLE.COM.",
        "ftp://files.example.org?x=1",
        "no spaces allowed.com x",
        "localhost",
        "https://bücher.de",
        "http://" + "a" * 300 + ".com",
        "a.b",
    ],
    "source": ["", "DnB", "listflix", "bad source!", " manual "],
}


def _validator(header: list[str]) -> tuple[CsvStream, ChunkValidator]:
    stream = CsvStream()
    stream.delimiter = ","
    rows = RowValidator(
        map_header(header, currencies()),
        {"2.1": nace_table("2.1"), "2": nace_table("2")},
        countries(),
        currencies(),
        default_source="import",
    )
    return stream, ChunkValidator(rows, stream)


def _csv(rows: list[list[str]], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue()


def _random_rows(header: list[str], count: int, seed: int, odd: float) -> list[list[str]]:
    """Rows of plain values, with an odd or bad value in a share ``odd`` of the fields."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        row = []
        for column in header:
            field = "revenue" if column == "revenue_eur" else column
            choices = VALUES.get(field, ["ignored"])
            if rng.random() < odd:
                row.append(rng.choice(choices))
            else:  # plain and distinct, so that most rows are valid
                row.append(_plain(field, i, rng) or choices[0])
        rows.append(row)
    return rows


def _plain(field: str, i: int, rng: random.Random) -> str:
    return {
        "name": f"Company {i} GmbH",
        "postal_code": str(10000 + i),
        "employees": str(rng.randint(0, 5000)),
        "revenue": f"{rng.randint(0, 10**9)}.{rng.randint(0, 99):02d}",
        "duns": f"{100000000 + i}",
        "vat_id": f"DE{700000000 + i}",
        "website": f"https://www.example-{i}.com/",
        "nace": rng.choice(["C10.11", "10.11", "46.90", "K62"]),
    }.get(field, "")


def _both(header: list[str], text: str, first_line: int = 2) -> tuple[Validated, Validated]:
    stream, chunks = _validator(header)
    chunk = TextChunk(text, first_line)
    by_columns = chunks.validate(chunk, IMPORT_ID, STAMP)
    by_rows = chunks._by_rows(
        stream.parse(chunk), lambda rec, line: insert_row(rec, IMPORT_ID, line, STAMP)
    )
    return by_columns, by_rows


@pytest.mark.parametrize("seed", range(6))
def test_columnar_pass_equals_row_validator(seed: int) -> None:
    header = FULL if seed % 2 == 0 else [*FULL[:8], "revenue_eur", *FULL[10:13], "extra"]
    rows = _random_rows(header, 3000, seed, odd=0.02 + 0.03 * seed)
    text = _csv(rows)
    _, chunks = _validator(header)
    assert chunks._read(TextChunk(text, 2)) is not None  # the columnar pass did take it
    by_columns, by_rows = _both(header, text)
    assert by_columns == by_rows
    # both kinds of rows were there: plain ones and ones for the row validator
    assert len(by_rows.rows) > 100 and len(by_rows.rejected) > 10


def test_plain_rows_are_validated_without_the_row_validator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = _random_rows(FULL, 500, seed=1, odd=0.0)
    _, chunks = _validator(FULL)
    calls = []
    validate_row = RowValidator.__call__
    monkeypatch.setattr(
        RowValidator, "__call__", lambda self, row: calls.append(row) or validate_row(self, row)
    )
    result = chunks.validate(TextChunk(_csv(rows), 2), IMPORT_ID, STAMP)
    assert (len(result.rows), result.rejected, calls) == (500, [], [])
    # the same rows, one of them odd: that one alone goes to the row validator
    rows[7][FULL.index("duns")] = "12-345-6789"
    result = chunks.validate(TextChunk(_csv(rows), 2), IMPORT_ID, STAMP)
    assert (len(result.rows), len(calls), result.rows[7][12]) == (500, 1, "123456789")


@pytest.mark.parametrize(
    "text",
    [
        'Acme,DE\n"Multi\nline",DE\nB,AT\n',  # a record over two lines
        "Acme,DE\nB,AT,extra\nC,FR\n",  # a ragged line
        "Acme,DE\nB\rC,AT\n",  # a lone carriage return
        'Acme,DE\nab"c,FR\n"x"y,AT\n',  # quotes inside fields
    ],
)
def test_chunks_polars_would_read_otherwise_go_to_the_row_parser(text: str) -> None:
    _, chunks = _validator(["name", "country"])
    assert chunks._read(TextChunk(text, 2)) is None
    by_columns, by_rows = _both(["name", "country"], text)
    assert by_columns == by_rows


def test_blank_lines_crlf_and_quoting_keep_line_numbers() -> None:
    header = ["name", "country", "postal_code"]
    text = _csv(
        [["Acme", "DE", "1"], ["", "", ""], ["Comma, Inc", "US", "2"], ["Bad", "XX", "3"]],
        newline="\r\n",
    )
    text += "\r\n" + _csv([['Quote "Q" Ltd', "GB", "4"], ["Last", "ZZ", "5"]], newline="\r\n")
    _, chunks = _validator(header)
    assert chunks._read(TextChunk(text, 10)) is not None
    by_columns, by_rows = _both(header, text, first_line=10)
    assert by_columns == by_rows
    assert by_columns.blank_lines == 2 and by_columns.records == 5
    assert [line for line, _ in by_columns.rejected] == [13, 16]
    assert [row[0] for row in by_columns.rows] == ["Acme", "Comma, Inc", 'Quote "Q" Ltd']
