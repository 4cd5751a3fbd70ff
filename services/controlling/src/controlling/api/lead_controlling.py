"""GET /lead-controlling."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from controlling.api.access import FIGURE_READERS, describe, query_filters, restrict
from controlling.clock import now
from controlling.domain.funnel import Filters, FunnelData, resolve_segments
from controlling.domain.lead_controlling import Figures, compute_lead_controlling
from controlling.readmodels import load_assigned_leads, load_funnel_data
from controlling.schemas import (
    ControllingFiguresOut,
    FirstContactOut,
    LeadControllingOut,
    PipelineValueOut,
    RateOut,
)
from salesflow.auth import Principal, require

router = APIRouter(tags=["lead controlling"])


@router.get(
    "/lead-controlling",
    response_model=LeadControllingOut,
    summary="Lead controlling per rep and team",
    description=(
        "Per rep and per team: leads assigned within the period, time to first contact, "
        "conversion to SQL and to won, open pipeline and capacity use (open leads / configured "
        "capacity) at the end of the period. A sales rep gets only their own row."
    ),
)
async def get_lead_controlling(
    request: Request,
    filters: Filters = Depends(query_filters),
    principal: Principal = Depends(require(*FIGURE_READERS)),
) -> LeadControllingOut:
    filters, forced = restrict(filters, principal, request)
    async with request.app.state.db.session() as session:
        leads = await load_assigned_leads(session)
        data: FunnelData = resolve_segments(await load_funnel_data(session, universe=False))
    settings = request.app.state.settings
    result = compute_lead_controlling(
        leads,
        list(data.opportunities),
        filters,
        capacity_of=settings.capacity_of,
        now=now(request),
    )
    period, applied = describe(filters, forced)
    return LeadControllingOut(
        period=period,
        filters=applied,
        as_of=result.as_of,
        reps=[_out(f, rep=True) for f in result.reps],
        teams=[] if forced else [_out(f, rep=False) for f in result.teams],
    )


def _out(f: Figures, *, rep: bool) -> ControllingFiguresOut:
    return ControllingFiguresOut(
        rep=f.key if rep else None,
        team=f.team,
        assigned_leads=f.assigned,
        time_to_first_contact=FirstContactOut(
            contacted=f.first_contacted,
            median_s=f.first_contact_median_s,
            p90_s=f.first_contact_p90_s,
        ),
        converted_to_sql=RateOut(count=f.sql, rate=f.sql_rate),
        converted_to_won=RateOut(count=f.won, rate=f.won_rate),
        open_leads=f.open_leads,
        capacity=f.capacity,
        capacity_use=f.capacity_use,
        open_pipeline=[PipelineValueOut(**vars(v)) for v in f.open_pipeline.by_currency],
    )
