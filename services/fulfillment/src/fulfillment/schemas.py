"""Request and response models of the fulfillment API (never the table models)."""

from datetime import datetime

from pydantic import BaseModel


class FulfillmentOut(BaseModel):
    id: str
    status: str
    owner: str | None
    team: str | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class FulfillmentPage(BaseModel):
    items: list[FulfillmentOut]
    next_cursor: str | None = None
