"""Writes validated company rows in bulk: one transaction per batch, dedupe by D-U-N-S, VAT id or
normalized name + postal code + country against the database, positional parameters straight to
the driver (the ORM would cost more per row than SQLite itself).

Rows are inserted first with ``ON CONFLICT DO NOTHING``: the unique keys (D-U-N-S, VAT id, match
key) find known companies in the same B-tree descent that inserts a new one, so a new company
costs no lookup. Only the rows the database skipped are looked up, and become updates (a known
company), duplicates (a company written earlier by the same import: a duplicate inside the file)
or conflicts (keys of two different companies). Rows repeating a key inside one batch are found
in memory before that.

On SQLite every statement is multi-row (``INSERT … VALUES (…), (…)``, ``UPDATE … FROM (VALUES
…)``, lookups aggregated to one JSON row): ``executemany`` would step once per row, releasing and
re-taking the GIL each time, and stall behind the request thread that parses the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, NamedTuple, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from leads.app.universe_events import emit_imported
from leads.domain.companies import CompanyStatus
from leads.domain.company_rows import CompanyRecord
from leads.tables import CompanyRow
from salesflow.db import Database
from salesflow.settings import ServiceSettings

_T = TypeVar("_T")
KEY_LABELS = {"duns": "D-U-N-S", "vat_id": "VAT id", "match_key": "name, postal code and country"}
INSERT_COLUMNS = (
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
# where a row (a tuple in the order of INSERT_COLUMNS) keeps its line and the keys
LINE = INSERT_COLUMNS.index("import_line")
_KEY_NAMES = ("duns", "vat_id", "match_key")
KEY_COLUMNS = tuple((name, INSERT_COLUMNS.index(name)) for name in _KEY_NAMES)
# an update sets every column up to updated_at: the company's fields, then the bookkeeping
_UPDATED = INSERT_COLUMNS.index("updated_at") + 1
_RECORD = INSERT_COLUMNS.index("import_id")
_DUNS, _VAT, _MATCH_KEY = (INSERT_COLUMNS.index(name) for name in _KEY_NAMES)
# SQLite allows 32,766 parameters per statement: 1,000 rows of 23 columns stay below.
_ROWS_PER_STATEMENT = 1000
# Updates overwrite with what the row has and keep what it leaves empty.
_KEEP_IF_EMPTY = frozenset(INSERT_COLUMNS[2:16]) | {"match_key"}


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


class CompanyWriter:
    """Writes the batches of one import; each committed batch is one chunk and stages one
    ``companies.imported`` (the companies it added, counted per cell) in its transaction."""

    def __init__(
        self, db: Database, import_id: int, settings: ServiceSettings, correlation_id: str
    ) -> None:
        self.db = db
        self.import_id = import_id
        self.settings = settings
        self.correlation_id = correlation_id
        self.chunks = 0  # committed so far
        # rows without any key, by the hash of their values → first line: no unique index finds
        # a repeat of such a row, so the import remembers them (only them: keyed rows are
        # found by the database)
        self._keyless: dict[int, int] = {}
        dialect = db.engine.dialect
        self._qmark = dialect.paramstyle == "qmark"
        self._insert_sql = self._insert_statement()
        self._update_sql = self._update_statement()
        self._multi_insert = self._insert_statement(_ROWS_PER_STATEMENT) if self._qmark else ""
        self._created_at = CompanyRow.__table__.c.created_at.type.bind_processor(dialect)

    def _p(self, i: int) -> str:
        return "?" if self._qmark else f"${i}"

    def _insert_statement(self, rows: int = 1) -> str:
        width = len(INSERT_COLUMNS)
        groups = ", ".join(
            "(" + ", ".join(self._p(r * width + i + 1) for i in range(width)) + ")"
            for r in range(rows)
        )
        return (
            f"INSERT INTO leads_companies ({', '.join(INSERT_COLUMNS)}) VALUES {groups} "
            "ON CONFLICT DO NOTHING"
        )

    def _update_statement(self) -> str:
        sets = []
        for i, col in enumerate(INSERT_COLUMNS[:-2]):
            mark = self._p(i + 1)
            sets.append(
                f"{col} = COALESCE({mark}, {col})" if col in _KEEP_IF_EMPTY else f"{col} = {mark}"
            )
        id_mark = self._p(len(INSERT_COLUMNS) - 1)
        return f"UPDATE leads_companies SET {', '.join(sets)} WHERE id = {id_mark}"

    def _update_from_values(self, rows: int) -> str:
        """SQLite: one UPDATE of the company's fields for many rows (VALUES columns column1 …
        columnN, the id last), touching only companies where a field changes: an update
        rewrites the entries of all five indexes, and a list imported again is mostly the
        same (its bookkeeping columns are set by ``_bookkeeping``)."""
        width = _RECORD + 1
        sets, changes = [], []
        for i, col in enumerate(INSERT_COLUMNS[:_RECORD]):
            value = f"v.column{i + 1}"
            if col in _KEEP_IF_EMPTY:
                value = f"COALESCE({value}, leads_companies.{col})"
            sets.append(f"{col} = {value}")
            changes.append(f"leads_companies.{col} IS NOT {value}")
        groups = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * rows)
        return (
            f"UPDATE leads_companies SET {', '.join(sets)} FROM (VALUES {groups}) AS v "
            f"WHERE leads_companies.id = v.column{width} AND ({' OR '.join(changes)})"
        )

    async def _insert(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> int:
        """Insert what is new; the count inserted, or -1 if the driver does not tell."""
        if not self._qmark:
            await conn.exec_driver_sql(self._insert_sql, rows)
            return -1
        statements = []
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[start : start + _ROWS_PER_STATEMENT]
            sql = self._multi_insert if len(part) == _ROWS_PER_STATEMENT else None
            statements.append((sql or self._insert_statement(len(part)), part))
        return await _off_loop(conn, statements)

    async def _lines_inserted(self, conn: AsyncConnection, after_id: int) -> set[int]:
        """Lines of this import inserted in this transaction: ids grow, so they are above the
        largest id before it."""
        where = f"FROM leads_companies WHERE id > {self._p(1)} AND import_id = {self._p(2)}"
        if self._qmark:
            sql = f"SELECT json_group_array(import_line) {where}"
            result = await conn.exec_driver_sql(sql, (after_id, self.import_id))
            return set(json.loads(result.scalar_one() or "[]"))
        result = await conn.exec_driver_sql(
            f"SELECT import_line {where}", (after_id, self.import_id)
        )
        return {line for (line,) in result.all()}

    async def _update(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        if not self._qmark:
            await conn.exec_driver_sql(self._update_sql, rows)
            return
        statements = []
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[start : start + _ROWS_PER_STATEMENT]
            fields = [(*row[:_RECORD], row[-1]) for row in part]
            statements.append((self._update_from_values(len(part)), fields))
            # import_id, import_line, updated_at and the id
            bookkeeping = [row[_RECORD:] for row in part]
            statements.append((_bookkeeping(len(part)), bookkeeping))
        await _off_loop(conn, statements)

    def stamp(self, now: datetime) -> Any:
        """``now`` as rows carry it in created_at and updated_at (converted once, not per row)."""
        stamp = self._created_at(now) if self._created_at else now
        if self._qmark and isinstance(stamp, datetime):
            stamp = stamp.isoformat(" ")  # what sqlite3 would make of it
        return stamp

    async def write(
        self, batch: Sequence[tuple[Any, ...]], rejected_before: int = 0
    ) -> BatchResult:
        """``batch``: rows (see ``insert_row``) in the order of their lines; ``rejected_before``:
        rows of this chunk the validator already rejected."""
        batch, repeats = self._without_repeats(batch)
        for attempt in range(3):
            try:
                async with self.db.session() as session, session.begin():
                    conn = await session.connection()
                    if self.db.sqlite:  # the indexes of a big universe should stay in memory
                        await conn.exec_driver_sql("PRAGMA cache_size=-65536")
                    result, suspects = await self._write(conn, batch)
                    result.rejected = sorted(repeats + result.rejected)
                    emit_imported(
                        session,
                        self.settings,
                        import_id=str(self.import_id),
                        chunk=self.chunks + 1,
                        suspects=suspects,
                        rows_updated=result.updated,
                        rows_rejected=rejected_before + len(result.rejected),
                        correlation_id=self.correlation_id,
                    )
            except (IntegrityError, sqlite3.IntegrityError):
                # an update met a key another writer stored meanwhile: redo the batch
                if attempt == 2:
                    raise
                continue
            self.chunks += 1
            return result
        raise AssertionError("unreachable")

    def _without_repeats(
        self, batch: Sequence[tuple[Any, ...]]
    ) -> tuple[Sequence[tuple[Any, ...]], list[tuple[int, str]]]:
        """``batch`` without the rows that repeat an earlier keyless row of the file (and those
        rejected, with the line they repeat)."""
        keyless = self._keyless
        kept: list[tuple[Any, ...]] = []
        repeats: list[tuple[int, str]] = []
        for row in batch:
            if row[_DUNS] or row[_VAT] or row[_MATCH_KEY]:
                kept.append(row)
                continue
            first = keyless.setdefault(hash(row[:_RECORD]), row[LINE])
            if first == row[LINE]:
                kept.append(row)
            else:
                repeats.append((row[LINE], f"duplicate of line {first} in this file (same row)"))
        return (kept if repeats else batch), repeats

    async def _write(
        self, conn: AsyncConnection, batch: Sequence[tuple[Any, ...]]
    ) -> tuple[BatchResult, list[tuple[Any, ...]]]:
        result = BatchResult()
        rejected = result.rejected
        repeats: list[_Repeat] = []
        rows = batch if _keys_unique(batch) else _first_of_each_key(batch, repeats)
        if not rows:
            return result, []
        before = (
            await conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM leads_companies")
        ).scalar_one()
        inserted = await self._insert(conn, rows)
        if inserted == len(rows):
            result.accepted = inserted
            rejected.extend(_repeat_reasons(repeats, {}))
            return result, [(r[7], r[9], r[1], r[16]) for r in rows]
        # some rows met known keys: look those up
        new_lines = await self._lines_inserted(conn, before)
        suspects = [(r[7], r[9], r[1], r[16]) for r in rows if r[LINE] in new_lines]
        skipped = [r for r in rows if r[LINE] not in new_lines]
        known = await self._known(conn, skipped)
        updates: list[tuple[Any, ...]] = []
        import_id = self.import_id
        for row in skipped:
            line = row[LINE]
            matches = {k[0]: known[k] for k in _keys(row) if k in known}
            ids = {m.id for m in matches.values()}
            if len(ids) > 1:
                rejected.append((line, _conflict(matches)))
                continue
            if not ids:  # cannot be: it was skipped for a key; let the next import retry it
                rejected.append((line, "key taken by a company being written concurrently"))
                continue
            key, match = next(iter(matches.items()))
            if match.import_id == import_id:
                rejected.append((line, _duplicate(match.import_line, key)))
                continue
            updates.append((*row[:_UPDATED], match.id))
        if updates:
            await self._update(conn, updates)
        rejected.extend(_repeat_reasons(repeats, dict(rejected)))
        rejected.sort()
        result.accepted, result.updated = len(new_lines), len(updates)
        return result, suspects

    async def _known(
        self, conn: AsyncConnection, rows: Sequence[tuple[Any, ...]]
    ) -> dict[tuple[str, str], _Known]:
        """The companies stored under any key of ``rows``, by (key name, value)."""
        found: dict[tuple[str, str], _Known] = {}
        for start in range(0, len(rows), 5000):
            part = rows[start : start + 5000]
            wanted = [(name, list({row[i] for row in part if row[i]})) for name, i in KEY_COLUMNS]
            wanted = [(name, values) for name, values in wanted if values]
            if not wanted:
                continue
            params = tuple(chain.from_iterable(values for _, values in wanted))
            marks = iter(range(1, len(params) + 1))
            where = " OR ".join(
                f"{name} IN ({', '.join(self._p(next(marks)) for _ in values)})"
                for name, values in wanted
            )
            columns = ", ".join([*_KEY_NAMES, "id", "import_id", "import_line"])
            if self._qmark:  # one row back, not one step (and GIL hand-over) per match
                sql = f"SELECT json_group_array(json_array({columns})) FROM leads_companies"
                text = await _scalar_off_loop(conn, f"{sql} WHERE {where}", params)
                matches = json.loads(text or "[]")
            else:
                sql = f"SELECT {columns} FROM leads_companies WHERE {where}"
                matches = (await conn.exec_driver_sql(sql, params)).all()
            for *values, id_, import_id, import_line in matches:
                known = _Known(id_, import_id, import_line)
                for name, value in zip(_KEY_NAMES, values, strict=True):
                    if value:
                        found[(name, value)] = known
        return found


async def _off_loop(
    conn: AsyncConnection, statements: list[tuple[str, list[tuple[Any, ...]]]]
) -> int:
    """SQLite: run multi-row statements (SQL, rows) in the transaction of ``conn`` on a worker
    thread, so that the request goes on with the next chunk meanwhile (SQLite releases the GIL
    while it works; the platform runs SQLite calls on the event loop's thread otherwise). The
    unit of work holds the database's lock, so nothing else uses the connection meanwhile. The
    rows changed."""
    sqlite_conn = await _sqlite3_of(conn)
    if sqlite_conn is None:  # another driver: stay on the loop
        changed = 0
        for sql, rows in statements:
            result = await conn.exec_driver_sql(sql, tuple(chain.from_iterable(rows)))
            changed += result.rowcount
        return changed
    return await _in_thread(_execute_all, sqlite_conn, statements)


async def _scalar_off_loop(conn: AsyncConnection, sql: str, params: tuple[Any, ...]) -> Any:
    """SQLite: the one value a query answers, queried on a worker thread like ``_off_loop``."""
    sqlite_conn = await _sqlite3_of(conn)
    if sqlite_conn is None:
        return (await conn.exec_driver_sql(sql, params)).scalar_one()
    return await _in_thread(lambda: sqlite_conn.execute(sql, params).fetchone()[0])


async def _sqlite3_of(conn: AsyncConnection) -> sqlite3.Connection | None:
    raw = await conn.get_raw_connection()
    sqlite_conn = getattr(raw.driver_connection, "_conn", None)
    return sqlite_conn if isinstance(sqlite_conn, sqlite3.Connection) else None


async def _in_thread(work: Callable[..., _T], *args: Any) -> _T:
    task = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # the thread cannot be stopped: let it finish before the transaction is rolled back
        with contextlib.suppress(Exception):
            await task
        raise


def _execute_all(
    conn: sqlite3.Connection, statements: list[tuple[str, list[tuple[Any, ...]]]]
) -> int:
    changed = 0
    for sql, rows in statements:
        changed += conn.execute(sql, tuple(chain.from_iterable(rows))).rowcount
    return changed


def insert_row(rec: CompanyRecord, import_id: int, line: int, stamp: Any) -> tuple[Any, ...]:
    """A valid row as the writer stores it: the values of ``INSERT_COLUMNS``."""
    revenue = rec[10]
    return (
        *rec[:10],
        None if revenue is None else int(revenue.scaleb(4)),
        *rec[11:],
        import_id,
        line,
        stamp,
        CompanyStatus.SUSPECT.value,
        stamp,
    )


def _bookkeeping(rows: int) -> str:
    """SQLite: which import and line last wrote each of many companies, and when."""
    groups = ", ".join(["(?, ?, ?, ?)"] * rows)
    return (
        "UPDATE leads_companies SET import_id = v.column1, import_line = v.column2, "
        f"updated_at = v.column3 FROM (VALUES {groups}) AS v WHERE leads_companies.id = v.column4"
    )


def _keys(row: tuple[Any, ...]) -> list[tuple[str, str]]:
    return [(name, row[index]) for name, index in KEY_COLUMNS if row[index]]


def _keys_unique(rows: Sequence[tuple[Any, ...]]) -> bool:
    """No two rows share a D-U-N-S, VAT id or match key (the common case, checked in C)."""
    for _, index in KEY_COLUMNS:
        values = [row[index] for row in rows if row[index]]
        if len(set(values)) != len(values):
            return False
    return True


class _Repeat(NamedTuple):
    """A row of a batch that repeats a key of an earlier row of the batch (``first``)."""

    row: tuple[Any, ...]
    first: tuple[Any, ...]
    key: str


def _first_of_each_key(
    rows: Sequence[tuple[Any, ...]], repeats: list[_Repeat]
) -> list[tuple[Any, ...]]:
    """The rows that repeat no key of an earlier row kept; the others in ``repeats``."""
    kept = []
    seen: dict[tuple[str, str], tuple[Any, ...]] = {}
    for row in rows:
        keys = _keys(row)
        dup = next((k for k in keys if k in seen), None)
        if dup is not None:
            repeats.append(_Repeat(row, seen[dup], dup[0]))
            continue
        for k in keys:
            seen[k] = row
        kept.append(row)
    return kept


def _repeat_reasons(repeats: Sequence[_Repeat], rejected: dict[int, str]) -> list[tuple[int, str]]:
    """Why each repeat is rejected, given why kept rows were (``rejected``, by line): a duplicate
    of the line it repeats, unless that line was not written either. A row with the very keys of
    a rejected line meets the same companies, so it gets the same reason; one with other keys
    too is told that the line it repeats was rejected."""
    reasons = []
    for row, first, key in repeats:
        line = row[LINE]
        reason = _duplicate(first[LINE], key)
        first_reason = rejected.get(first[LINE])
        if first_reason is not None:
            if _keys(row) == _keys(first):
                reason = first_reason
            else:
                reason += f", which was rejected ({first_reason})"
        reasons.append((line, reason))
    return reasons


def _duplicate(line: int | None, key: str) -> str:
    return f"duplicate of line {line} in this file (same {KEY_LABELS[key]})"


def _conflict(matches: dict[str, _Known]) -> str:
    parts = [f"company {m.id} by {KEY_LABELS[k]}" for k, m in matches.items()]
    return "matches different known companies: " + " and ".join(parts)


__all__ = ["BatchResult", "CompanyWriter", "insert_row"]
