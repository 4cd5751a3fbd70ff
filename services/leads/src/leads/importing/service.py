"""The import use case: check the media type and header, then stream → parse → validate in the
request's task while a writer task stores the previous batch (SQLite works in its own thread,
so parsing and writing overlap)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from leads.domain.company_rows import CompanyRecord, HeaderError, RowValidator, map_header
from leads.importing.stream import CsvStream, Record
from leads.importing.writer import CompanyWriter
from leads.reference import countries, currencies, nace_table
from leads.tables import ImportRow
from salesflow.api.errors import Problem
from salesflow.db import Database
from salesflow.settings import ServiceSettings

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})
SNIFF_BYTES = 4096
# The parser hands the event loop over this often: the writer's steps (begin, statements,
# commit) each wait for a turn of the loop, and a body that is already buffered never makes the
# parser wait, so without it the writer would only run when its queue is full and SQLite's
# thread would sit idle while the next batch is parsed.
YIELD_EVERY_ROWS = 256


@dataclass
class ImportReport:
    import_id: int | None = None
    rows: int = 0
    accepted: int = 0
    updated: int = 0
    rejected: int = 0
    blank_lines: int = 0
    delimiter: str = ","
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    errors_truncated: bool = False
    seconds: float = 0.0


def parse_media_type(content_type: str | None) -> tuple[str, str]:
    """``text/csv; charset=windows-1252`` → (``text/csv``, ``windows-1252``); 415 otherwise."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    if media not in CSV_TYPES:
        raise Problem(415, f"send the file as text/csv, not {media or 'no content type'}")
    charset = "utf-8"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    import codecs

    try:
        codecs.lookup(charset)
    except LookupError:
        raise Problem(415, f"unknown charset {charset!r}") from None
    return media, charset


# a chunk for the writer: valid rows with their line numbers, and how many rows of the same
# stretch of the file the validator rejected (they count in the chunk's event)
Chunk = tuple[list[tuple[int, CompanyRecord]], int]


# While imports run, the cyclic garbage collector's youngest generation is collected after
# this many allocations instead of 700: an import allocates a dozen containers per row that live
# until their chunk is written, and collecting (and promoting) them every 700 allocations cost
# about a quarter of the import's CPU time. Reference counting still frees them at once.
GC_GEN0_DURING_IMPORT = 50_000
# ... and threads hand over the GIL after 0.5 ms instead of 5 ms: SQLite's thread needs it back
# after each statement (it works without it) while the parser holds it, and waited up to 5 ms
# each time - a third of the import's time with SQLite's thread idle.
SWITCH_INTERVAL_DURING_IMPORT = 0.0005
_imports_running = 0
_gc_thresholds = gc.get_threshold()
_switch_interval = sys.getswitchinterval()


@contextlib.contextmanager
def _import_tuning() -> Iterator[None]:
    global _imports_running, _gc_thresholds, _switch_interval
    if _imports_running == 0:
        _gc_thresholds = gc.get_threshold()
        gc.set_threshold(max(GC_GEN0_DURING_IMPORT, _gc_thresholds[0]), *_gc_thresholds[1:])
        _switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(SWITCH_INTERVAL_DURING_IMPORT, _switch_interval))
    _imports_running += 1
    try:
        yield
    finally:
        _imports_running -= 1
        if _imports_running == 0:
            gc.set_threshold(*_gc_thresholds)
            sys.setswitchinterval(_switch_interval)


