"""One customer journey: its events in order, the stages it went through and how long each
handoff between services took (from ``ce_causationid``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar


class Timed(Protocol):
    event_id: str
    occurred_at: datetime


T = TypeVar("T", bound=Timed)


@dataclass(frozen=True)
class Step:
    """What the journey needs of one stored event."""

    event_id: str
    type: str
    service: str
    occurred_at: datetime
    causation_id: str | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class StageSpan:
    stage: str
    entered_at: datetime
    left_at: datetime | None  # None: the journey is still in this stage
    duration_s: float | None
    event_id: str  # the event that entered the stage


@dataclass(frozen=True)
class HandoffLatency:
    cause_id: str
    from_service: str
    to_service: str
    latency_s: float
    first_reaction: bool  # the consumer's first event because of that cause


# Event type -> the stage it enters (names as in the funnel, plus the journey's ends).
STAGE_OF: dict[str, str] = {
    "followup.identified.v1": "followup",
    "lead.created.v1": "leads",
    "lead.mql.v1": "mql",
    "lead.sql.v1": "sql",
    "lead.disqualified.v1": "disqualified",
    "opportunity.opened.v1": "opportunities",
    "offer.sent.v1": "offers_sent",
    "opportunity.lost.v1": "lost",
    "opportunity.won.v1": "won",
    "order.confirmed.v1": "orders",
    "order.rejected.v1": "order_rejected",
    "order.cancelled.v1": "order_cancelled",
    "fulfillment.completed.v1": "delivered",
    "order.completed.v1": "delivered",
    "account.onboarded.v1": "customer",
}


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


def stage_of(step: Step) -> str | None:
    if step.type == "shipment.delivered.v1":
        return "delivered" if step.data.get("order_delivery") == "delivered" else None
    return STAGE_OF.get(step.type)


def stage_timeline(ordered: Sequence[Step]) -> list[StageSpan]:
    """Stages in the order the journey entered them; a stage is entered once (its first
    event), later events of an earlier stage (a revised offer sent again) do not go back."""
    entries: list[tuple[str, Step]] = []
    seen: set[str] = set()
    for step in ordered:
        stage = stage_of(step)
        if stage is None or stage in seen:
            continue
        seen.add(stage)
        entries.append((stage, step))
    spans = []
    for i, (stage, step) in enumerate(entries):
        left = entries[i + 1][1].occurred_at if i + 1 < len(entries) else None
        spans.append(
            StageSpan(
                stage=stage,
                entered_at=step.occurred_at,
                left_at=left,
                duration_s=(left - step.occurred_at).total_seconds() if left else None,
                event_id=step.event_id,
            )
        )
    return spans


def handoff_latencies(
    ordered: Sequence[Step], causes: Mapping[str, Step]
) -> dict[str, HandoffLatency]:
    """For each event caused by an event of another service: the handoff and its latency
    (``ce_time`` of the reaction minus ``ce_time`` of the cause). ``first_reaction`` marks the
    consumer's earliest event for that cause — the one the handoff figures measure."""
    first: dict[tuple[str, str], str] = {}
    for step in in_journey_order(ordered):
        cause = causes.get(step.causation_id or "")
        if cause is None or cause.service == step.service:
            continue
        first.setdefault((cause.event_id, step.service), step.event_id)
    result: dict[str, HandoffLatency] = {}
    for step in ordered:
        cause = causes.get(step.causation_id or "")
        if cause is None or cause.service == step.service:
            continue
        result[step.event_id] = HandoffLatency(
            cause_id=cause.event_id,
            from_service=cause.service,
            to_service=step.service,
            latency_s=(step.occurred_at - cause.occurred_at).total_seconds(),
            first_reaction=first[(cause.event_id, step.service)] == step.event_id,
        )
    return result
