"""Request and response models of the orders API (never the table models)."""

from datetime import datetime

from pydantic import BaseModel


class OrderOut(BaseModel):
    id: str
    status: str
    owner: str | None
    team: str | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = None
