"""Request and response models of the aftersales API (never the table models)."""

from datetime import datetime

from pydantic import BaseModel


class AccountOut(BaseModel):
    id: str
    status: str
    owner: str | None
    team: str | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class AccountPage(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None = None
