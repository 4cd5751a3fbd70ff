"""CSV rows: vendor header mapping, validation of each field, identity keys, streaming."""

from decimal import Decimal

import pytest

from leads.domain.companies import clean_vat, domain_of, match_key, name_key, size_class
from leads.domain.company_rows import (
    CompanyRecord,
    HeaderError,
    RowValidator,
    map_header,
    normalize_header,
)
from leads.importing.stream import CsvStream, Record, TextChunk, sniff_delimiter, split_chunk
from leads.reference import countries, currencies, nace_table

HEADER = [
    "Company Name",
    "Country",
    "NUTS",
    "PLZ",
    "City",
    "NACE Rev 2 Code",
    "Employees Total",
    "Umsatz (EUR)",
    "D-U-N-S Number",
    "USt-IdNr",
    "Homepage",
    "Source",
]


def validator(header: list[str] = HEADER, **kw: str) -> RowValidator:
    return RowValidator(
        map_header(header, currencies()),
        {"2.1": nace_table("2.1"), "2": nace_table("2")},
        countries(),
        currencies(),
        **kw,
    )


GOOD = [
    "ACME GmbH",
    "de",
    "DE212",
    "80331",
    "München",
    "6210",
    "42",
    "1234567,89",
    "15-048-3782",
    "DE 123 456 789",
    "https://www.acme.example.com/de",
    "DNB",
]


def test_vendor_headers_map_to_fields() -> None:
    mapping = map_header(HEADER, currencies())
    assert mapping.index == {
        "name": 0,
        "country": 1,
        "region": 2,
        "postal_code": 3,
        "city": 4,
        "nace": 5,
        "employees": 6,
        "revenue": 7,
        "duns": 8,
        "vat_id": 9,
        "website": 10,
        "source": 11,
    }
    assert mapping.implied_currency == "EUR"
    assert normalize_header("  D-U-N-S® Number ") == "d_u_n_s_number"
    assert normalize_header("\ufeffFirmenname") == "firmenname"


def test_unknown_columns_are_ignored_and_reported() -> None:
    mapping = map_header(["name", "country", "Favourite colour"], currencies())
    assert mapping.ignored == ("Favourite colour",)


@pytest.mark.parametrize(
    "header",
    [["city", "postal_code"], ["name", "zip"], ["name", "company", "country"]],
)
def test_header_that_is_no_company_list_is_refused(header: list[str]) -> None:
    with pytest.raises(HeaderError):
        map_header(header, currencies())


def test_good_row_is_normalised() -> None:
    rec = validator()(GOOD)
    assert isinstance(rec, CompanyRecord)
    assert rec.country == "DE"
    assert (rec.nace, rec.nace_rev, rec.nace_section) == ("62.10", "2.1", "K")
    assert (rec.employees, rec.size_class) == (42, "small")
    assert (rec.revenue, rec.currency) == (Decimal("1234567.8900"), "EUR")
    assert rec.duns == "150483782"
    assert rec.vat_id == "DE123456789"
    assert rec.domain == "acme.example.com"
    assert rec.source == "dnb"
    assert rec.match_key == "DE|80331|acme"


def test_revision_2_codes_when_asked() -> None:
    row = [*GOOD]
    row[5] = "62.01"  # Rev. 2 only
    assert validator()(row) == "unknown NACE Rev. 2.1 code '62.01'"
    rec = validator(default_revision="2")(row)
    assert isinstance(rec, CompanyRecord)
    assert (rec.nace, rec.nace_section) == ("62.01", "J")


BAD = [
    (0, "", "missing name"),
    (1, "", "missing country"),
    (1, "XX", "unknown country 'XX' (ISO 3166-1 alpha-2 expected)"),
    (2, "FR10", "region 'FR10' is not a NUTS code of DE"),
    (5, "99.99", "unknown NACE Rev. 2.1 code '99.99'"),
    (6, "-3", "negative employees (-3)"),
    (6, "many", "employees 'many' is not a whole number"),
    (7, "-10", "negative revenue (-10)"),
    (7, "lots", "revenue 'lots' is not a number"),
    (8, "12345", "malformed D-U-N-S '12345' (9 digits expected)"),
    (9, "123", "malformed VAT id '123'"),
    (10, "not a website", "malformed website 'not a website'"),
    (11, "a b", "malformed source 'a b' (up to 40 of a-z 0-9 _ . -)"),
]


