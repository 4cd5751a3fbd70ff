"""Firmographic rules: EU size class, identifiers, and the keys that recognise a known company."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from salesflow.contracts.events.common import SizeClass


class CompanyStatus(StrEnum):
    """Funnel stage of a company in the universe."""

    SUSPECT = "suspect"  # imported, not yet in a segment
    PROSPECT = "prospect"  # matched a materialized segment
    LEAD = "lead"  # showed defined interest
    CUSTOMER = "customer"  # known from account.onboarded


def size_class(employees: int | None) -> SizeClass | None:
    """EU size class by staff headcount (Recommendation 2003/361/EC, art. 2): micro < 10,
    small < 50, medium < 250, large otherwise."""
    if employees is None:
        return None
    return SizeClass(size_class_code(employees))


def size_class_code(employees: int) -> str:
    """``size_class`` as its plain string value (the hot path of imports)."""
    if employees < 10:
        return "micro"
    if employees < 50:
        return "small"
    if employees < 250:
        return "medium"
    return "large"


def employee_bounds(cls: SizeClass) -> tuple[int, int | None]:
    """Inclusive lower and exclusive upper headcount of a size class."""
    return {
        SizeClass.MICRO: (0, 10),
        SizeClass.SMALL: (10, 50),
        SizeClass.MEDIUM: (50, 250),
        SizeClass.LARGE: (250, None),
    }[cls]


_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Legal-form tokens (and the conjunctions of "& Co.") dropped from names before matching, so that "ACME GmbH" and "Acme" at the same
# postal code are one company. Lower case, punctuation already removed ("s.a." → "s a").
LEGAL_FORMS = frozenset(
    [
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "eg",
        "ev",
        "se",
        "kgaa",
        "co",
        "ltd",
        "limited",
        "plc",
        "llp",
        "llc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "company",
        "sa",
        "sas",
        "sarl",
        "sasu",
        "eurl",
        "snc",
        "sca",
        "spa",
        "srl",
        "sapa",
        "sc",
        "scs",
        "bv",
        "nv",
        "vof",
        "cv",
        "ab",
        "oy",
        "oyj",
        "as",
        "asa",
        "aps",
        "a",
        "s",
        "kft",
        "zrt",
        "nyrt",
        "sro",
        "spol",
        "zoo",
        "sp",
        "ad",
        "ood",
        "eood",
        "doo",
        "dd",
    ]
)


def name_key(name: str) -> str:
    """A company name reduced for matching: case, accents, punctuation and legal form ignored."""
    text = name.casefold()
    if text.isascii():
        text = text.translate(_ASCII_WORDS)
    else:
        text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = _NON_ALNUM.sub(" ", text)
    words = text.split()
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


# ASCII punctuation → space; the fast path of name_key
_ASCII_WORDS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def postal_key(postal_code: str) -> str:
    return postal_code.replace(" ", "").replace("-", "").upper()


# letters and digits, inner spaces and hyphens ("SW1A 1AA", "00-950", "D02 X285", "LV-1010");
# the pattern is shared with the columnar import
POSTAL_FORMAT = r"^[0-9A-Za-z](?:[0-9A-Za-z -]{0,18}[0-9A-Za-z])?$"
_POSTAL = re.compile(POSTAL_FORMAT)


def postal_code_ok(postal_code: str) -> bool:
    """Has ``postal_code`` (stripped) the shape of a postal code, up to 20 characters?"""
    return _POSTAL.fullmatch(postal_code) is not None


def match_key(name: str, postal_code: str | None, country: str) -> str | None:
    """Normalized name + postal code + country; None without a postal code (name and country
    alone are too weak to merge two companies)."""
    if not postal_code:
        return None
    return f"{country}|{postal_key(postal_code)}|{name_key(name)}"


def hint_key(name: str, country: str) -> str:
    """The key of a company created from a touchpoint's hint without a postal code: normalized
    name + country, so that its next touchpoints find it instead of creating it again. It cannot
    meet an imported company's key, which always holds a postal code."""
    return f"{country}||{name_key(name)}"


# host names of 4-253 characters; the patterns are shared with the columnar import
DOMAIN_LABELS = r"([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}"
DOMAIN_LENGTH = (4, 253)
HOST_OF_URL = r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#]*@)?(?:www\.)?([^/?#:]*)"
_DOMAIN = re.compile(rf"^(?=.{{{DOMAIN_LENGTH[0]},{DOMAIN_LENGTH[1]}}}$){DOMAIN_LABELS}$")
_HOST = re.compile(HOST_OF_URL)


def domain_of(website: str) -> str | None:
    """``"https://www.Acme.de/about"`` → ``"acme.de"``; None if it is no host name."""
    host = _HOST.match(website.strip().lower()).group(1).rstrip(".")  # type: ignore[union-attr]
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _DOMAIN.match(host) else None


def email_domain(email: str) -> str | None:
    _, at, host = email.strip().rpartition("@")
    return domain_of(host) if at else None


_DUNS = re.compile(r"^\d{9}$")


def clean_duns(raw: str) -> str | None:
    """D-U-N-S: nine digits, written with or without dashes and spaces; None if malformed."""
    if len(raw) == 9 and raw.isdigit() and raw.isascii():
        return raw  # the common case, written without dashes
    text = raw.replace("-", "").replace(" ", "").strip()
    return text if _DUNS.match(text) else None


VAT_FORMAT = r"^[A-Z]{2}[0-9A-Z+*]{2,13}$"
_VAT = re.compile(VAT_FORMAT)


def clean_vat(raw: str) -> str | None:
    """VAT id compacted (``"DE 123.456.789"`` → ``"DE123456789"``): a two-letter prefix and 2-13
    letters or digits. The format only; checksums are the tax authorities' business."""
    text = raw.upper().replace(" ", "").replace(".", "").replace("-", "").strip()
    return text if _VAT.match(text) else None


def nuts_country(country: str) -> str:
    """NUTS codes use EL for Greece and UK for the United Kingdom."""
    return {"GR": "EL", "GB": "UK"}.get(country, country)


_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")
_REGIONS: dict[tuple[str, str], str | None] = {}


def clean_region(raw: str, country: str) -> str | None:
    """A NUTS code (levels 0-3) of ``country``; None if it is none."""
    key = (raw, country)
    try:
        return _REGIONS[key]
    except KeyError:
        pass
    text = raw.strip().upper().replace(" ", "")
    result = text if _NUTS.match(text) and text[:2] == nuts_country(country) else None
    if len(_REGIONS) < 50_000:  # a file names a few thousand regions at most
        _REGIONS[key] = result
    return result
