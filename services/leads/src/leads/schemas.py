"""Request and response models of the leads API (never the table models)."""

from datetime import datetime

from pydantic import BaseModel


class LeadOut(BaseModel):
    id: str
    status: str
    owner: str | None
    team: str | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class LeadPage(BaseModel):
    items: list[LeadOut]
    next_cursor: str | None = None
