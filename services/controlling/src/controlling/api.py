"""HTTP API of the controlling service."""

from fastapi import APIRouter, Depends, Path, Request
from sqlmodel import select

from controlling.domain import gaps_seconds, in_journey_order
from controlling.schemas import Journey, JourneyStep
from controlling.tables import JourneyEvent
from salesflow.api import not_found
from salesflow.auth import Principal, require

router = APIRouter(tags=["journeys"])
READERS = ("analyst", "sales_manager")


@router.get("/journeys/{correlation_id}", response_model=Journey, summary="One customer journey")
async def get_journey(
    request: Request,
    correlation_id: str = Path(max_length=64),
    principal: Principal = Depends(require(*READERS)),
) -> Journey:
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(
                select(JourneyEvent).where(JourneyEvent.correlation_id == correlation_id)
            )
        ).all()
    if not rows:
        raise not_found("journey")
    ordered = in_journey_order(rows)
    return Journey(
        correlation_id=correlation_id,
        steps=[
            JourneyStep(
                event_id=e.event_id,
                type=e.type,
                source=e.source,
                subject=e.subject,
                occurred_at=e.occurred_at,
                causation_id=e.causation_id,
                since_previous_s=gap,
            )
            for e, gap in zip(ordered, gaps_seconds(ordered), strict=True)
        ],
    )