class CompanyImport:
    def __init__(
        self,
        db: Database,
        settings: ServiceSettings,
        *,
        created_by: str,
        source: str,
        nace_revision: str,
        batch_rows: int,
        max_reported_errors: int,
    ) -> None:
        self.db = db
        self.settings = settings
        self.created_by = created_by
        self.source = source
        self.nace_revision = nace_revision
        self.batch_rows = batch_rows
        self.max_errors = max_reported_errors
        self.report = ImportReport()

    async def run(self, body: AsyncIterator[bytes], content_type: str | None) -> ImportReport:
        with _import_tuning():
            return await self._run(body, content_type)

    async def _run(self, body: AsyncIterator[bytes], content_type: str | None) -> ImportReport:
        started = asyncio.get_running_loop().time()
        _, charset = parse_media_type(content_type)
        stream = CsvStream(charset)
        head = b""
        pending: list[Record] = []
        body_iter = body.__aiter__()
        # the header must be whole before anything is written: a file that is no CSV of
        # companies is refused with nothing stored
        while not pending:
            try:
                data = await body_iter.__anext__()
            except StopAsyncIteration:
                pending = stream.close()
                break
            if len(head) < SNIFF_BYTES:
                head += data[: SNIFF_BYTES - len(head)]
                if b"\x00" in head:
                    raise Problem(400, "binary content: not a CSV file")
            pending = stream.feed(data)
        if not pending:
            raise Problem(400, "empty file: a header line is needed")
        header = pending.pop(0)
        if header.fields is None or any("\ufffd" in f for f in header.fields):
            raise Problem(400, f"header line cannot be read as CSV in {charset}")
        try:
            mapping = map_header(header.fields, currencies())
        except HeaderError as exc:
            raise Problem(400, str(exc)) from None
        validator = RowValidator(
            mapping,
            {"2.1": nace_table("2.1"), "2": nace_table("2")},
            countries(),
            currencies(),
            default_revision=self.nace_revision,
            default_source=self.source,
        )
        report = self.report
        report.delimiter = stream.delimiter or ","
        report.columns = {header.fields[i]: f for f, i in mapping.index.items()}
        report.ignored_columns = list(mapping.ignored)
        report.import_id = await self._open()
        # one correlation id per import: suspects are no customer journey yet
        writer = CompanyWriter(self.db, report.import_id, self.settings, str(uuid.uuid4()))
        queue: asyncio.Queue[Chunk | None] = asyncio.Queue(maxsize=2)
        write_task = asyncio.create_task(self._drain(queue, writer))
        status = "failed"
        try:
            batch: list[tuple[int, CompanyRecord]] = []
            invalid = 0  # rows of the current chunk the validator rejected
            async for records in _records(pending, body_iter, stream):
                for n, rec in enumerate(records, 1):
                    if n % YIELD_EVERY_ROWS == 0:
                        await asyncio.sleep(0)
                    if rec.fields is None:
                        report.rows += 1
                        invalid += 1
                        self._reject(rec.line, rec.error or "malformed record")
                        continue
                    if not any(rec.fields):
                        report.blank_lines += 1
                        continue
                    report.rows += 1
                    outcome = validator(rec.fields)
                    if isinstance(outcome, str):
                        invalid += 1
                        self._reject(rec.line, outcome)
                        continue
                    batch.append((rec.line, outcome))
                    if len(batch) >= self.batch_rows:
                        await self._put(queue, (batch, invalid), write_task)
                        batch, invalid = [], 0
            if batch or invalid:
                await self._put(queue, (batch, invalid), write_task)
            await queue.put(None)
            await write_task
            status = "completed"
        finally:
            if not write_task.done():
                write_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await write_task
            report.errors.sort()
            report.seconds = round(asyncio.get_running_loop().time() - started, 3)
            await self._close(status)
        return report

    def _reject(self, line: int, reason: str) -> None:
        report = self.report
        report.rejected += 1
        if len(report.errors) < self.max_errors:
            report.errors.append((line, reason))
        else:
            report.errors_truncated = True

    @staticmethod
    async def _put(
        queue: asyncio.Queue[Chunk | None], chunk: Chunk, write_task: asyncio.Task[None]
    ) -> None:
        if write_task.done():
            write_task.result()  # surfaces the writer's error
        await queue.put(chunk)

    async def _drain(self, queue: asyncio.Queue[Chunk | None], writer: CompanyWriter) -> None:
        while (chunk := await queue.get()) is not None:
            batch, rejected_before = chunk
            result = await writer.write(batch, datetime.now(UTC), rejected_before)
            self.report.accepted += result.accepted
            self.report.updated += result.updated
            for line, reason in result.rejected:
                self._reject(line, reason)

    async def _open(self) -> int:
        async with self.db.session() as session, session.begin():
            row = ImportRow(
                created_by=self.created_by,
                status="running",
                source=self.source,
                nace_revision=self.nace_revision,
                started_at=datetime.now(UTC),
            )
            session.add(row)
            await session.flush()
            assert row.id is not None
            return row.id

    async def _close(self, status: str) -> None:
        report = self.report
        if report.import_id is None:
            return
        async with self.db.session() as session, session.begin():
            row = await session.get(ImportRow, report.import_id)
            if row is not None:
                row.status = status
                row.rows = report.rows
                row.accepted = report.accepted
                row.updated = report.updated
                row.rejected = report.rejected
                row.finished_at = datetime.now(UTC)
                session.add(row)


async def _records(
    first: list[Record], body: AsyncIterator[bytes], stream: CsvStream
) -> AsyncIterator[list[Record]]:
    if first:
        yield first
    async for data in body:
        records = stream.feed(data)
        if records:
            yield records
    yield stream.close()
