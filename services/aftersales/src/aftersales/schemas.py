"""Request and response models of the aftersales API (never the table models)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from aftersales.domain.health import Band
from salesflow.api.fields import CalendarDate, Currency, Email, NonBlank
from salesflow.contracts.events.aftersales import FollowupKind, Severity, TicketStatus
from salesflow.contracts.events.common import CompanySnapshot, Contact
from salesflow.contracts.types import Money

WarrantyStatus = Literal["in_warranty", "out_of_warranty", "unknown"]
Channel = Literal["phone", "email", "portal", "chat", "on_site", "other"]
RefId = Annotated[str, Field(min_length=1, max_length=36)]


ShortText = Annotated[NonBlank, Field(max_length=200)]
Note = Annotated[NonBlank, Field(max_length=5000)]
LongText = Annotated[NonBlank, Field(max_length=20_000)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- accounts ---------------------------------------------------------------------------------


class HealthFactorOut(BaseModel):
    factor: str
    count: int
    points: int
    detail: str


class HealthOut(BaseModel):
    score: int = Field(ge=0, le=100)
    band: Band
    breakdown: list[HealthFactorOut]


class AccountOut(BaseModel):
    id: str
    company_id: str
    name: str
    company: CompanySnapshot
    status: str
    owner: str | None
    team: str | None
    health_score: int
    health_band: Band
    first_order_id: str
    onboarded_at: datetime
    correlation_id: str = Field(description="Journey of the first delivery")
    version: int
    created_at: datetime
    updated_at: datetime


class AccountPage(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None = None


class AssetOut(BaseModel):
    id: str
    kind: Literal["goods", "contract"]
    sku: str
    description: str | None
    serial_number: str | None
    quantity: Decimal
    order_id: str
    order_number: str
    line_no: int
    delivered_on: date
    warranty_end: date | None
    warranty_status: WarrantyStatus
    contract_end: date | None
    renewal_due: bool = Field(description="Warranty or contract ends within the notice period")


class OrderSummary(BaseModel):
    order_id: str
    order_number: str
    status: str
    net: Money | None
    first_seen_at: datetime
    repeat: bool = Field(description="An order after the first one")


class RenewalOut(BaseModel):
    asset_id: str
    kind: Literal["warranty", "contract"]
    due_date: date
    followup_id: str
    raised_at: datetime


class AccountDetail(AccountOut):
    health: HealthOut = Field(description="Computed now, with its breakdown")
    open_tickets: int
    repeat_orders: int
    installed_base: list[AssetOut]
    installed_base_truncated: bool = False
    orders: list[OrderSummary]
    renewals: list[RenewalOut]
    previous_correlation_ids: list[str]


# --- tickets ----------------------------------------------------------------------------------


class TicketIn(Request):
    account_id: RefId
    asset_id: RefId | None = None
    channel: Channel
    severity: Severity
    summary: ShortText | None = Field(None, description="Defaults to the description's start")
    description: LongText


class TransitionIn(Request):
    to: Literal["in_progress", "waiting_customer", "closed"] = Field(
        description="Resolve with POST /tickets/{id}/resolve"
    )
    note: Note | None = None


class ResolveIn(Request):
    resolution: Note


class CommentIn(Request):
    body: LongText
    internal: StrictBool = Field(
        False, description="A note for agents only (not a first response); 403 for integrations"
    )


class SlaOut(BaseModel):
    first_response_target_minutes: int
    resolution_target_minutes: int
    first_response_due: datetime | None = Field(description="None once responded or paused")
    resolution_due: datetime | None = Field(description="None once resolved or paused")
    business_minutes_elapsed: int
    paused: bool
    first_responded_at: datetime | None
    first_response_breached: bool
    resolution_breached: bool
    breached_at: datetime | None


class AssetBrief(BaseModel):
    id: str
    sku: str
    serial_number: str | None
    warranty_end: date | None
    warranty_status: WarrantyStatus
    contract_end: date | None


class TicketOut(BaseModel):
    id: str
    account_id: str
    account_name: str
    asset: AssetBrief | None
    warranty_status: WarrantyStatus
    channel: str
    severity: Severity
    summary: str
    description: str
    status: TicketStatus
    opened_by: str
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    closed_at: datetime | None
    sla: SlaOut
    correlation_id: str
    version: int
    updated_at: datetime


class CommentOut(BaseModel):
    id: str
    author: str
    author_kind: Literal["agent", "customer"]
    internal: bool
    body: str
    created_at: datetime


class ChangeOut(BaseModel):
    from_status: TicketStatus | None
    to_status: TicketStatus
    changed_by: str
    note: str | None
    changed_at: datetime


class TicketDetail(TicketOut):
    comments: list[CommentOut]
    history: list[ChangeOut]


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = None


# --- follow-ups -------------------------------------------------------------------------------


class MoneyIn(Request):
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=4)
    currency: Currency


class ContactIn(Request):
    name: ShortText
    email: Email | None = None
    phone: str | None = Field(None, max_length=40)
    role: str | None = Field(None, max_length=100)


class FollowupIn(Request):
    account_id: RefId
    kind: FollowupKind
    description: Note
    estimated_value: MoneyIn
    expected_close_date: CalendarDate | None = None
    due_date: CalendarDate | None = Field(
        None, description="For renewals: contract or warranty end"
    )
    asset_ids: list[RefId] = Field(default_factory=list, max_length=200)
    ticket_id: RefId | None = None
    contact: ContactIn | None = None


class FollowupOut(BaseModel):
    id: str
    account_id: str
    kind: FollowupKind
    description: str
    estimated_value: Money
    expected_close_date: date | None
    due_date: date | None
    asset_ids: list[str]
    ticket_id: str | None
    contact: Contact | None
    owner: str
    team: str | None
    identified_by: str | None = Field(description="None when raised automatically (renewals)")
    correlation_id: str = Field(description="The new journey this follow-up starts")
    created_at: datetime


class FollowupPage(BaseModel):
    items: list[FollowupOut]
    next_cursor: str | None = None
