"""Request and response models of the offers API (never the table models)."""

from datetime import datetime

from pydantic import BaseModel


class OfferOut(BaseModel):
    id: str
    status: str
    owner: str | None
    team: str | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class OfferPage(BaseModel):
    items: list[OfferOut]
    next_cursor: str | None = None
