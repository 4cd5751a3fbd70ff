"""The import use case: check the media type and header, then stream the body in chunks of
whole records, validate each chunk on a worker thread (``ChunkValidator``) while a writer task
stores the previous batch (SQLite works on a thread of its own as well), so reading, validating
and writing overlap."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leads.domain.company_rows import HeaderError, RowValidator, map_header
from leads.importing.stream import CsvStream, TextChunk, split_chunk
from leads.importing.writer import LINE, CompanyWriter
from leads.reference import countries, currencies, nace_table
from leads.tables import ImportRow
from salesflow.api.errors import Problem
from salesflow.db import Database
from salesflow.settings import ServiceSettings

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})
SNIFF_BYTES = 4096
# Records are validated in chunks of about this many characters (~8,000 rows of a typical
# list): big enough that polars' fixed cost per call is small, small enough to start writing
# soon.
CHUNK_CHARS = 1 << 20


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
        info = codecs.lookup(charset)
    except LookupError:
        raise Problem(415, f"unknown charset {charset!r}") from None
    if not info._is_text_encoding:  # type: ignore[attr-defined]  # base64, rot13, zlib …
        raise Problem(415, f"unknown charset {charset!r}")
    return media, charset


# a chunk for the writer: valid rows with their line numbers, and how many rows of the same
# stretch of the file the validator rejected (they count in the chunk's event)
Chunk = tuple[list[tuple[Any, ...]], int]


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
        first: TextChunk | None = None
        body_iter = body.__aiter__()
        # the header must be whole before anything is written: a file that is no CSV of
        # companies is refused with nothing stored
        while first is None:
            try:
                data = await body_iter.__anext__()
            except StopAsyncIteration:
                first = stream.cut(b"", final=True)
                break
            if len(head) < SNIFF_BYTES:
                head += data[: SNIFF_BYTES - len(head)]
                if stream.looks_binary(head):
                    raise Problem(400, "binary content: not a CSV file")
            first = stream.cut(data)
        if first is None or not first.text.strip("\r\n"):
            raise Problem(400, "empty file: a header line is needed")
        header, rest = stream.split_header(first)
        if header.fields is None:
            raise Problem(400, f"header line cannot be read as CSV in {stream.charset}")
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
        # polars comes with the first import (~25 MB, 0.2 s), not with every start of the service
        from leads.importing.columnar import ChunkValidator

        chunks = ChunkValidator(validator, stream)
        report = self.report
        report.delimiter = stream.delimiter or ","
        report.columns = {header.fields[i]: f for f, i in mapping.index.items()}
        report.ignored_columns = list(mapping.ignored)
        report.import_id = import_id = await self._open()
        # one correlation id per import: suspects are no customer journey yet
        writer = CompanyWriter(self.db, import_id, self.settings, str(uuid.uuid4()))
        queue: asyncio.Queue[Chunk | None] = asyncio.Queue(maxsize=2)
        write_task = asyncio.create_task(self._drain(queue, writer))
        status = "failed"
        try:
            batch: list[tuple[Any, ...]] = []
            invalid = 0  # rows of the current chunk the validator rejected
            async for chunk in _text_chunks(rest, body_iter, stream):
                stamp = writer.stamp(datetime.now(UTC))
                # polars works without the GIL: the loop and SQLite's thread go on meanwhile
                checked = await asyncio.to_thread(chunks.validate, chunk, import_id, stamp)
                report.rows += checked.records
                report.blank_lines += checked.blank_lines
                for line, reason in checked.rejected:
                    self._reject(line, reason)
                # each rejected row counts in the writer's chunk of the rows around it
                rejected_lines = sorted(line for line, _ in checked.rejected)
                counted = 0
                rows = checked.rows
                taken = 0
                while taken < len(rows):
                    part = rows[taken : taken + self.batch_rows - len(batch)]
                    taken += len(part)
                    batch.extend(part)
                    upto = bisect.bisect_left(rejected_lines, part[-1][LINE], counted)
                    invalid += upto - counted
                    counted = upto
                    if len(batch) >= self.batch_rows:
                        await self._put(queue, (batch, invalid), write_task)
                        batch, invalid = [], 0
                invalid += len(rejected_lines) - counted
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
            result = await writer.write(batch, rejected_before)
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


async def _text_chunks(
    first: TextChunk | None, body: AsyncIterator[bytes], stream: CsvStream
) -> AsyncIterator[TextChunk]:
    """The file's records after the header in chunks of about ``CHUNK_CHARS`` (whole records)."""
    texts: list[str] = []
    start = 0
    size = 0
    pieces = _pieces(first, body, stream)
    async for whole in pieces:
        for piece in split_chunk(whole, CHUNK_CHARS):  # a body may come in one piece
            if not texts:
                start = piece.first_line
            texts.append(piece.text)
            size += len(piece.text)
            if size >= CHUNK_CHARS:
                yield TextChunk("".join(texts), start)
                texts, size = [], 0
    if texts:
        yield TextChunk("".join(texts), start)


async def _pieces(
    first: TextChunk | None, body: AsyncIterator[bytes], stream: CsvStream
) -> AsyncIterator[TextChunk]:
    if first is not None:
        yield first
    async for data in body:
        if (piece := stream.cut(data)) is not None:
            yield piece
    if (piece := stream.cut(b"", final=True)) is not None:
        yield piece
