"""Figures of one handoff (an event type set on a topic, consumed by one service).

- ``published``: distinct events (by id) of the handoff's types on the topic.
- ``consumed``: those whose first record lies below the consumer group's committed offset of
  its partition; ``in_flight`` the rest. Unknown (None) when the committed offsets could not be
  read — never guessed.
- latency: for each published event that the consumer reacted to, the ``ce_time`` of the
  consumer's first event caused by it minus the event's own ``ce_time``.
- ``lag``: records (of every type) between the group's committed offset and the partition end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from controlling.domain.stats import percentile


@dataclass(frozen=True)
class HandoffDef:
    name: str  # e.g. "offers->orders"
    producer: str
    consumer: str
    topic: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class FirstRecord:
    """Where an event first appeared on the topic (redeliveries come later)."""

    event_id: str
    partition: int
    offset: int


@dataclass(frozen=True)
class HandoffFigures:
    handoff: HandoffDef
    published: int
    consumed: int | None
    in_flight: int | None
    reacted: int
    latency_p50_s: float | None
    latency_p99_s: float | None
    dead_lettered: int
    lag: int | None


def first_records(records: Iterable[tuple[str, int, int]]) -> list[FirstRecord]:
    """``(event_id, partition, offset)`` records -> the first record of each event."""
    first: dict[str, FirstRecord] = {}
    for event_id, partition, offset in records:
        seen = first.get(event_id)
        if seen is None or (partition, offset) < (seen.partition, seen.offset):
            first[event_id] = FirstRecord(event_id, partition, offset)
    return list(first.values())


def consumed_count(published: Iterable[FirstRecord], committed: Mapping[int, int]) -> int:
    """Events whose first record is below the group's committed offset (-1: none committed)."""
    return sum(1 for r in published if r.offset < committed.get(r.partition, -1))


def lag(committed: Mapping[int, int], ends: Mapping[int, int]) -> int:
    """Records between the committed offset and the end, summed over the partitions."""
    return sum(max(0, end - max(committed.get(p, -1), 0)) for p, end in ends.items())


def compute_handoff(
    handoff: HandoffDef,
    published: Sequence[FirstRecord],
    *,
    committed: Mapping[int, int] | None,
    ends: Mapping[int, int] | None,
    latencies_s: Sequence[float],
    dead_lettered: int,
) -> HandoffFigures:
    consumed = consumed_count(published, committed) if committed is not None else None
    return HandoffFigures(
        handoff=handoff,
        published=len(published),
        consumed=consumed,
        in_flight=len(published) - consumed if consumed is not None else None,
        reacted=len(latencies_s),
        latency_p50_s=percentile(latencies_s, 50),
        latency_p99_s=percentile(latencies_s, 99),
        dead_lettered=dead_lettered,
        lag=lag(committed, ends) if committed is not None and ends is not None else None,
    )
