"""GET /funnel."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from controlling.api.access import FIGURE_READERS, describe, query_filters, restrict
from controlling.clock import now
from controlling.domain.funnel import Filters, FunnelResult, compute_funnel
from controlling.readmodels import load_funnel_data
from controlling.schemas import (
    ConversionOut,
    FunnelOut,
    PipelineOut,
    PipelineValueOut,
    StageOut,
    WinRateOut,
)
from salesflow.auth import Principal, require

router = APIRouter(tags=["funnel"])


@router.get(
    "/funnel",
    response_model=FunnelOut,
    summary="Funnel: stage counts, conversions, times between stages, win rate, pipeline",
    description=(
        "Counts per stage within the period, conversion between consecutive stages (of the "
        "entities that entered a stage in the period, the share that reached the next one), "
        "median and p90 time between stages, win rate and open pipeline per currency. Each "
        "stage says what it counts from. Suspects and prospects are counts per segment cell "
        "(source_channel = the cell's data source); they have no owner or team, so under an "
        "owner or team filter they are null with a reason, and their conversions are ratios "
        "of counts (basis `counts`) without times. Analysts and sales managers see everything; "
        "a sales rep sees only their own figures (owner filter forced)."
    ),
)
async def get_funnel(
    request: Request,
    filters: Filters = Depends(query_filters),
    principal: Principal = Depends(require(*FIGURE_READERS)),
) -> FunnelOut:
    filters, forced = restrict(filters, principal, request)
    async with request.app.state.db.session() as session:
        data = await load_funnel_data(session, filters)
    result = compute_funnel(data, filters, now=now(request))
    period, applied = describe(filters, forced)
    return _out(result, period, applied)


def _out(result: FunnelResult, period, applied) -> FunnelOut:  # type: ignore[no-untyped-def]
    return FunnelOut(
        period=period,
        filters=applied,
        stages=[
            StageOut(stage=s.stage, count=s.count, counted_from=s.counted_from, reason=s.reason)
            for s in result.stages
        ],
        conversions=[ConversionOut(**vars(c)) for c in result.conversions],
        win_rate=WinRateOut(**vars(result.win_rate)),
        pipeline=PipelineOut(
            as_of=result.pipeline.as_of,
            by_currency=[PipelineValueOut(**vars(v)) for v in result.pipeline.by_currency],
            open_without_amount=result.pipeline.open_without_amount,
        ),
    )
