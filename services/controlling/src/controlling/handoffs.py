"""Handoff figures from the event store, the record index and the broker's committed offsets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlling.domain.handoffs import (
    HandoffDef,
    HandoffFigures,
    compute_handoff,
    first_records,
)
from controlling.offsets import (
    Partitions,
    committed_offsets,
    group_id,
    listed_end_offsets,
    partition_ends,
)
from controlling.records import RecordIndexer
from controlling.tables import ControllingRecord, JourneyEvent
from salesflow import registry
from salesflow.contracts.catalog import all_topics, dlq_topic
from salesflow.contracts.events import consumed_types
from salesflow.db import Database
from salesflow.settings import ServiceSettings

# The order first; any further handoff the catalog names follows.
PREFERRED_ORDER = (
    "leads->opportunities",
    "opportunities->offers",
    "offers->opportunities",
    "offers->orders",
    "orders->fulfillment",
    "logistics->fulfillment",
    "fulfillment->orders",
    "fulfillment->aftersales",
    "aftersales->opportunities",
    "aftersales->leads",
)


def handoff_defs() -> list[HandoffDef]:
    """Every (topic, consuming Salesflow service) pair of the catalog, controlling aside."""
    defs = []
    for topic, spec in all_topics().items():
        for consumer in spec.consumers:
            if consumer == "controlling" or consumer not in registry.SERVICES:
                continue
            defs.append(
                HandoffDef(
                    name=f"{spec.producer}->{consumer}",
                    producer=spec.producer,
                    consumer=consumer,
                    topic=topic,
                    types=tuple(consumed_types(topic, consumer)),
                )
            )

    def rank(d: HandoffDef) -> tuple[int, str]:
        order = PREFERRED_ORDER.index(d.name) if d.name in PREFERRED_ORDER else len(PREFERRED_ORDER)
        return order, d.name

    return sorted(defs, key=rank)


@dataclass(frozen=True)
class HandoffReport:
    measured_at: datetime
    figures: list[HandoffFigures]
    groups: dict[str, str]  # consumer service -> consumer group id
    offsets_readable: dict[str, bool]


async def _published(session: AsyncSession, d: HandoffDef) -> list:
    rows = (
        await session.exec(
            select(
                ControllingRecord.event_id, ControllingRecord.partition, ControllingRecord.offset
            )
            .where(ControllingRecord.topic == d.topic)
            .where(ControllingRecord.event_type.in_(d.types))
            .where(ControllingRecord.event_id.is_not(None))
        )
    ).all()
    return first_records((r[0], r[1], r[2]) for r in rows)


async def _latencies(session: AsyncSession, d: HandoffDef) -> list[float]:
    cause = aliased(JourneyEvent)
    effect = aliased(JourneyEvent)
    rows = (
        await session.exec(
            select(cause.event_id, cause.occurred_at, func.min(effect.occurred_at))
            .join(effect, effect.causation_id == cause.event_id)
            .where(cause.topic == d.topic, cause.type.in_(d.types), effect.service == d.consumer)
            .group_by(cause.event_id, cause.occurred_at)
        )
    ).all()
    return [(reaction - caused).total_seconds() for _, caused, reaction in rows]


async def _dead_lettered(session: AsyncSession, d: HandoffDef) -> int:
    """Distinct events the consumer parked from this topic (records without an id count each)."""
    rows = (
        await session.exec(
            select(
                ControllingRecord.event_id, ControllingRecord.partition, ControllingRecord.offset
            )
            .where(ControllingRecord.topic == dlq_topic(d.consumer))
            .where(ControllingRecord.dlq_original_topic == d.topic)
        )
    ).all()
    return len({event_id or f"{partition}:{offset}" for event_id, partition, offset in rows})


async def _last_offsets(session: AsyncSession) -> Partitions:
    rows = (
        await session.exec(
            select(
                ControllingRecord.topic,
                ControllingRecord.partition,
                func.max(ControllingRecord.offset),
            ).group_by(ControllingRecord.topic, ControllingRecord.partition)
        )
    ).all()
    return {(topic, partition): last + 1 for topic, partition, last in rows}


async def measure_handoffs(
    db: Database,
    settings: ServiceSettings,
    *,
    indexer: RecordIndexer | None,
    now: datetime,
) -> HandoffReport:
    defs = handoff_defs()
    topics = {name: spec.partitions for name, spec in all_topics().items()}
    groups = {d.consumer: group_id(settings, d.consumer) for d in defs}
    async with db.session() as session:
        published = {d.name: await _published(session, d) for d in defs}
        latencies = {d.name: await _latencies(session, d) for d in defs}
        dead = {d.name: await _dead_lettered(session, d) for d in defs}
        indexed_ends = await _last_offsets(session)
    committed = await committed_offsets(settings, sorted(set(groups.values())), topics)
    ends = partition_ends(
        await listed_end_offsets(settings, topics),
        indexer.highwater if indexer is not None else {},
        indexed_ends,
    )
    figures = []
    for d in defs:
        group_offsets = committed.get(groups[d.consumer])
        on_topic = (
            {p: off for (t, p), off in group_offsets.items() if t == d.topic}
            if group_offsets is not None
            else None
        )
        topic_ends: dict[int, int] = defaultdict(int)
        for p in range(topics[d.topic]):
            topic_ends[p] = ends.get((d.topic, p), 0)
        figures.append(
            compute_handoff(
                d,
                published[d.name],
                committed=on_topic,
                ends=topic_ends,
                latencies_s=latencies[d.name],
                dead_lettered=dead[d.name],
            )
        )
    return HandoffReport(
        measured_at=now,
        figures=figures,
        groups=groups,
        offsets_readable={g: committed.get(g) is not None for g in sorted(set(groups.values()))},
    )
