"""The NACE hierarchy: codes, parents, children, search and hierarchical matching.

Codes are kept in their official notation: a section letter (``J``), a division (``62``), a group
(``62.1``) and a class (``62.10``). The table itself is loaded from the classification's data
(see ``leads.reference``); this module only knows how to read and walk it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

LEVEL_NAMES = {1: "section", 2: "division", 3: "group", 4: "class"}
REVISIONS = ("2.1", "2")
DEFAULT_REVISION = "2.1"
_SECTION = re.compile(r"^[A-Z]$")
_DIGITS = re.compile(r"^\d{2,4}$")


def canonical_revision(value: str | None) -> str | None:
    """``"2.1"``/``"21"``/``"rev. 2.1"`` → ``"2.1"``; ``"2"``/``"2.0"`` → ``"2"``; else None."""
    if value is None:
        return None
    text = value.strip().lower().removeprefix("nace").strip().removeprefix("rev").strip(" .")
    if text in ("2.1", "21", "2,1"):
        return "2.1"
    if text in ("2", "2.0", "20", "2,0"):
        return "2"
    return None


def notation(raw: str) -> str | None:
    """Bring a code as lists write it into official notation, without checking it exists.

    ``"6201"`` → ``"62.01"``, ``"62.0"`` stays, ``"j"`` → ``"J"``, ``"1.11"`` (a spreadsheet ate
    the leading zero) → ``"01.11"``, ``"J62.01"`` → ``"62.01"`` (whether J is the code's section
    is the table's to check: ``section_prefix``). Returns None for what cannot be a NACE code at
    all."""
    text = raw.strip().upper().replace(" ", "")
    if not text:
        return None
    if _SECTION.match(text):
        return text
    if section_prefix(text):
        text = text[1:]  # "J62.01": the section letter in front of the code
    if "." in text:
        head, _, tail = text.partition(".")
        if not (
            head.isdigit()
            and 1 <= len(head) <= 2
            and (tail.isdigit() or not tail)
            and len(tail) <= 2
        ):
            return None
        head = head.zfill(2)
        return head if not tail else f"{head}.{tail}"
    if not _DIGITS.match(text):
        return None
    return text if len(text) == 2 else f"{text[:2]}.{text[2:]}"


def section_prefix(raw: str) -> str | None:
    """The section letter written in front of a code (``"J62.01"`` → ``"J"``), if any."""
    text = raw.strip().upper().replace(" ", "")
    if len(text) > 1 and text[0].isalpha() and text[1].isdigit():
        return text[0]
    return None


@dataclass(frozen=True, slots=True)
class NaceCode:
    code: str
    title: str
    level: int
    parent: str | None
    section: str
    children: tuple[str, ...] = ()

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class NaceTable:
    """One revision of the classification."""

    revision: str
    codes: dict[str, NaceCode]
    _folded: dict[str, str] = field(default_factory=dict, repr=False)
    _lookup_cache: dict[str, NaceCode | None] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, revision: str, entries: Iterable[tuple[str, str, int, str | None]]) -> NaceTable:
        """From ``(code, title, level, parent)`` rows in any order; checks the tree is closed."""
        rows = list(entries)
        children: dict[str, list[str]] = {}
        for code, _, _, parent in rows:
            if parent is not None:
                children.setdefault(parent, []).append(code)
        parents = {code: parent for code, _, _, parent in rows}

        def section_of(code: str) -> str:
            while (parent := parents[code]) is not None:
                code = parent
            return code

        codes = {}
        for code, title, level, parent in rows:
            if parent is not None and parent not in parents:
                raise ValueError(f"NACE {revision}: {code} names unknown parent {parent}")
            codes[code] = NaceCode(
                code=code,
                title=title,
                level=level,
                parent=parent,
                section=section_of(code),
                children=tuple(sorted(children.get(code, ()))),
            )
        table = cls(revision=revision, codes=codes)
        table._folded = {code: _fold(f"{code} {c.title}") for code, c in codes.items()}
        return table

    def counts(self) -> dict[int, int]:
        result = dict.fromkeys(LEVEL_NAMES, 0)
        for code in self.codes.values():
            result[code.level] += 1
        return result

    def get(self, raw: str) -> NaceCode | None:
        """The code for ``raw`` in any common notation, or None if the revision lacks it."""
        try:
            return self._lookup_cache[raw]
        except KeyError:
            pass
        canonical = notation(raw)
        found = self.codes.get(canonical) if canonical else None
        if found is not None and (letter := section_prefix(raw)) and letter != found.section:
            found = None  # "C62.10": no such code, 62 is not in section C
        if len(self._lookup_cache) < 100_000:  # files repeat a few hundred codes; bound it anyway
            self._lookup_cache[raw] = found
        return found

    def ancestors(self, code: str) -> list[NaceCode]:
        """From the section down to the parent of ``code``."""
        chain = []
        parent = self.codes[code].parent
        while parent is not None:
            chain.append(self.codes[parent])
            parent = self.codes[parent].parent
        return chain[::-1]

    def covers(self, ancestor: str, code: str) -> bool:
        """Does ``ancestor`` (any level) include ``code``? A code covers itself."""
        if ancestor == code:
            return True
        node = self.codes.get(code)
        while node is not None and node.parent is not None:
            if node.parent == ancestor:
                return True
            node = self.codes.get(node.parent)
        return False

    def search(self, query: str, limit: int = 50, level: int | None = None) -> list[NaceCode]:
        """Codes whose code or title contains every word of ``query`` (accents and case
        ignored); an exact code comes first, then by level and code."""
        words = _fold(query).split()
        exact = self.get(query) if query.strip() else None
        hits = [
            self.codes[code]
            for code, text in self._folded.items()
            if all(w in text for w in words) and (level is None or self.codes[code].level == level)
        ]
        hits.sort(key=lambda c: (c is not exact, c.level, c.code))
        return hits[:limit]
