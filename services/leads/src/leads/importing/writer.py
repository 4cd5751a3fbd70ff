"""Writes validated company rows in bulk: one transaction per batch, dedupe by D-U-N-S, VAT id or
normalized name + postal code + country against the database, ``executemany`` with positional
parameters straight to the driver (the ORM would cost more per row than SQLite itself).

A row matching a company written earlier by the same import is a duplicate inside the file; a
row matching two different companies by two keys is a conflict. Both are rejected with reasons.

On SQLite every statement is multi-row (``INSERT … VALUES (…), (…)``, ``UPDATE … FROM (VALUES
…)``, lookups aggregated to one JSON row): ``executemany`` would step once per row, releasing and
re-taking the GIL each time, and stall behind the request thread that parses the next batch.

Looking keys up costs as much as inserting, so when the universe was empty at the start, rows
whose keys a Bloom filter of this import's keys has surely not seen are inserted unchecked; the
unique constraints still guard them (a concurrent writer ⇒ IntegrityError ⇒ the batch is redone
with every key looked up).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from leads.domain.companies import CompanyStatus
from leads.domain.company_rows import CompanyRecord
from leads.tables import CompanyRow
from salesflow.db import Database

KEY_LABELS = {"duns": "D-U-N-S", "vat_id": "VAT id", "match_key": "name, postal code and country"}
_INSERT_COLUMNS = (
    "name",
    "country",
    "region",
    "postal_code",
    "city",
    "nace",
    "nace_rev",
    "nace_section",
    "employees",
    "size_class",
    "revenue",
    "revenue_currency",
    "duns",
    "vat_id",
    "website",
    "domain",
    "source",
    "match_key",
    "import_id",
    "import_line",
    "updated_at",
    "status",
    "created_at",
)
# SQLite allows 32,766 parameters per statement: 1,000 rows of 23 columns stay below.
_ROWS_PER_STATEMENT = 1000
# Updates overwrite with what the row has and keep what it leaves empty.
_KEEP_IF_EMPTY = frozenset(_INSERT_COLUMNS[2:16]) | {"match_key"}


@dataclass
class BatchResult:
    accepted: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Known:
    id: int
    import_id: int | None
    import_line: int | None


class KeyFilter:
    """Bloom filter (2 probes) over the keys this import wrote: "no" is certain, "yes" may not
    be. 2^27 bits (16 MiB) keep false positives near 0.2 % for 1 million rows."""

    def __init__(self, bits_log2: int = 27) -> None:
        self._mask = (1 << bits_log2) - 1
        self._bits = bytearray(1 << (bits_log2 - 3))

    def add(self, key: tuple[str, str]) -> None:
        h = hash(key)
        for i in (h & self._mask, (h >> 32) & self._mask):
            self._bits[i >> 3] |= 1 << (i & 7)

    def __contains__(self, key: tuple[str, str]) -> bool:
        h = hash(key)
        i, j = h & self._mask, (h >> 32) & self._mask
        return bool(self._bits[i >> 3] & (1 << (i & 7))) and bool(
            self._bits[j >> 3] & (1 << (j & 7))
        )


class CompanyWriter:
    def __init__(self, db: Database, import_id: int) -> None:
        self.db = db
        self.import_id = import_id
        self.check_all = True  # until start() finds the universe empty
        self.seen = KeyFilter()
        dialect = db.engine.dialect
        self._qmark = dialect.paramstyle == "qmark"
        self._insert_sql = self._insert_statement()
        self._update_sql = self._update_statement()
        self._multi_insert = self._insert_statement(_ROWS_PER_STATEMENT) if self._qmark else ""
        self._created_at = CompanyRow.__table__.c.created_at.type.bind_processor(dialect)

    async def start(self) -> None:
        async with self.db.session() as session:
            found = await session.execute(text("SELECT 1 FROM leads_companies LIMIT 1"))
            self.check_all = found.first() is not None

    def _p(self, i: int) -> str:
        return "?" if self._qmark else f"${i}"

    def _insert_statement(self, rows: int = 1) -> str:
        width = len(_INSERT_COLUMNS)
        groups = ", ".join(
            "(" + ", ".join(self._p(r * width + i + 1) for i in range(width)) + ")"
            for r in range(rows)
        )
        return f"INSERT INTO leads_companies ({', '.join(_INSERT_COLUMNS)}) VALUES {groups}"

    def _update_statement(self) -> str:
        sets = []
        for i, col in enumerate(_INSERT_COLUMNS[:-2]):
            mark = self._p(i + 1)
            sets.append(
                f"{col} = COALESCE({mark}, {col})" if col in _KEEP_IF_EMPTY else f"{col} = {mark}"
            )
        id_mark = self._p(len(_INSERT_COLUMNS) - 1)
        return f"UPDATE leads_companies SET {', '.join(sets)} WHERE id = {id_mark}"

    def _update_from_values(self, rows: int) -> str:
        """SQLite: one UPDATE for many rows; the VALUES columns are column1 … columnN."""
        width = len(_INSERT_COLUMNS) - 1  # the set columns and the id
        sets = []
        for i, col in enumerate(_INSERT_COLUMNS[:-2]):
            value = f"v.column{i + 1}"
            sets.append(
                f"{col} = COALESCE({value}, leads_companies.{col})"
                if col in _KEEP_IF_EMPTY
                else f"{col} = {value}"
            )
        groups = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * rows)
        return (
            f"UPDATE leads_companies SET {', '.join(sets)} FROM (VALUES {groups}) AS v "
            f"WHERE leads_companies.id = v.column{width}"
        )

    async def _insert(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        if not self._qmark:
            await conn.exec_driver_sql(self._insert_sql, rows)
            return
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[start : start + _ROWS_PER_STATEMENT]
            sql = self._multi_insert if len(part) == _ROWS_PER_STATEMENT else None
            await conn.exec_driver_sql(
                sql or self._insert_statement(len(part)), tuple(v for row in part for v in row)
            )

    async def _update(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        if not self._qmark:
            await conn.exec_driver_sql(self._update_sql, rows)
            return
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[start : start + _ROWS_PER_STATEMENT]
            await conn.exec_driver_sql(
                self._update_from_values(len(part)), tuple(v for row in part for v in row)
            )

    async def write(self, batch: Sequence[tuple[int, CompanyRecord]], now: datetime) -> BatchResult:
        for attempt in range(3):
            try:
                async with self.db.session() as session, session.begin():
                    conn = await session.connection()
                    if self.db.sqlite:  # the indexes of a big universe should stay in memory
                        await conn.exec_driver_sql("PRAGMA cache_size=-65536")
                    result, written = await self._write(conn, batch, now)
            except IntegrityError:
                # someone else wrote one of our keys meanwhile: redo, looking every key up
                self.check_all = True
                if attempt == 2:
                    raise
                continue
            for keys in written:
                for key in keys:
                    self.seen.add(key)
            return result
        raise AssertionError("unreachable")

    async def _write(
        self, conn: AsyncConnection, batch: Sequence[tuple[int, CompanyRecord]], now: datetime
    ) -> tuple[BatchResult, list[list[tuple[str, str]]]]:
        result = BatchResult()
        unchecked: list[tuple[int, CompanyRecord, list[tuple[str, str]]]] = []
        checked: list[tuple[int, CompanyRecord, list[tuple[str, str]]]] = []
        in_batch: dict[tuple[str, str], int] = {}
        seen, check_all = self.seen, self.check_all
        for line, rec in batch:
            keys = _keys(rec)
            dup = next(((k, in_batch[k]) for k in keys if k in in_batch), None)
            if dup is not None:
                result.rejected.append((line, _duplicate(dup[1], dup[0][0])))
                continue
            for k in keys:
                in_batch[k] = line
            if check_all or any(k in seen for k in keys):
                checked.append((line, rec, keys))
            else:
                unchecked.append((line, rec, keys))
        known = await self._known(conn, checked)
        stamp = self._created_at(now) if self._created_at else now
        import_id = self.import_id
        inserts = [
            (*_values(rec, import_id, line, stamp), "suspect", stamp) for line, rec, _ in unchecked
        ]
        updates: list[tuple[Any, ...]] = []
        written = [keys for _, _, keys in unchecked]
        for line, rec, keys in checked:
            matches = {k[0]: known[k] for k in keys if k in known}
            ids = {m.id for m in matches.values()}
            if not ids:
                inserts.append((*_values(rec, import_id, line, stamp), "suspect", stamp))
            elif len(ids) > 1:
                result.rejected.append((line, _conflict(matches)))
                continue
            else:
                key, match = next(iter(matches.items()))
                if match.import_id == import_id:
                    result.rejected.append((line, _duplicate(match.import_line, key)))
                    continue
                updates.append((*_values(rec, import_id, line, stamp), match.id))
            written.append(keys)
        if inserts:
            await self._insert(conn, inserts)
        if updates:
            await self._update(conn, updates)
        result.accepted, result.updated = len(inserts), len(updates)
        return result, written

    async def _known(
        self,
        conn: AsyncConnection,
        rows: Sequence[tuple[int, CompanyRecord, list[tuple[str, str]]]],
    ) -> dict[tuple[str, str], _Known]:
        found: dict[tuple[str, str], _Known] = {}
        if not rows:
            return found
        for name in KEY_LABELS:
            values = list({k[1] for _, _, keys in rows for k in keys if k[0] == name})
            for start in range(0, len(values), 5000):
                part = values[start : start + 5000]
                marks = ", ".join(self._p(i + 1) for i in range(len(part)))
                where = f"FROM leads_companies WHERE {name} IN ({marks})"
                if self._qmark:  # one row back, not one step (and GIL hand-over) per match
                    sql = f"SELECT json_group_array(json_array({name}, id, import_id, import_line)) {where}"
                    result = await conn.exec_driver_sql(sql, tuple(part))
                    matches = json.loads(result.scalar_one() or "[]")
                else:
                    sql = f"SELECT {name}, id, import_id, import_line {where}"
                    matches = (await conn.exec_driver_sql(sql, tuple(part))).all()
                for value, id_, import_id, import_line in matches:
                    found[(name, value)] = _Known(id_, import_id, import_line)
        return found


def _keys(rec: CompanyRecord) -> list[tuple[str, str]]:
    keys = []
    if rec.duns:
        keys.append(("duns", rec.duns))
    if rec.vat_id:
        keys.append(("vat_id", rec.vat_id))
    if rec.match_key:
        keys.append(("match_key", rec.match_key))
    return keys


def _values(rec: CompanyRecord, import_id: int, line: int, stamp: Any) -> tuple[Any, ...]:
    return (
        rec.name,
        rec.country,
        rec.region,
        rec.postal_code,
        rec.city,
        rec.nace,
        rec.nace_rev,
        rec.nace_section,
        rec.employees,
        rec.size_class,
        None if rec.revenue is None else int(rec.revenue.scaleb(4)),
        rec.currency,
        rec.duns,
        rec.vat_id,
        rec.website,
        rec.domain,
        rec.source,
        rec.match_key,
        import_id,
        line,
        stamp,
    )


def _duplicate(line: int | None, key: str) -> str:
    return f"duplicate of line {line} in this file (same {KEY_LABELS[key]})"


def _conflict(matches: dict[str, _Known]) -> str:
    parts = [f"company {m.id} by {KEY_LABELS[k]}" for k, m in matches.items()]
    return "matches different known companies: " + " and ".join(parts)


__all__ = ["BatchResult", "CompanyStatus", "CompanyWriter"]
