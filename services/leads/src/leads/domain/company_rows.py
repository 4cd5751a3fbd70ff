"""CSV company rows: header mapping (vendor column names) and validation of one row.

Header names are compared after normalisation: lower case, accents dropped, every run of other
characters than letters and digits turned into one ``_`` (``"D-U-N-S Number"`` → ``d_u_n_s_number``,
``"Umsatz (EUR)"`` → ``umsatz_eur``). ``ALIASES`` below is the documented mapping; a revenue column
whose name ends in an ISO 4217 code (``revenue_eur``, ``Sales (USD)``) implies that currency for
rows without a currency column. Columns that map to nothing are ignored and reported.

A row is rejected with one reason (the first problem found); the reasons are stable sentences.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from leads.domain.companies import (
    clean_duns,
    clean_region,
    clean_vat,
    domain_of,
    match_key,
    postal_code_ok,
    size_class_code,
)
from leads.domain.nace import NaceTable, canonical_revision

FIELDS = (
    "name",
    "country",
    "region",
    "postal_code",
    "city",
    "nace",
    "nace_revision",
    "employees",
    "revenue",
    "currency",
    "duns",
    "vat_id",
    "website",
    "source",
)

_ALIAS_LISTS: dict[str, tuple[str, ...]] = {
    "name": [
        "name",
        "company",
        "company_name",
        "business_name",
        "legal_name",
        "trading_name",
        "account_name",
        "organisation",
        "organization",
        "organisation_name",
        "organization_name",
        "firm",
        "firma",
        "firmenname",
        "unternehmen",
        "primary_name",
        "raison_sociale",
    ],
    "country": [
        "country",
        "country_code",
        "countrycode",
        "country_iso",
        "country_iso_code",
        "iso_country",
        "iso_code",
        "country_iso2",
        "iso2",
        "land",
        "laendercode",
        "pays",
    ],
    "region": [
        "region",
        "region_code",
        "nuts",
        "nuts_code",
        "nuts_region",
        "nuts_1",
        "nuts_2",
        "nuts_3",
        "nuts1",
        "nuts2",
        "nuts3",
    ],
    "postal_code": [
        "postal_code",
        "postalcode",
        "postcode",
        "post_code",
        "zip",
        "zip_code",
        "zipcode",
        "plz",
        "postleitzahl",
        "code_postal",
        "cap",
    ],
    "city": ["city", "town", "locality", "ort", "stadt", "ville", "place"],
    "nace": [
        "nace",
        "nace_code",
        "nacecode",
        "nace_rev_2",
        "nace_rev2",
        "nace2",
        "nace_2",
        "nace_rev_2_1",
        "nace_rev21",
        "nace_2_1",
        "nace21",
        "primary_nace",
        "nace_primary",
        "nace_primary_code",
        "nace_rev_2_primary_code",
        "nace_rev_2_code",
        "industry_code",
        "branche_nace",
    ],
    "nace_revision": ["nace_revision", "nace_rev", "nace_version", "revision"],
    "employees": [
        "employees",
        "employee_count",
        "employees_total",
        "total_employees",
        "number_of_employees",
        "num_employees",
        "no_of_employees",
        "staff",
        "staff_count",
        "headcount",
        "mitarbeiter",
        "anzahl_mitarbeiter",
        "beschaeftigte",
        "effectif",
    ],
    "revenue": [
        "revenue",
        "annual_revenue",
        "revenue_amount",
        "sales",
        "annual_sales",
        "sales_volume",
        "turnover",
        "annual_turnover",
        "umsatz",
        "jahresumsatz",
        "chiffre_d_affaires",
    ],
    "currency": [
        "currency",
        "currency_code",
        "revenue_currency",
        "sales_currency",
        "turnover_currency",
        "waehrung",
        "devise",
    ],
    "duns": [
        "duns",
        "duns_number",
        "duns_no",
        "dunsnumber",
        "d_u_n_s",
        "d_u_n_s_number",
        "duns_nr",
    ],
    "vat_id": [
        "vat_id",
        "vat",
        "vat_number",
        "vat_no",
        "vatin",
        "vat_registration_number",
        "vat_reg_no",
        "ust_id",
        "ustid",
        "ust_idnr",
        "ustidnr",
        "umsatzsteuer_id",
        "tva",
        "numero_tva",
    ],
    "website": [
        "website",
        "web_site",
        "url",
        "homepage",
        "web",
        "web_address",
        "www",
        "domain",
        "internet",
    ],
    "source": ["source", "list_source", "data_source", "origin", "vendor", "quelle"],
}
ALIASES: dict[str, str] = {a: f for f, names in _ALIAS_LISTS.items() for a in names}
_REVENUE_ALIASES = frozenset(_ALIAS_LISTS["revenue"])
_HEADER_JUNK = re.compile(r"[^0-9a-z]+")


def normalize_header(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("ß", "ss")
    return _HEADER_JUNK.sub("_", text).strip("_")


class HeaderError(ValueError):
    """The header does not describe a company list: the file is refused whole."""


@dataclass(frozen=True)
class HeaderMap:
    index: dict[str, int]
    width: int
    implied_currency: str | None = None
    ignored: tuple[str, ...] = ()


def map_header(header: list[str], currencies: frozenset[str]) -> HeaderMap:
    index: dict[str, int] = {}
    ignored: list[str] = []
    implied: str | None = None
    for pos, raw in enumerate(header):
        key = normalize_header(raw)
        field_ = ALIASES.get(key)
        if field_ is None:
            head, _, suffix = key.rpartition("_")
            if head in _REVENUE_ALIASES and suffix.upper() in currencies:
                field_, implied = "revenue", suffix.upper()
        if field_ is None:
            ignored.append(raw)
            continue
        if field_ in index:
            raise HeaderError(f"columns {header[index[field_]]!r} and {raw!r} both mean {field_!r}")
        index[field_] = pos
    missing = [f for f in ("name", "country") if f not in index]
    if missing:
        raise HeaderError(
            "not a company list: no column for " + " and ".join(missing) + f" in {header[:20]!r}"
        )
    return HeaderMap(
        index=index, width=len(header), implied_currency=implied, ignored=tuple(ignored)
    )


class CompanyRecord(NamedTuple):
    """A valid row, ready to be stored."""

    name: str
    country: str
    region: str | None
    postal_code: str | None
    city: str | None
    nace: str | None
    nace_rev: str | None
    nace_section: str | None
    employees: int | None
    size_class: str | None
    revenue: Decimal | None
    currency: str | None
    duns: str | None
    vat_id: str | None
    website: str | None
    domain: str | None
    source: str
    match_key: str | None


MAX_LEN = {"name": 300, "postal_code": 20, "city": 200, "website": 300}
MAX_EMPLOYEES = 10_000_000
MAX_REVENUE = Decimal("1e14")
_FOUR_PLACES = Decimal("0.0001")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


class RowValidator:
    """``validator(row)`` → a ``CompanyRecord`` or the reason the row is rejected."""

    def __init__(
        self,
        header: HeaderMap,
        nace: dict[str, NaceTable],
        countries: frozenset[str],
        currencies: frozenset[str],
        default_revision: str = "2.1",
        default_source: str = "import",
    ) -> None:
        self.header = header
        self.nace = nace
        self.countries = countries
        self.currencies = currencies
        self.default_revision = default_revision
        self.default_source = default_source
        self._cols = tuple(header.index.get(f) for f in FIELDS)

    def __call__(self, row: list[str]) -> CompanyRecord | str:
        # Hot path of 1M-row imports: plain index access, one branch per optional column.
        if len(row) != self.header.width:
            return f"expected {self.header.width} fields, found {len(row)}"
        (
            i_name,
            i_country,
            i_region,
            i_postal,
            i_city,
            i_nace,
            i_rev,
            i_employees,
            i_revenue,
            i_currency,
            i_duns,
            i_vat,
            i_website,
            i_source,
        ) = self._cols

        name = row[i_name].strip()
        if not name:
            return "missing name"
        if len(name) > MAX_LEN["name"]:
            return f"name longer than {MAX_LEN['name']} characters"

        country = row[i_country].strip().upper()
        if not country:
            return "missing country"
        if country not in self.countries:
            return f"unknown country {country!r} (ISO 3166-1 alpha-2 expected)"

        region = None
        if i_region is not None and (raw := row[i_region].strip()):
            region = clean_region(raw, country)
            if region is None:
                return f"region {raw!r} is not a NUTS code of {country}"

        postal_code = (row[i_postal].strip() or None) if i_postal is not None else None
        if postal_code:
            if len(postal_code) > MAX_LEN["postal_code"]:
                return "postal code longer than 20 characters"
            if not postal_code_ok(postal_code):
                return f"malformed postal code {postal_code!r} (letters, digits, spaces, hyphens)"
        city = (row[i_city].strip() or None) if i_city is not None else None
        if city and len(city) > MAX_LEN["city"]:
            return "city longer than 200 characters"

        nace = nace_rev = nace_section = None
        if i_nace is not None and (raw := row[i_nace].strip()):
            nace_rev = self.default_revision
            if i_rev is not None and (rev_raw := row[i_rev].strip()):
                nace_rev = canonical_revision(rev_raw)
                if nace_rev is None:
                    return f"unknown NACE revision {rev_raw!r} (2 or 2.1)"
            found = self.nace[nace_rev].get(raw)
            if found is None:
                return f"unknown NACE Rev. {nace_rev} code {raw!r}"
            nace, nace_section = found.code, found.section

        employees = size = None
        if i_employees is not None and (raw := row[i_employees].strip()):
            try:
                employees = int(raw)
            except ValueError:
                return f"employees {raw!r} is not a whole number"
            if employees < 0:
                return f"negative employees ({employees})"
            if employees > MAX_EMPLOYEES:
                return f"employees {employees} is implausible"
            size = size_class_code(employees)

        revenue = currency = None
        if i_revenue is not None and (raw := row[i_revenue].strip()):
            revenue = _decimal(raw)
            if revenue is None:
                return f"revenue {raw!r} is not a number"
            if revenue < 0:
                return f"negative revenue ({raw})"
            if revenue >= MAX_REVENUE:
                return f"revenue {raw} is implausible"
            revenue = revenue.quantize(_FOUR_PLACES)
            currency = (
                row[i_currency].strip().upper() if i_currency is not None else ""
            ) or self.header.implied_currency
            if not currency:
                return "revenue without currency"
            if currency not in self.currencies:
                return f"unknown currency {currency!r} (ISO 4217 expected)"

        duns = None
        if i_duns is not None and (raw := row[i_duns].strip()):
            duns = clean_duns(raw)
            if duns is None:
                return f"malformed D-U-N-S {raw!r} (9 digits expected)"
        vat_id = None
        if i_vat is not None and (raw := row[i_vat].strip()):
            vat_id = clean_vat(raw)
            if vat_id is None:
                return f"malformed VAT id {raw!r}"
        website = domain = None
        if i_website is not None and (raw := row[i_website].strip()):
            if len(raw) > MAX_LEN["website"]:
                return "website longer than 300 characters"
            domain = domain_of(raw)
            if domain is None:
                return f"malformed website {raw!r}"
            website = raw
        source = self.default_source
        if i_source is not None and (raw := row[i_source].strip()):
            source = clean_source(raw)
            if source is None:
                return f"malformed source {raw!r} (up to 40 of a-z 0-9 _ . -)"
        return CompanyRecord(
            name,
            country,
            region,
            postal_code,
            city,
            nace,
            nace_rev,
            nace_section,
            employees,
            size,
            revenue,
            currency,
            duns,
            vat_id,
            website,
            domain,
            source,
            match_key(name, postal_code, country),
        )


def clean_source(raw: str) -> str | None:
    """A list's source in lower case (``DnB`` → ``dnb``); None if malformed."""
    source = raw.lower()
    return source if _SOURCE.match(source) else None


def _decimal(text: str) -> Decimal | None:
    text = text.replace(" ", "").replace("_", "")
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")  # a decimal comma
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
