"""Request and response models of the opportunities API (never the table models)."""

from datetime import datetime

from pydantic import BaseModel


class OpportunityOut(BaseModel):
    id: str
    status: str
    owner: str | None
    team: str | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class OpportunityPage(BaseModel):
    items: list[OpportunityOut]
    next_cursor: str | None = None
