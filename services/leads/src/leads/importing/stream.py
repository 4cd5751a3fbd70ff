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
UTF16 = frozenset({"utf-16-le", "utf-16-be"})


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
        self.declared = codecs.lookup(encoding).name
        self.encoding = encoding
        # chosen from the first two bytes (a byte order mark wins over the declared charset)
        self._decoder: codecs.IncrementalDecoder | None = None
        self._head = b""
        self._pending = ""
        self._line = 0  # physical lines handed out so far
        self.delimiter: str | None = None

    @property
    def wide(self) -> bool:
        """Whether the file is UTF-16 (known once two bytes have come)."""
        return self.encoding in UTF16

    def feed(self, data: bytes) -> list[Record]:
        chunk = self.cut(data)
        return self.parse(chunk) if chunk else []

    def close(self) -> list[Record]:
        chunk = self.cut(b"", final=True)
        return self.parse(chunk) if chunk else []

    def looks_binary(self, head: bytes) -> bool:
        """Whether the first bytes of the file hold a NUL character (in UTF-16 every ASCII
        character has a zero byte, so there the decoded text is checked)."""
        if len(head) < 2:
            return False  # undecided: a zero byte may be half of a UTF-16 character
        encoding, skip = _encoding_of(head, self.declared)
        if encoding not in UTF16:
            return b"\x00" in head
        end = len(head) - (len(head) - skip) % 2
        return "\x00" in head[skip:end].decode(encoding, errors="replace")

    def cut(self, data: bytes, *, final: bool = False) -> TextChunk | None:
        """The records completed by ``data`` (all that is left when ``final``), not yet parsed."""
        if self._decoder is None:
            data = self._head + data
            if len(data) < 2 and not final:
                self._head = data  # a byte order mark needs two bytes
                return None
            self._head = b""
            data = self._start(data)
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

    def _start(self, head: bytes) -> bytes:
        """Chooses the decoder from the first bytes; ``head`` without a UTF-16 byte order mark."""
        encoding, skip = _encoding_of(head, self.declared)
        if encoding in UTF16 and encoding != self.declared:
            self.charset = {"utf-16-le": "utf-16le", "utf-16-be": "utf-16be"}[encoding]
        self.encoding = encoding
        # an incremental decoder keeps a code unit or surrogate pair split between chunks
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        return head[skip:]

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


def _encoding_of(head: bytes, declared: str) -> tuple[str, int]:
    """The codec for a file starting with ``head`` (two bytes at least, unless the file is
    shorter) and how many bytes of byte order mark to skip.

    A UTF-16 byte order mark wins over the declared charset (as browsers do): Excel's "Unicode
    Text" and many vendor tools write one, and clients send such files as plain ``text/csv``.
    ``utf-16`` declared without a mark: the byte order whose zero bytes fall where the ASCII
    header has them, else big-endian (RFC 2781)."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if declared == "utf-16":
        return ("utf-16-le" if head[1:2] == b"\x00" and head[:1] != b"\x00" else "utf-16-be"), 0
    if declared == "utf-8":
        return "utf-8-sig", 0  # drops a UTF-8 byte order mark
    return declared, 0
