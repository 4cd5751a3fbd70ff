"""``/forecast``: weighted pipeline by expected close period, per owner and team, per currency."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlmodel import select

from opportunities.api.access import READERS, SEE_ALL
from opportunities.domain import forecast as rules
from opportunities.domain.stages import OPEN_STAGES
from opportunities.schemas import ForecastLine, ForecastOut, OwnerForecastLine, TeamForecastLine
from opportunities.tables import OpportunityRow
from salesflow.api import Problem
from salesflow.api.fields import CalendarDate
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["forecast"])


@router.get("/forecast", response_model=ForecastOut, summary="Weighted pipeline of open deals")
async def get_forecast(
    request: Request,
    period: Literal["month", "quarter"] = Query("month"),
    close_from: CalendarDate | None = Query(
        None, alias="from", description="Expected close on or after"
    ),
    close_to: CalendarDate | None = Query(
        None, alias="to", description="Expected close on or before"
    ),
    owner: str | None = Query(None, max_length=200),
    team: str | None = Query(None, max_length=100),
    principal: Principal = Depends(require(*READERS)),
) -> ForecastOut:
    if close_from and close_to and close_from > close_to:
        raise Problem(422, "'from' lies after 'to'")
    stmt = visible(
        select(
            OpportunityRow.owner,
            OpportunityRow.team,
            OpportunityRow.currency,
            OpportunityRow.amount,
            OpportunityRow.probability,
            OpportunityRow.expected_close_date,
        ).where(OpportunityRow.stage.in_([s.value for s in OPEN_STAGES])),
        OpportunityRow,
        principal,
        SEE_ALL,
    )
    if owner:
        stmt = stmt.where(OpportunityRow.owner == owner)
    if team:
        stmt = stmt.where(OpportunityRow.team == team)
    if close_from:
        stmt = stmt.where(OpportunityRow.expected_close_date >= close_from)
    if close_to:
        stmt = stmt.where(OpportunityRow.expected_close_date <= close_to)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(stmt)).all()
    deals = [
        rules.Deal(o, t, c, amount, p, close)
        for o, t, c, amount, p, close in rows
        if amount is not None and close is not None
    ]
    result = rules.forecast(deals, period)
    return ForecastOut(
        period=period,
        by_owner=[OwnerForecastLine(owner=line.key, **_line(line)) for line in result.by_owner],
        by_team=[TeamForecastLine(team=line.key, **_line(line)) for line in result.by_team],
        totals=[ForecastLine(**_line(line)) for line in result.totals],
        unscheduled=len(rows) - len(deals),
    )


def _line(line: rules.Line) -> dict:
    return {
        "period": line.period,
        "currency": line.currency,
        "count": line.count,
        "amount": line.amount,
        "weighted": line.weighted,
    }
