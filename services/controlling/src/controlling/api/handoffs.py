"""GET /handoffs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from controlling.api.access import SEE_ALL
from controlling.clock import now
from controlling.handoffs import measure_handoffs
from controlling.metrics import indexer_of, publish
from controlling.schemas import HandoffFiguresOut, HandoffsOut
from salesflow.auth import Principal, require

router = APIRouter(tags=["handoffs"])

NOTES = [
    "published: distinct events (by ce_id) of the handoff's types that controlling indexed on "
    "the topic; redeliveries count once.",
    "consumed / in_flight: events whose first record lies below / at or above the consumer "
    "group's committed offset; null when the broker did not give the group's offsets.",
    "latency: ce_time of the consumer's first event with ce_causationid = the incoming event, "
    "minus the incoming event's ce_time; events without a reaction (read models) have none.",
    "lag: records (all types) between the group's committed offset and the partition end; "
    "the end is the largest of ListOffsets, the fetch high watermark and the last indexed "
    "offset + 1, since the embedded broker's ListOffsets is wrong.",
    "dead_lettered: distinct events on <consumer>.dlq whose dlq_original_topic is the topic.",
]


@router.get(
    "/handoffs",
    response_model=HandoffsOut,
    summary="Per handoff: published, consumed, in flight, latency, dead letters, lag",
    description="Measured from the events and the consumer groups' committed offsets; "
    "also exported as Prometheus gauges on /metrics (label `handoff`).",
)
async def get_handoffs(
    request: Request, principal: Principal = Depends(require(*SEE_ALL))
) -> HandoffsOut:
    ctx = request.app.state.ctx
    report = await measure_handoffs(ctx.db, ctx.settings, indexer=indexer_of(ctx), now=now(request))
    publish(report.figures)
    return HandoffsOut(
        measured_at=report.measured_at,
        handoffs=[
            HandoffFiguresOut(
                handoff=f.handoff.name,
                producer=f.handoff.producer,
                consumer=f.handoff.consumer,
                topic=f.handoff.topic,
                event_types=list(f.handoff.types),
                consumer_group=report.groups[f.handoff.consumer],
                published=f.published,
                consumed=f.consumed,
                in_flight=f.in_flight,
                reacted=f.reacted,
                latency_p50_s=f.latency_p50_s,
                latency_p99_s=f.latency_p99_s,
                dead_lettered=f.dead_lettered,
                lag=f.lag,
            )
            for f in report.figures
        ],
        notes=NOTES,
    )
