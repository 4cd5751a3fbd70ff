"""Counting the company universe by segment cell (NACE section × size class × country ×
source): what ``companies.imported`` and ``prospects.materialized`` carry instead of one event
per company."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# (nace_section, size_class, country, source)
CellKey = tuple[str | None, str | None, str, str]


def tally(keys: Iterable[CellKey]) -> list[tuple[CellKey, int]]:
    """Companies per cell, in a stable order (unknown section or size first)."""
    counts = Counter(keys)
    return sorted(counts.items(), key=lambda item: tuple(v or "" for v in item[0]))
