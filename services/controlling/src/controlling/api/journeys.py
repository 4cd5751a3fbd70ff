"""GET /journeys/{correlation_id}."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlling.api.access import FIGURE_READERS, sees_all
from controlling.domain.journey import (
    Step,
    gaps_seconds,
    handoff_latencies,
    in_journey_order,
    stage_of,
    stage_timeline,
)
from controlling.schemas import (
    HandoffOut,
    Journey,
    JourneyStep,
    RelatedJourney,
    StageSpanOut,
)
from controlling.tables import ControllingJourneyLink, JourneyEvent
from salesflow.api import not_found
from salesflow.auth import Principal, require

router = APIRouter(tags=["journeys"])


def _step(row: JourneyEvent) -> Step:
    return Step(
        event_id=row.event_id,
        type=row.type,
        service=row.service or "",
        occurred_at=row.occurred_at,
        causation_id=row.causation_id,
        data=row.data or {},
    )


@router.get(
    "/journeys/{correlation_id}",
    response_model=Journey,
    summary="One customer journey across all services",
    description=(
        "Every event of the journey in order with its timestamp, the stages it went through and "
        "how long it stayed in each, the latency of each handoff (an event's ce_time minus the "
        "ce_time of the event that caused it, when another service emitted that one), and the "
        "account's earlier and later journeys. A sales rep sees journeys in which they own "
        "something; others answer 404."
    ),
)
async def get_journey(
    request: Request,
    correlation_id: str = Path(min_length=1, max_length=64),
    principal: Principal = Depends(require(*FIGURE_READERS)),
) -> Journey:
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(
                select(JourneyEvent).where(JourneyEvent.correlation_id == correlation_id)
            )
        ).all()
        if not rows or not (sees_all(principal) or any(r.owner == principal.sub for r in rows)):
            raise not_found("journey")
        ordered = in_journey_order(rows)
        steps = [_step(r) for r in ordered]
        causes = {s.event_id: s for s in steps}
        missing = {r.causation_id for r in rows if r.causation_id and r.causation_id not in causes}
        if missing:
            outside = await session.exec(
                select(JourneyEvent).where(JourneyEvent.event_id.in_(missing))
            )
            causes.update({r.event_id: _step(r) for r in outside.all()})
        company_ids = sorted({r.company_id for r in rows if r.company_id})
        earlier, later = await _related(
            session, correlation_id, ordered[0].occurred_at, company_ids
        )
    latencies = handoff_latencies(steps, causes)
    return Journey(
        correlation_id=correlation_id,
        started_at=ordered[0].occurred_at,
        last_event_at=ordered[-1].occurred_at,
        company_ids=company_ids,
        account_ids=sorted({r.account_id for r in rows if r.account_id}),
        steps=[
            JourneyStep(
                event_id=row.event_id,
                type=row.type,
                service=row.service,
                source=row.source,
                subject=row.subject,
                occurred_at=row.occurred_at,
                causation_id=row.causation_id,
                since_previous_s=gap,
                stage=stage_of(step),
                handoff=HandoffOut(**vars(latencies[row.event_id]))
                if row.event_id in latencies
                else None,
            )
            for row, step, gap in zip(ordered, steps, gaps_seconds(ordered), strict=True)
        ],
        stages=[StageSpanOut(**vars(span)) for span in stage_timeline(steps)],
        earlier_journeys=earlier,
        later_journeys=later,
    )


async def _related(
    session: AsyncSession, correlation_id: str, started_at: datetime, company_ids: list[str]
) -> tuple[list[RelatedJourney], list[RelatedJourney]]:
    """Journeys of the same account: named by a follow-up (``link``) or sharing a company
    (``account``); earlier or later by their first event."""
    via: dict[str, set[str]] = defaultdict(set)
    named_earlier = (
        await session.exec(
            select(ControllingJourneyLink.earlier_correlation_id).where(
                ControllingJourneyLink.correlation_id == correlation_id
            )
        )
    ).all()
    named_later = (
        await session.exec(
            select(ControllingJourneyLink.correlation_id).where(
                ControllingJourneyLink.earlier_correlation_id == correlation_id
            )
        )
    ).all()
    for cid in (*named_earlier, *named_later):
        via[cid].add("link")
    if company_ids:
        same_account = await session.exec(
            select(JourneyEvent.correlation_id)
            .where(JourneyEvent.company_id.in_(company_ids))
            .where(JourneyEvent.correlation_id != correlation_id)
            .distinct()
        )
        for cid in same_account.all():
            via[cid].add("account")
    starts: dict[str, datetime] = {}
    if via:
        started = await session.exec(
            select(JourneyEvent.correlation_id, func.min(JourneyEvent.occurred_at))
            .where(JourneyEvent.correlation_id.in_(list(via)))
            .group_by(JourneyEvent.correlation_id)
        )
        starts = {cid: at for cid, at in started.all()}
    earlier: list[RelatedJourney] = []
    later: list[RelatedJourney] = []
    for cid, how in via.items():
        start = starts.get(cid)
        related = RelatedJourney(correlation_id=cid, started_at=start, via=sorted(how))
        # a named earlier journey stays earlier even if none of its events arrived yet
        is_earlier = cid in named_earlier if start is None else start < started_at
        (earlier if is_earlier else later).append(related)
    key = lambda j: (j.started_at is None, j.started_at, j.correlation_id)  # noqa: E731
    return sorted(earlier, key=key), sorted(later, key=key)
