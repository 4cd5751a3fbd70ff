"""Response models of the controlling API."""

from datetime import datetime

from pydantic import BaseModel


class JourneyStep(BaseModel):
    event_id: str
    type: str
    source: str
    subject: str
    occurred_at: datetime
    causation_id: str | None
    since_previous_s: float | None


class Journey(BaseModel):
    correlation_id: str
    steps: list[JourneyStep]
