"""Pure rules of the controlling read models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar


class Timed(Protocol):
    event_id: str
    occurred_at: datetime


T = TypeVar("T", bound=Timed)


def in_journey_order(events: Sequence[T]) -> list[T]:
    """Events of one journey by time, ties broken by id so that the order is stable."""
    return sorted(events, key=lambda e: (e.occurred_at, e.event_id))


def gaps_seconds(events: Sequence[Timed]) -> list[float | None]:
    """Seconds since the previous event of the journey (None for the first)."""
    gaps: list[float | None] = []
    for i, event in enumerate(events):
        previous = events[i - 1].occurred_at if i else None
        gaps.append(None if previous is None else (event.occurred_at - previous).total_seconds())
    return gaps
