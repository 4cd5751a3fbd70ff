"""The company universe: suspects (``companies.imported``) and prospects
(``prospects.materialized``), counted per segment cell from chunk events.

The leads service publishes counts, not companies: one event per committed chunk of an import
or of a segment materialization, each with the number of companies per cell (NACE section ×
size class × country × source). Two rules make the figures exact:

- A chunk counts once. Its business key is (kind, segment, import or run, chunk number); the
  event store already drops redeliveries of the same event id, and a second event for a chunk
  that was counted (a producer that re-published it under a new id) does not add to it. Of such
  events the earliest ``ce_time`` (then the smallest id) stands for the chunk, so the choice
  does not depend on the order in which they arrive.
- The time of a cell is the ``ce_time`` of its chunk event (when the chunk was committed).

No event names a company, an owner or a team, so the counts can be sliced by cell only, and
nothing follows one company from stage to stage: conversions are ratios of counts and times
between these stages are not derivable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SUSPECTS = "suspects"
PROSPECTS = "prospects"

# event type -> (stage, payload field holding the batch id, payload field holding the cells)
CHUNK_EVENTS: dict[str, tuple[str, str, str]] = {
    "companies.imported.v1": (SUSPECTS, "import_id", "suspects"),
    "prospects.materialized.v1": (PROSPECTS, "run_id", "prospects"),
}


@dataclass(frozen=True)
class Cell:
    """Companies of one segment cell within one chunk."""

    nace_section: str | None
    size_class: str | None
    country: str | None
    source: str | None
    count: int


@dataclass(frozen=True)
class ChunkKey:
    stage: str  # suspects | prospects
    segment_id: str  # "" for imports (the universe has no segment)
    batch_id: str  # import id or materialization run id
    chunk: int


@dataclass(frozen=True)
class Chunk:
    key: ChunkKey
    event_id: str
    time: datetime
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class UniverseCount:
    """Companies of one cell that entered ``stage`` at ``time`` (the funnel's input)."""

    stage: str
    time: datetime
    nace_section: str | None
    size_class: str | None
    country: str | None
    source: str | None
    count: int


def chunk_of(event_type: str, event_id: str, time: datetime, data: Mapping[str, Any]) -> Chunk:
    """The chunk an (already validated) chunk event carries."""
    stage, batch_field, cells_field = CHUNK_EVENTS[event_type]
    segment_id = data.get("segment_id") if stage == PROSPECTS else ""
    cells = tuple(
        Cell(
            nace_section=_text(cell.get("nace_section")),
            size_class=_text(cell.get("size_class")),
            country=_text(cell.get("country")),
            source=_text(cell.get("source")),
            count=int(cell["count"]),
        )
        for cell in data.get(cells_field) or ()
    )
    return Chunk(
        key=ChunkKey(
            stage=stage,
            segment_id=str(segment_id or ""),
            batch_id=str(data[batch_field]),
            chunk=int(data["chunk"]),
        ),
        event_id=event_id,
        time=time,
        cells=cells,
    )


INT64_MAX = 2**63 - 1


def fits_columns(chunk: Chunk) -> bool:
    """Chunk numbers and counts are unbounded in the contract; the read model keeps 64 bits."""
    return chunk.key.chunk <= INT64_MAX and all(c.count <= INT64_MAX for c in chunk.cells)


def supersedes(candidate: tuple[datetime, str], counted: tuple[datetime, str]) -> bool:
    """Whether an event ``(ce_time, id)`` for a chunk replaces the one counted for it: the
    earliest wins, ties by id, so any arrival order ends with the same event counted."""
    return candidate < counted


@dataclass(frozen=True)
class UniverseFilters:
    """What of the funnel's filters applies to the universe (see ``universe_counts``)."""

    start: datetime | None = None
    end: datetime | None = None
    nace_section: str | None = None
    size_class: str | None = None
    country: str | None = None
    source: str | None = None

    def matches(self, c: UniverseCount) -> bool:
        if self.start is not None and c.time < self.start:
            return False
        if self.end is not None and c.time >= self.end:
            return False
        return all(
            wanted is None or getattr(c, name) == wanted
            for name, wanted in (
                ("nace_section", self.nace_section),
                ("size_class", self.size_class),
                ("country", self.country),
                ("source", self.source),
            )
        )


def universe_counts(
    counts: Iterable[UniverseCount], filters: UniverseFilters, stages: Sequence[str]
) -> dict[str, int]:
    """Companies per stage over the cells that match (unknown cell attributes never match a
    filter on them, as for leads)."""
    totals = dict.fromkeys(stages, 0)
    for c in counts:
        if c.stage in totals and filters.matches(c):
            totals[c.stage] += c.count
    return totals


def _text(value: Any) -> str | None:
    return str(value) if value is not None and str(value) else None
