"""Validation of a whole chunk of a CSV file at once: polars parses and checks the columns in
native code, so a big import no longer spends most of its time in Python per row.

``RowValidator`` stays the one definition of a valid company row. The columnar pass takes only
the rows whose every field has the plain form for which its result is the row validator's for
certain (names in ASCII, numbers of digits, identifiers already compact, ...) and hands every
other row to the row validator, which cleans, accepts or rejects it with its reason. Values that
repeat a lot (country, region, NACE code and revision, currency, source, headcount) go through
the domain's own functions once per distinct value of the chunk.

A chunk polars cannot read exactly as Python's ``csv`` module does (a record over several lines,
a ragged or oddly quoted line, a lone carriage return, bytes that were not text) goes to the
row parser whole.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

import polars as pl

from leads.domain.companies import (
    DOMAIN_LABELS,
    DOMAIN_LENGTH,
    HOST_OF_URL,
    LEGAL_FORMS,
    POSTAL_FORMAT,
    VAT_FORMAT,
    CompanyStatus,
    clean_region,
    size_class_code,
)
from leads.domain.company_rows import (
    MAX_EMPLOYEES,
    MAX_LEN,
    CompanyRecord,
    RowValidator,
    clean_source,
)
from leads.domain.nace import canonical_revision
from leads.importing.stream import CsvStream, Record, TextChunk
from leads.importing.writer import INSERT_COLUMNS, LINE, insert_row

RowOf = Callable[[CompanyRecord, int], tuple[Any, ...]]

# what str.strip() strips
_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
# fields cleaned per row (the others have few distinct values, cleaned once each)
_PER_ROW = (
    "name",
    "postal_code",
    "city",
    "employees",
    "revenue",
    "duns",
    "vat_id",
    "website",
)
_DIGITS_9 = r"^[0-9]{9}$"
_EMPLOYEES = r"^[0-9]{1,8}$"
# whole units below 10^14 with up to four decimals: exactly what the row validator stores
_REVENUE = r"^([0-9]{1,14})(?:\.([0-9]{0,4}))?$"
_LEGAL_WORD = " (?:" + "|".join(sorted(LEGAL_FORMS, key=len, reverse=True)) + ") "


class Validated(NamedTuple):
    rows: list[tuple[Any, ...]]  # valid rows (``insert_row``) in the order of their lines
    rejected: list[tuple[int, str]]  # line and reason
    records: int  # records that were not blank
    blank_lines: int


class ChunkValidator:
    """``validate(chunk, import_id, stamp)``: the records of a chunk validated, the valid ones
    as the writer stores them (``insert_row``)."""

    def __init__(self, validator: RowValidator, stream: CsvStream) -> None:
        self.validator = validator
        self.stream = stream
        self.header = validator.header
        self._names = [f"c{i}" for i in range(self.header.width)]
        self._schema = dict.fromkeys(self._names, pl.String)

    def validate(self, chunk: TextChunk, import_id: int, stamp: Any) -> Validated:
        def row_of(rec: CompanyRecord, line: int) -> tuple[Any, ...]:
            return insert_row(rec, import_id, line, stamp)

        frame = self._read(chunk)
        if frame is None:
            return self._by_rows(self.stream.parse(chunk), row_of)
        constants = {
            "import_id": import_id,
            "updated_at": stamp,
            "status": CompanyStatus.SUSPECT.value,
            "created_at": stamp,
        }
        return self._by_columns(frame, chunk.first_line, constants, row_of)

    # -- the row path -----------------------------------------------------------------------

    def _by_rows(self, records: Sequence[Record | _Fields], row_of: RowOf) -> Validated:
        rows: list[tuple[Any, ...]] = []
        rejected: list[tuple[int, str]] = []
        blank = 0
        for rec in records:
            if rec.fields is None:
                rejected.append((rec.line, rec.error or "malformed record"))
                continue
            if not any(rec.fields):
                blank += 1
                continue
            outcome = self.validator(rec.fields)
            if isinstance(outcome, str):
                rejected.append((rec.line, outcome))
            else:
                rows.append(row_of(outcome, rec.line))
        return Validated(rows, rejected, len(records) - blank, blank)

    # -- the columnar path ------------------------------------------------------------------

    def _read(self, chunk: TextChunk) -> pl.DataFrame | None:
        """The chunk as string columns, one row per physical line; None where polars might read
        it otherwise than ``csv`` (or not at all)."""
        text = chunk.text
        if "\x00" in text or "\ufffd" in text:
            return None
        if "\r" in text and text.count("\r") != text.count("\r\n"):
            return None
        if '"' in text and any(line.count('"') % 2 for line in text.split("\n")):
            return None  # a quoted field spans lines: line numbers need the row parser
        try:
            frame = pl.read_csv(
                text.encode(),
                has_header=False,
                separator=self.stream.delimiter or ",",
                quote_char='"',
                schema=self._schema,
                empty_string_is_null=False,
                raise_if_empty=False,
            )
        except (pl.exceptions.PolarsError, ValueError):
            return None  # ragged or oddly quoted lines
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        return frame if frame.height == lines else None

    def _by_columns(
        self, frame: pl.DataFrame, first_line: int, constants: dict[str, Any], row_of: RowOf
    ) -> Validated:
        lines = frame.height
        frame = frame.with_columns(
            import_line=pl.int_range(first_line, first_line + lines, dtype=pl.Int64)
        ).filter(~pl.all_horizontal([pl.col(n) == "" for n in self._names]))
        # first the cleaned text and the distinct-value lookups, then the gates and the
        # record's columns from them (each computed once)
        frame = frame.with_columns(**self._cleaned(frame))
        values, gates = self._record(frame)
        checked = frame.with_columns(**values, _ok=pl.all_horizontal(gates))
        good = checked.filter(pl.col("_ok")).select(
            [
                pl.lit(constants[c], dtype=pl.Object).alias(c) if c in constants else pl.col(c)
                for c in INSERT_COLUMNS
            ]
        )
        rows = good.rows()
        rest = checked.filter(~pl.col("_ok")).select([*self._names, "import_line"]).rows()
        if not rest:
            return Validated(rows, [], frame.height, lines - frame.height)
        fallback = self._by_rows([_Fields(r[-1], list(r[:-1])) for r in rest], row_of)
        merged = list(heapq.merge(rows, fallback.rows, key=itemgetter(LINE)))
        return Validated(merged, fallback.rejected, frame.height, lines - frame.height)

    def _col(self, field: str) -> pl.Expr | None:
        index = self.header.index.get(field)
        return None if index is None else pl.col(self._names[index])

    def _distinct(
        self, frame: pl.DataFrame, key: pl.Expr, clean: Callable[[Any], Any]
    ) -> dict[Any, Any]:
        """``clean`` of every distinct value of ``key`` in the chunk (once each)."""
        return {value: clean(value) for value in frame.select(key.unique()).to_series()}

    def _cleaned(self, frame: pl.DataFrame) -> dict[str, pl.Expr]:
        """Stripped text of the per-row fields (``_name`` …) and the lookups of the fields of
        few distinct values (``_country`` …: the value, "" for none, null if the row validator
        would reject it)."""
        v = self.validator
        out: dict[str, pl.Expr] = {}
        for field in _PER_ROW:
            raw = self._col(field)
            out[f"_{field}"] = pl.lit("", dtype=pl.String) if raw is None else _strip(raw)
        country_raw = self._col("country")
        assert country_raw is not None  # the header map ensures it
        countries = self._distinct(frame, country_raw, lambda raw: _country(raw, v.countries))
        out["_country"] = _mapped(country_raw, countries)
        region_raw = self._col("region")
        if region_raw is not None:
            key = pl.concat_str([region_raw, pl.lit("\x00"), country_raw])
            out["_region"] = _mapped(key, self._distinct(frame, key, self._region))
        nace_raw = self._col("nace")
        if nace_raw is not None:
            rev_raw = self._col("nace_revision")
            key = (
                pl.concat_str([nace_raw, pl.lit("\x00"), rev_raw])
                if rev_raw is not None
                else nace_raw
            )
            out["_nace"] = _mapped(key, self._distinct(frame, key, self._nace))
        if self._col("revenue") is not None:
            out["_currency"] = self._currency(frame)
        source_raw = self._col("source")
        if source_raw is not None:
            out["_source"] = _mapped(source_raw, self._distinct(frame, source_raw, self._source))
        return out

    def _record(self, frame: pl.DataFrame) -> tuple[dict[str, pl.Expr], list[pl.Expr]]:
        """The record's columns, and the gates a row must pass for the columnar pass to vouch
        for it."""
        v = self.validator
        c = pl.col
        name, country, postal = c("_name"), c("_country"), c("_postal_code")
        gates = [
            _ascii(name),  # name_key below knows ASCII only
            name != "",
            name.str.len_chars() <= MAX_LEN["name"],
            country.is_not_null(),
            _ascii(postal),
            postal.str.len_chars() <= MAX_LEN["postal_code"],
            (postal == "") | postal.str.contains(POSTAL_FORMAT),
            c("_city").str.len_chars() <= MAX_LEN["city"],
        ]
        values: dict[str, pl.Expr] = {
            "name": name,
            "country": country,
            "postal_code": _empty_as_none(postal),
            "city": _empty_as_none(c("_city")),
        }

        if "_region" in frame.columns:
            gates.append(c("_region").is_not_null())
            values["region"] = _empty_as_none(c("_region"))
        else:
            values["region"] = _none()

        if "_nace" in frame.columns:  # "code|revision|section"
            gates.append(c("_nace").is_not_null())
            parts = c("_nace").str.split_exact("|", 2)
            for i, column in enumerate(("nace", "nace_rev", "nace_section")):
                values[column] = _empty_as_none(parts.struct[i])
        else:
            values.update(nace=_none(), nace_rev=_none(), nace_section=_none())

        text = c("_employees")
        digits = text.str.contains(_EMPLOYEES)
        count = pl.when(digits).then(text).otherwise(None).cast(pl.Int64)
        gates.append((text == "") | (digits & (count <= MAX_EMPLOYEES)))
        values["employees"] = count
        values["size_class"] = _mapped(
            count, self._distinct(frame, count.drop_nulls(), size_class_code)
        )

        text = c("_revenue")
        if "_currency" in frame.columns:
            amount = text.str.extract_groups(_REVENUE)
            whole, fraction = amount.struct[0], amount.struct[1]
            scaled = whole.cast(pl.Int64) * 10_000 + fraction.fill_null("").str.pad_end(
                4, "0"
            ).cast(pl.Int64)
            gates.append((text == "") | (whole.is_not_null() & c("_currency").is_not_null()))
            values["revenue"] = pl.when(text == "").then(None).otherwise(scaled)
            values["revenue_currency"] = pl.when(text == "").then(None).otherwise(c("_currency"))
        else:
            values.update(revenue=_none(pl.Int64), revenue_currency=_none())

        # D-U-N-S and VAT id as they are once cleaned; others go to the row validator
        for field, pattern in (("duns", _DIGITS_9), ("vat_id", VAT_FORMAT)):
            text = c(f"_{field}")
            gates.append((text == "") | text.str.contains(pattern))
            values[field] = _empty_as_none(text)

        website = c("_website")
        host = website.str.to_lowercase().str.extract(HOST_OF_URL, 1).str.strip_chars_end(".")
        low, high = DOMAIN_LENGTH
        gates.append(
            (website == "")
            | (
                _ascii(website)
                & (website.str.len_chars() <= MAX_LEN["website"])
                & host.str.len_chars().is_between(low, high)
                & host.str.contains(f"^{DOMAIN_LABELS}$")
            )
        )
        values["website"] = _empty_as_none(website)
        values["domain"] = pl.when(website == "").then(None).otherwise(host)

        if "_source" in frame.columns:
            gates.append(c("_source").is_not_null())
            values["source"] = c("_source")
        else:
            values["source"] = pl.lit(v.default_source, dtype=pl.String)

        values["match_key"] = (
            pl.when(postal == "")
            .then(None)
            .otherwise(
                pl.concat_str(
                    [country, pl.lit("|"), _postal_key(postal), pl.lit("|"), _name_key(name)]
                )
            )
        )
        return values, gates

    def _currency(self, frame: pl.DataFrame) -> pl.Expr:
        implied = self.header.implied_currency
        currencies = self.validator.currencies
        raw = self._col("currency")
        if raw is None:
            return pl.lit(implied if implied in currencies else None, dtype=pl.String)

        def clean(value: str) -> str | None:
            code = value.strip().upper() or implied
            return code if code in currencies else None

        return _mapped(raw, self._distinct(frame, raw, clean))

    def _region(self, key: str) -> str | None:
        """``region\x00country`` → the NUTS code."""
        raw, _, country_raw = key.partition("\x00")
        text = raw.strip()
        country = _country(country_raw, self.validator.countries)
        if not text or country is None:
            return ""  # no region (or a bad country, rejected by its own gate)
        return clean_region(text, country)

    def _nace(self, key: str) -> str | None:
        """``code[\x00revision]`` → ``code|revision|section``."""
        raw_code, _, raw_rev = key.partition("\x00")
        raw = raw_code.strip()
        if not raw:
            return "||"
        revision: str | None = self.validator.default_revision
        if raw_rev.strip():
            revision = canonical_revision(raw_rev.strip())
        if revision is None:
            return None
        found = self.validator.nace[revision].get(raw)
        return None if found is None else f"{found.code}|{revision}|{found.section}"

    def _source(self, raw: str) -> str | None:
        text = raw.strip()
        return clean_source(text) if text else self.validator.default_source


class _Fields(NamedTuple):
    """A row for the row validator, shaped like a parsed ``Record``."""

    line: int
    fields: list[str]
    error: str | None = None


def _strip(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars(_WHITESPACE)


def _ascii(text: pl.Expr) -> pl.Expr:
    return text.str.len_bytes() == text.str.len_chars()


def _none(dtype: pl.DataType | type[pl.DataType] = pl.String) -> pl.Expr:
    return pl.lit(None, dtype=dtype)


def _empty_as_none(text: pl.Expr) -> pl.Expr:
    return pl.when(text == "").then(None).otherwise(text)


def _mapped(key: pl.Expr, mapping: dict[Any, Any]) -> pl.Expr:
    return key.replace_strict(
        list(mapping), list(mapping.values()), default=None, return_dtype=pl.String
    )


def _country(raw: str, countries: frozenset[str]) -> str | None:
    code = raw.strip().upper()
    return code if code in countries else None


def _postal_key(postal: pl.Expr) -> pl.Expr:
    """``postal_key`` of an ASCII postal code."""
    return (
        postal.str.replace_all(" ", "", literal=True)
        .str.replace_all("-", "", literal=True)
        .str.to_uppercase()
    )


def _name_key(name: pl.Expr) -> pl.Expr:
    """``name_key`` of an ASCII name: its words of letters and digits in lower case, without
    legal forms (unless nothing else is left). Each word stands between two spaces of its own,
    so that one pass removes neighbouring legal forms."""
    spaced = pl.concat_str(
        [pl.lit(" "), name.str.to_lowercase().str.replace_all("[^0-9a-z]+", "  "), pl.lit(" ")]
    )
    kept = _single_spaced(spaced.str.replace_all(_LEGAL_WORD, ""))
    return pl.when(kept != "").then(kept).otherwise(_single_spaced(spaced))


def _single_spaced(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(" +", " ").str.strip_chars(" ")
