"""Time-based facts: stale deals and the time spent in each stage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from opportunities.domain.stages import Stage, is_final


def is_stale(stage: Stage, last_activity_at: datetime, now: datetime, after: timedelta) -> bool:
    """An open deal with no activity for ``after`` is stale; closed deals never are."""
    return not is_final(stage) and now - last_activity_at >= after


@dataclass(frozen=True)
class Span:
    stage: Stage
    entered_at: datetime
    left_at: datetime | None


def seconds_in(span: Span, now: datetime) -> int:
    """Seconds spent in the span's stage; a final stage is where the deal ended: 0."""
    if is_final(span.stage):
        return 0
    end = span.left_at or now
    return max(0, int((end - span.entered_at).total_seconds()))


def time_in_stages(spans: Iterable[Span], now: datetime) -> dict[str, int]:
    """Seconds per stage, summed over every visit (a deal may come back to a stage)."""
    totals: dict[str, int] = {}
    for span in spans:
        if is_final(span.stage):
            continue
        totals[span.stage.value] = totals.get(span.stage.value, 0) + seconds_in(span, now)
    return totals