@pytest.mark.parametrize(("column", "value", "reason"), BAD)
def test_bad_field_gives_its_reason(column: int, value: str, reason: str) -> None:
    row = [*GOOD]
    row[column] = value
    assert validator()(row) == reason


def test_wrong_number_of_fields() -> None:
    assert validator()([*GOOD, "extra"]) == "expected 12 fields, found 13"


def test_revenue_needs_a_currency() -> None:
    header = ["name", "country", "revenue", "currency"]
    check = validator(header)
    assert check(["A", "DE", "10", ""]) == "revenue without currency"
    assert check(["A", "DE", "10", "XYZ"]) == "unknown currency 'XYZ' (ISO 4217 expected)"
    rec = check(["A", "DE", "10.5", "chf"])
    assert isinstance(rec, CompanyRecord) and rec.currency == "CHF"


@pytest.mark.parametrize(
    ("employees", "expected"),
    [
        (0, "micro"),
        (9, "micro"),
        (10, "small"),
        (49, "small"),
        (50, "medium"),
        (249, "medium"),
        (250, "large"),
    ],
)
def test_eu_size_class(employees: int, expected: str) -> None:
    assert size_class(employees) == expected


def test_identity_keys() -> None:
    assert name_key("ACME GmbH & Co. KG") == name_key("Acme") == "acme"
    assert name_key("Müller-Lüdenscheidt Straße AG") == "muller ludenscheidt strasse"
    assert match_key("Acme GmbH", "80 331", "DE") == "DE|80331|acme"
    assert match_key("Acme GmbH", None, "DE") is None
    assert domain_of("http://user@WWW.Acme.de:8080/x?y") == "acme.de"
    assert domain_of("www.bücher.de") == "xn--bcher-kva.de"
    assert domain_of("localhost") is None
    assert clean_vat("fr 12-345.678.901") == "FR12345678901"


def test_stream_keeps_records_whole_across_chunks() -> None:
    data = b'name;country\n"ACME\nSouth";DE\nBeta;FR\n"Gam""ma";IT\n'
    stream = CsvStream()
    records = []
    for i in range(0, len(data), 3):  # three bytes at a time
        records += stream.feed(data[i : i + 3])
    records += stream.close()
    assert stream.delimiter == ";"
    assert [(r.line, r.fields) for r in records] == [
        (1, ["name", "country"]),
        (2, ["ACME\nSouth", "DE"]),
        (4, ["Beta", "FR"]),
        (5, ['Gam"ma', "IT"]),
    ]


def test_stream_reports_bytes_that_are_not_utf8() -> None:
    stream = CsvStream()
    records = stream.feed("\ufeffname,country\nA,DE\n".encode() + b"B\xff,DE\nC,FR")
    records += stream.close()
    assert records[0].fields == ["name", "country"]  # the byte order mark is dropped
    assert [(r.line, r.fields, r.error) for r in records[1:]] == [
        (2, ["A", "DE"], None),
        (3, None, "bytes that are not utf-8"),
        (4, ["C", "FR"], None),
    ]


def test_stream_in_another_charset() -> None:
    stream = CsvStream("windows-1252")
    records = stream.feed("name,country\nMüller,DE\n".encode("windows-1252")) + stream.close()
    assert records[1].fields == ["Müller", "DE"]


def test_a_big_chunk_is_split_into_whole_records_with_their_lines() -> None:
    text = 'a,b\n"x\ny",c\n' * 50 + "last"
    parts = list(split_chunk(TextChunk(text, 2), 25))
    assert "".join(p.text for p in parts) == text and len(parts) > 10
    assert all(len(p.text) <= 25 for p in parts)
    stream = CsvStream()
    records = [r for p in parts for r in stream.parse(p)]
    assert [r.line for r in records[:4]] == [2, 3, 5, 6]
    assert records[1].fields == ["x\ny", "c"] and records[-1] == Record(152, ["last"])


def test_sniff_delimiter() -> None:
    assert sniff_delimiter("a;b;c") == ";"
    assert sniff_delimiter("a\tb") == "\t"
    assert sniff_delimiter('"x;y",b,c') == ","
    assert sniff_delimiter("name") == ","
