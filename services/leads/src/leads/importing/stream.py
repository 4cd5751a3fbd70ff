"""Incremental CSV: bytes in as they arrive, complete records out with their line numbers.

A record may span lines (a quoted field with a newline), so text is cut only after a line where
the count of quote characters so far is even; the rest waits for the next chunk.
"""

from __future__ import annotations

import codecs
import csv
import io
from typing import NamedTuple

DELIMITERS = (",", ";", "\t", "|")


class Record(NamedTuple):
    line: int  # physical line where the record starts (the header is line 1)
    fields: list[str] | None
    error: str | None = None


class CsvStream:
    def __init__(self, encoding: str = "utf-8") -> None:
        self.charset = encoding
        if codecs.lookup(encoding).name == "utf-8":
            encoding = "utf-8-sig"  # drop a byte order mark
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = ""
        self._line = 0  # physical lines handed to the csv reader so far
        self.delimiter: str | None = None

    def feed(self, data: bytes) -> list[Record]:
        return self._records(self._decoder.decode(data), final=False)

    def close(self) -> list[Record]:
        return self._records(self._decoder.decode(b"", final=True), final=True)

    def _records(self, text: str, *, final: bool) -> list[Record]:
        text = self._pending + text
        cut = len(text) if final else _complete_prefix(text)
        self._pending = text[cut:]
        chunk = text[:cut]
        if not chunk:
            return []
        if self.delimiter is None:
            self.delimiter = sniff_delimiter(chunk.split("\n", 1)[0])
        return self._parse(chunk)

    def _parse(self, chunk: str) -> list[Record]:
        out: list[Record] = []
        reader = csv.reader(io.StringIO(chunk), delimiter=self.delimiter or ",")
        base = self._line
        consumed = 0
        suspicious = "\ufffd" in chunk or "\x00" in chunk
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
        self._line = base + chunk.count("\n") + (0 if chunk.endswith("\n") else 1)
        return out


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
