"""Chunk events of the company universe: what a chunk carries and which event counts for it."""

import itertools
from datetime import UTC, datetime, timedelta

from controlling.domain.universe import (
    INT64_MAX,
    Cell,
    ChunkKey,
    UniverseCount,
    UniverseFilters,
    chunk_of,
    fits_columns,
    supersedes,
    universe_counts,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_chunk_of_an_import_and_of_a_materialization() -> None:
    imported = chunk_of(
        "companies.imported.v1",
        "e1",
        T0,
        {
            "import_id": "imp-1",
            "chunk": 3,
            "suspects": [
                {"nace_section": "C", "size_class": "small", "country": "DE", "source": "dnb", "count": 7},
                {"nace_section": None, "size_class": None, "country": "AT", "source": "manual", "count": 2},
            ],
            "rows_updated": 5,
        },
    )  # fmt: skip
    assert imported.key == ChunkKey("suspects", "", "imp-1", 3)
    assert imported.cells == (
        Cell("C", "small", "DE", "dnb", 7),
        Cell(None, None, "AT", "manual", 2),
    )
    materialized = chunk_of(
        "prospects.materialized.v1",
        "e2",
        T0,
        {
            "segment_id": "seg-1",
            "segment_name": "Machinery",
            "run_id": "run-1",
            "chunk": 1,
            "prospects": [],
        },
    )
    assert materialized.key == ChunkKey("prospects", "seg-1", "run-1", 1)
    assert materialized.cells == ()
    assert fits_columns(imported) and fits_columns(materialized)
    huge = chunk_of(
        "companies.imported.v1",
        "e3",
        T0,
        {"import_id": "i", "chunk": INT64_MAX + 1, "suspects": []},
    )
    assert not fits_columns(huge)


def test_the_earliest_event_of_a_chunk_counts_whatever_the_arrival_order() -> None:
    events = [(T0 + timedelta(hours=1), "b"), (T0, "z"), (T0, "a"), (T0 + timedelta(hours=2), "c")]
    for order in itertools.permutations(events):
        counted = order[0]
        for candidate in order[1:]:
            if supersedes(candidate, counted):
                counted = candidate
        assert counted == (T0, "a")
    assert not supersedes((T0, "a"), (T0, "a"))


def test_universe_counts_filter_by_period_and_cell() -> None:
    counts = [
        UniverseCount("suspects", T0, "C", "small", "DE", "dnb", 5),
        UniverseCount("suspects", T0 + timedelta(hours=1), None, None, "DE", "dnb", 3),
        UniverseCount("prospects", T0 + timedelta(hours=1), "C", "small", "DE", "dnb", 2),
    ]
    stages = ("suspects", "prospects")
    assert universe_counts(counts, UniverseFilters(), stages) == {"suspects": 8, "prospects": 2}
    assert universe_counts(counts, UniverseFilters(nace_section="C"), stages) == {
        "suspects": 5,
        "prospects": 2,
    }
    in_hour = UniverseFilters(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))
    assert universe_counts(counts, in_hour, stages) == {"suspects": 3, "prospects": 2}
    before = UniverseFilters(end=T0 + timedelta(hours=1))  # end exclusive
    assert universe_counts(counts, before, stages) == {"suspects": 5, "prospects": 0}
    assert universe_counts(counts, UniverseFilters(source="manual"), stages) == {
        "suspects": 0,
        "prospects": 0,
    }
