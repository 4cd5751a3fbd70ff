"""Company lists in UTF-16 (Excel's "Unicode Text": a byte order mark, tabs, CRLF) and UTF-8
with a byte order mark, streamed in pieces that split code units and surrogate pairs."""

import codecs
from collections.abc import AsyncIterator

import httpx
import pytest

from leads.importing.stream import CsvStream

from .conftest import MARKETING

HEADER = "Firmenname\tLand\tPLZ\tOrt\tMitarbeiter\r\n"
# a city outside the Basic Multilingual Plane is a surrogate pair in UTF-16
ROWS = [
    ("Müller & Söhne KG", "DE", "50667", "Köln", "7"),
    ("Bäckerei Öztürk GmbH", "DE", "80331", "München", "12"),
    ("Ærø Fisk ApS", "DK", "5970", "Ærøskøbing 𝔄", "3"),
    ("Straße 1 AG", "AT", "1010", "Wien", "300"),
]


def text(rows: int = 0) -> str:
    lines = [HEADER, *("\t".join(r) + "\r\n" for r in ROWS)]
    lines += [f"Zusatz {i} Ü GmbH\tDE\t{10000 + i}\tGöttingen\t{i % 90}\r\n" for i in range(rows)]
    return "".join(lines)


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    # an odd size splits two-byte code units (and, sooner or later, the surrogate pair)
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def post(client: httpx.AsyncClient, body: object, content_type: str) -> httpx.Response:
    return await client.post(
        "/companies/import",
        content=body,  # type: ignore[arg-type]
        headers={**MARKETING, "content-type": content_type},
    )


async def names_and_cities(client: httpx.AsyncClient) -> dict[str, str]:
    page = await client.get("/companies", params={"limit": 200}, headers=MARKETING)
    return {c["name"]: c["city"] for c in page.json()["items"]}


@pytest.mark.parametrize(
    ("bom", "codec", "content_type"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "text/csv"),  # Excel: no charset sent
        (codecs.BOM_UTF16_LE, "utf-16-le", "text/csv; charset=utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "text/csv; charset=UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "text/csv; charset=utf-8"),  # the mark wins
        (b"", "utf-16-le", "text/csv; charset=utf-16le"),
        (b"", "utf-16-be", "text/csv; charset=utf-16be"),
        (b"", "utf-16-le", "text/csv; charset=utf-16"),  # no mark: byte order from the zeros
        (codecs.BOM_UTF8, "utf-8", "text/csv"),
    ],
)
async def test_utf16_and_utf8_with_a_byte_order_mark_streamed_in_odd_pieces(
    client: httpx.AsyncClient, bom: bytes, codec: str, content_type: str
) -> None:
    data = bom + text(rows=150).encode(codec)
    resp = await post(client, pieces(data, 7), content_type)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["accepted"], report["rejected"], report["delimiter"]) == (154, 0, "\t")
    assert report["columns"]["Firmenname"] == "name"  # the mark is not part of the first name
    cities = await names_and_cities(client)
    assert cities["Müller & Söhne KG"] == "Köln"
    assert cities["Ærø Fisk ApS"] == "Ærøskøbing 𝔄"
    assert cities["Zusatz 149 Ü GmbH"] == "Göttingen"


async def test_utf16_in_one_piece_and_byte_by_byte(client: httpx.AsyncClient) -> None:
    data = codecs.BOM_UTF16_LE + text().encode("utf-16-le")
    assert (await post(client, data, "text/csv")).json()["accepted"] == 4
    report = (await post(client, pieces(data, 1), "text/csv")).json()
    assert (report["accepted"], report["updated"]) == (0, 4)
    # big-endian without a mark starts with a zero byte: no binary file for that
    data = text().encode("utf-16-be")
    resp = await post(client, pieces(data, 1), "text/csv; charset=utf-16be")
    assert resp.status_code == 200, resp.text
    assert (resp.json()["accepted"], resp.json()["updated"]) == (0, 4)


async def test_broken_utf16_rows_are_rejected_and_binary_files_still_refused(
    client: httpx.AsyncClient,
) -> None:
    # a lone high surrogate in line 3 is no text; the rest of the file is
    good = HEADER + "\t".join(ROWS[0]) + "\r\n"
    data = codecs.BOM_UTF16_LE + good.encode("utf-16-le")
    data += "Bad".encode("utf-16-le") + b"\x00\xd8" + "\tDE\t1000\tBonn\t1\r\n".encode("utf-16-le")
    data += "\t".join(ROWS[1]).encode("utf-16-le") + b"\r\x00\n\x00"
    report = (await post(client, pieces(data, 5), "text/csv")).json()
    assert (report["accepted"], report["rejected"]) == (2, 1)
    assert report["rejected_rows"] == [{"line": 3, "reason": "bytes that are not utf-16le"}]

    # zeros in the decoded text: a binary file behind a UTF-16 mark (or UTF-32) is no list
    for blob in (codecs.BOM_UTF16_LE + bytes(64), codecs.BOM_UTF32_LE + text().encode("utf-32-le")):
        resp = await post(client, blob, "text/csv")
        assert resp.status_code == 400, resp.text
        assert "binary content" in resp.json()["detail"]
    # the codecs that are no text encodings are no charsets
    assert (await post(client, b"name,country\n", "text/csv; charset=base64")).status_code == 415


def test_the_stream_waits_for_two_bytes_before_choosing_the_decoder() -> None:
    stream = CsvStream("utf-8")
    data = codecs.BOM_UTF16_BE + "name\tcountry\nÄ\tDE\n".encode("utf-16-be")
    records = [r for b in data for r in stream.feed(bytes([b]))] + stream.close()
    assert [r.fields for r in records] == [["name", "country"], ["Ä", "DE"]]
    assert stream.wide and stream.delimiter == "\t"
    assert stream.looks_binary(data[:2]) is False
    assert CsvStream("utf-8").looks_binary(b"ab\x00c") is True
