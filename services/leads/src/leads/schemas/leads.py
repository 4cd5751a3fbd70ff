"""Contacts, touchpoints and leads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leads.schemas.companies import CompanyOut
from leads.schemas.config import Channel, Kind
from leads.schemas.types import StrictBool, StrictInt
from salesflow.api.fields import CalendarDate, Country, Currency, Email, NonBlank, Timestamp
from salesflow.contracts.events.leads import LeadStatus

Text100 = Annotated[NonBlank, Field(max_length=100)]
Text200 = Annotated[NonBlank, Field(max_length=200)]
Text2000 = Annotated[NonBlank, Field(max_length=2000)]
Phone = Annotated[NonBlank, Field(max_length=40, pattern=r"^\+?[0-9 ()/.-]{3,40}$")]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_id: StrictInt = Field(ge=1, le=2**62)
    name: Text200
    email: Email | None = None
    phone: Phone | None = None
    role: Text100 | None = None
    consent_email: StrictBool = Field(False, description="May be contacted by e-mail")
    consent_phone: StrictBool = Field(False, description="May be called")
    consent_tracking: StrictBool = Field(False, description="Agreed to engagement tracking")


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200 | None = None
    phone: Phone | None = None
    role: Text100 | None = None
    consent_email: StrictBool | None = None
    consent_phone: StrictBool | None = None
    consent_tracking: StrictBool | None = None


class ContactOut(BaseModel):
    id: str
    company_id: int
    name: str
    email: str | None
    phone: str | None
    role: str | None
    consent_email: bool
    consent_phone: bool
    consent_tracking: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None = None


class CompanyHint(BaseModel):
    """Creates the company when the touchpoint names one the universe does not know."""

    model_config = ConfigDict(extra="forbid")

    name: Text200
    country: Country
    website: Annotated[NonBlank, Field(max_length=300)] | None = None
    postal_code: Annotated[NonBlank, Field(max_length=20)] | None = None
    city: Text200 | None = None


class TouchpointIn(BaseModel):
    """One interaction. Name the company by id, website domain or a contact's e-mail."""

    model_config = ConfigDict(extra="forbid")

    company_id: StrictInt | None = Field(None, ge=1, le=2**62)
    domain: Annotated[NonBlank, Field(max_length=253, examples=["example.com"])] | None = None
    email: Email | None = None
    contact_name: Text200 | None = None
    company: CompanyHint | None = None
    channel: Channel
    kind: Kind
    occurred_at: Timestamp
    campaign: Text200 | None = None
    external_id: Text200 | None = Field(
        None,
        # "" or " " names nothing: it would be one id shared by every touchpoint
        description="The marketing system's id: a repeat is not recorded",
    )

    @model_validator(mode="after")
    def _names_company(self) -> TouchpointIn:
        if self.company_id is None and not self.domain and not self.email and not self.company:
            raise ValueError("give company_id, domain, email or company")
        return self


class TouchpointBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[TouchpointIn] = Field(min_length=1, max_length=1000)


class TouchpointResult(BaseModel):
    touchpoint_id: str
    company_id: int
    company_created: bool
    contact_id: str | None
    lead_id: str | None
    lead_created: bool
    lead_status: LeadStatus | None
    score: Decimal | None
    existing_customer: bool
    duplicate: bool = Field(description="external_id was seen before: nothing recorded")


class TouchpointItemResult(BaseModel):
    index: int
    ok: bool
    result: TouchpointResult | None = None
    error: str | None = None


class TouchpointBatchResult(BaseModel):
    accepted: int
    rejected: int
    items: list[TouchpointItemResult]


class TouchpointOut(BaseModel):
    id: str
    company_id: int
    contact_id: str | None
    lead_id: str | None
    channel: str
    kind: str
    occurred_at: datetime
    campaign: str | None
    external_id: str | None
    existing_customer: bool
    created_interest: bool
    received_at: datetime


class MoneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[Decimal, Field(ge=0, lt=Decimal("1e14"), decimal_places=4)]
    currency: Currency


class NeedsIn(BaseModel):
    """BANT needs analysis."""

    model_config = ConfigDict(extra="forbid")

    budget: MoneyIn | None = None
    authority: Text2000 | None = None
    need: Text2000 | None = None
    timeline: Text2000 | None = None


class LeadContactIn(BaseModel):
    """An existing contact by id, or a new one for the lead's company."""

    model_config = ConfigDict(extra="forbid")

    contact_id: Annotated[NonBlank, Field(max_length=36)] | None = None
    name: Text200 | None = None
    email: Email | None = None
    phone: Phone | None = None
    role: Text100 | None = None

    @model_validator(mode="after")
    def _one_way(self) -> LeadContactIn:
        if (self.contact_id is None) == (self.name is None):
            raise ValueError("give either contact_id or name (for a new contact)")
        return self


class QualifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact: LeadContactIn
    needs: NeedsIn
    first_contact_at: Timestamp


class ConvertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_amount: MoneyIn | None = None
    expected_close_date: CalendarDate | None = None
    contact: LeadContactIn | None = Field(
        None, description="Needed when an existing customer's lead converts without qualifying"
    )
    needs: NeedsIn | None = None


class DisqualifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[NonBlank, Field(max_length=500)]
    recycle: StrictBool = Field(False, description="Back to nurturing instead of closing the lead")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: Text200
    team: Text100 | None = Field(None, description="Defaults to the manager's team")


class LeadOut(BaseModel):
    id: str
    company_id: int
    company_name: str
    status: LeadStatus
    owner: str | None
    team: str | None
    queue: str | None
    score: Decimal
    fit_score: Decimal
    engagement_score: Decimal
    existing_customer: bool
    account_id: str | None
    source_channel: str
    source_kind: str | None
    source_campaign: str | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class LeadPage(BaseModel):
    items: list[LeadOut]
    next_cursor: str | None = None


class LeadDetail(LeadOut):
    company: CompanyOut
    contact: dict[str, Any] | None
    needs: dict[str, Any] | None
    score_breakdown: dict[str, Any] | None
    scoring_model_version: int
    scored_at: datetime | None
    first_contact_at: datetime | None
    qualified_by: str | None
    disqualify_reason: str | None
    expected_amount: Decimal | None
    expected_currency: str | None
    expected_close_date: date | None
    mql_at: datetime | None
    assigned_at: datetime | None
    sql_at: datetime | None
    closed_at: datetime | None
    touchpoints: list[TouchpointOut] = Field(description="The company's latest 50 touchpoints")
