"""Incremental CSV: bytes in as they arrive, complete records out with their line numbers.

A record may span lines (a quoted field with a newline), so text is cut only after a line where
the count of quote characters so far is even; the rest waits for the next chunk.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import NamedTuple

DELIMITERS = (",", ";", "\t", "|")


class Record(NamedTuple):
    line: int  # physical line where the record starts (the header is line 1)
    fields: list[str] | None
    error: str | None = None


class TextChunk(NamedTuple):
    """Whole records of the file as text, and the physical line the first one starts on."""

    text: str
    first_line: int


class CsvStream:
    def __init__(self, encoding: str = "utf-8") -> None:
        self.charset = encoding
        if codecs.lookup(encoding).name == "utf-8":
            encoding = "utf-8-sig"  # drop a byte order mark
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = ""
        self._line = 0  # physical lines handed out so far
        self.delimiter: str | None = None

    def feed(self, data: bytes) -> list[Record]:
        chunk = self.cut(data)
        return self.parse(chunk) if chunk else []

    def close(self) -> list[Record]:
        chunk = self.cut(b"", final=True)
        return self.parse(chunk) if chunk else []

    def cut(self, data: bytes, *, final: bool = False) -> TextChunk | None:
        """The records completed by ``data`` (all that is left when ``final``), not yet parsed."""
        text = self._pending + self._decoder.decode(data, final=final)
        cut = len(text) if final else _complete_prefix(text)
        self._pending = text[cut:]
        if not cut:
            return None
        text = text[:cut]
        if self.delimiter is None:
            self.delimiter = sniff_delimiter(text.split("\n", 1)[0])
        chunk = TextChunk(text, self._line + 1)
        self._line += text.count("\n") + (0 if text.endswith("\n") else 1)
        return chunk

    def split_header(self, chunk: TextChunk) -> tuple[Record, TextChunk | None]:
        """The first record of the file, and the rest of its first chunk."""
        reader = csv.reader(io.StringIO(chunk.text), delimiter=self.delimiter or ",")
        try:
            fields: list[str] | None = next(reader, [])
        except csv.Error as exc:
            return Record(chunk.first_line, None, f"malformed CSV: {exc}"), None
        lines = reader.line_num
        if fields and any("\ufffd" in f for f in fields):
            fields = None
        header = Record(chunk.first_line, fields, None if fields is not None else "not text")
        rest = chunk.text.split("\n", lines)[lines] if chunk.text.count("\n") >= lines else ""
        return header, TextChunk(rest, chunk.first_line + lines) if rest else None

    def parse(self, chunk: TextChunk) -> list[Record]:
        out: list[Record] = []
        reader = csv.reader(io.StringIO(chunk.text), delimiter=self.delimiter or ",")
        base = chunk.first_line - 1
        consumed = 0
        suspicious = "\ufffd" in chunk.text or "\x00" in chunk.text
        while True:
            start = base + consumed + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if reader.line_num == consumed:  # no progress: give up on this chunk
                    out.append(Record(start, None, f"malformed CSV: {exc}"))
                    break
                consumed = reader.line_num
                out.append(Record(start, None, f"malformed CSV: {exc}"))
                continue
            consumed = reader.line_num
            if suspicious and any("\ufffd" in f for f in fields):
                out.append(Record(start, None, f"bytes that are not {self.charset}"))
                continue
            out.append(Record(start, fields))
        return out


def split_chunk(chunk: TextChunk, max_chars: int) -> Iterator[TextChunk]:
    """``chunk`` in pieces of whole records of at most ``max_chars`` (a longer record whole)."""
    text, line = chunk.text, chunk.first_line
    if len(text) <= max_chars:
        yield chunk
        return
    start = 0
    while start < len(text):
        end = start + (_complete_prefix(text[start : start + max_chars]) or len(text))
        if len(text) - start <= max_chars:
            end = len(text)
        yield TextChunk(text[start:end], line)
        line += text.count("\n", start, end)
        start = end


def _complete_prefix(text: str) -> int:
    """Length of the longest prefix of whole records (ending in a newline outside quotes)."""
    last_newline = text.rfind("\n")
    if last_newline < 0:
        return 0
    if '"' not in text:
        return last_newline + 1
    cut = 0
    quotes = 0
    pos = 0
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return cut
        quotes += text.count('"', pos, nl)
        if quotes % 2 == 0:
            cut = nl + 1
        pos = nl + 1


def sniff_delimiter(header_line: str) -> str:
    """The delimiter used most in the header line, outside quotes (comma on a tie)."""
    outside = header_line.split('"')[::2]
    counts = {d: sum(part.count(d) for part in outside) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","
