"""Request and response models of the opportunities API (never the table models)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from salesflow.api.fields import CalendarDate, Country, Currency, Email, Timestamp
from salesflow.contracts.events.common import (
    CompanySnapshot,
    Contact,
    NaceCode,
    NaceSection,
    NeedsAnalysis,
    SizeClass,
)
from salesflow.contracts.events.opportunities import OpportunitySource, OpportunityStage
from salesflow.contracts.types import Money

Text = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
UserRef = Annotated[str, Field(min_length=1, max_length=128, description="User id (JWT sub)")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyIn(Input):
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=4, examples=["50000.00"])
    currency: Currency


class ContactIn(Input):
    name: Text
    email: Email | None = None
    phone: str | None = Field(None, max_length=40)
    role: str | None = Field(None, max_length=100)


class AccountIn(Input):
    """The customer company as known to the rep (an existing customer's snapshot)."""

    company_id: UserRef = Field(description="Company id in the leads service's universe")
    name: Text
    country: Country
    region: str | None = Field(None, max_length=10)
    postal_code: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    nace: NaceCode | None = None
    nace_section: NaceSection | None = None
    employees: int | None = Field(None, ge=0, le=10_000_000)
    size_class: SizeClass | None = None
    duns: str | None = Field(None, pattern=r"^\d{9}$")
    vat_id: str | None = Field(None, max_length=20)
    website: str | None = Field(None, max_length=300)


class NeedsIn(Input):
    """BANT: budget, authority, need, timeline."""

    budget: MoneyIn | None = None
    authority: str | None = Field(None, max_length=1000)
    need: str | None = Field(None, max_length=2000)
    timeline: str | None = Field(None, max_length=200)


class OpportunityCreate(Input):
    """A rep opens an opportunity for an existing customer (phases 1-2 skipped)."""

    account_id: UserRef = Field(description="After-sales account id of the existing customer")
    account: AccountIn
    contact: ContactIn | None = None
    owner: UserRef | None = Field(
        None, description="Defaults to the caller; managers may name a rep"
    )
    team: str | None = Field(None, max_length=100, description="Defaults to the caller's team")
    amount: MoneyIn | None = None
    currency: Currency | None = Field(None, description="Deal currency when no amount is known")
    probability: StrictInt | None = Field(
        None, ge=0, le=100, description="Overrides the stage default"
    )
    expected_close_date: CalendarDate | None = None
    next_step: str | None = Field(None, max_length=500)
    next_step_date: CalendarDate | None = None
    needs: NeedsIn | None = None
    previous_correlation_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50, description="Earlier journeys of this account"
    )

    @model_validator(mode="after")
    def _one_currency(self) -> OpportunityCreate:
        if self.amount and self.currency and self.amount.currency != self.currency:
            raise ValueError("currency differs from the amount's currency")
        return self


class OpenStage(StrEnum):
    QUALIFICATION = "qualification"
    NEEDS_ANALYSIS = "needs_analysis"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"


class OpportunityPatch(Input):
    """Fields to change; a field sent as null is cleared (``probability: null`` returns to the
    stage default). Won comes from an accepted offer, lost from ``/lose``."""

    stage: OpenStage | None = None
    owner: UserRef | None = None
    amount: MoneyIn | None = None
    probability: StrictInt | None = Field(None, ge=0, le=100)
    expected_close_date: CalendarDate | None = None
    next_step: str | None = Field(None, max_length=500)
    next_step_date: CalendarDate | None = None
    needs: NeedsIn | None = None
    contact: ContactIn | None = None

    @model_validator(mode="after")
    def _not_null(self) -> OpportunityPatch:
        for name in ("stage", "owner"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class LoseIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ActivityKind(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    NOTE = "note"


class ActivityIn(Input):
    kind: ActivityKind
    subject: Text
    notes: str | None = Field(None, max_length=5000)
    occurred_at: Timestamp | None = Field(None, description="When it happened; default now")
    next_step: str | None = Field(None, max_length=500, description="Becomes the deal's next step")
    next_step_date: CalendarDate | None = Field(None, description="When the next step is due")


# --- responses ------------------------------------------------------------------------------


class OpportunityOut(BaseModel):
    id: str
    stage: OpportunityStage
    owner: str
    team: str | None
    source: OpportunitySource
    account_id: str | None
    account: CompanySnapshot
    contact: Contact | None
    currency: str
    amount: Money | None
    probability: int
    probability_is_default: bool
    expected_close_date: date | None
    next_step: str | None
    next_step_date: date | None
    needs: NeedsAnalysis | None
    lost_reason: str | None
    won_offer_id: str | None
    won_offer_version: int | None
    lead_id: str | None
    followup_id: str | None
    source_channel: str | None
    source_campaign: str | None
    opened_by: str | None
    correlation_id: str
    related_correlation_ids: list[str]
    stale: bool = Field(description="Open with no activity for the configured number of days")
    last_activity_at: datetime
    stage_entered_at: datetime
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class StageSpanOut(BaseModel):
    stage: OpportunityStage
    entered_at: datetime
    left_at: datetime | None
    seconds: int = Field(description="Time in this stage (until now while it is current)")
    trigger: str = Field(description="`manual`, `opened:<source>` or the offer event type")
    changed_by: str | None
    offer_id: str | None


class OfferSeenOut(BaseModel):
    offer_id: str
    offer_version: int
    status: str
    open: bool
    net: Money


class OpportunityDetail(OpportunityOut):
    stage_history: list[StageSpanOut]
    time_in_stage: dict[str, int] = Field(description="Seconds per open stage, all visits summed")
    offers: list[OfferSeenOut] = Field(description="Offers known from offer events")


class OpportunityPage(BaseModel):
    items: list[OpportunityOut]
    next_cursor: str | None = None


class ActivityOut(BaseModel):
    id: str
    opportunity_id: str
    kind: ActivityKind
    subject: str
    notes: str | None
    occurred_at: datetime
    next_step: str | None
    next_step_date: date | None
    created_by: str
    created_at: datetime


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None = None


class ForecastLine(BaseModel):
    period: str = Field(examples=["2026-03", "2026-Q1"])
    currency: str
    count: int
    amount: Decimal = Field(description="Sum of amounts")
    weighted: Decimal = Field(description="Sum of amount × probability")


class OwnerForecastLine(ForecastLine):
    owner: str


class TeamForecastLine(ForecastLine):
    team: str | None


class ForecastOut(BaseModel):
    period: Literal["month", "quarter"]
    by_owner: list[OwnerForecastLine]
    by_team: list[TeamForecastLine]
    totals: list[ForecastLine]
    unscheduled: int = Field(
        description="Open opportunities left out for lack of an amount or expected close date"
    )
