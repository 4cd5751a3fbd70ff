"""Events of the opportunities service: topic ``opportunities.opportunity.v1``, key
``opportunity_id``.

Every event carries the full opportunity state (account, contact, owner, team, currency, stage,
amount, probability, expected close, source) so that offers can quote and controlling can report
without calling back.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.events.common import (
    CompanySnapshot,
    Contact,
    Id,
    NeedsAnalysis,
    UserId,
    Version,
)
from salesflow.contracts.types import CurrencyCode, Money, Payload

TOPIC = register_topic(
    TopicSpec(
        name="opportunities.opportunity.v1",
        producer="opportunities",
        partitions=6,
        description="Pipeline of opportunities from opening to won or lost. Key: opportunity_id.",
        consumers=("offers", "controlling"),
    )
)


class OpportunityStage(StrEnum):
    QUALIFICATION = "qualification"
    NEEDS_ANALYSIS = "needs_analysis"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"


class OpportunitySource(StrEnum):
    LEAD = "lead"  # from lead.converted
    FOLLOWUP = "followup"  # from followup.identified (existing customer)
    MANUAL = "manual"  # POST /opportunities by a rep for an existing customer


class OpportunityEvent(Payload):
    """Fields common to every opportunity event: the opportunity's state after the change."""

    opportunity_id: Id
    version: Version
    stage: OpportunityStage = Field(description="Stage after this event")
    account: CompanySnapshot = Field(description="The customer company")
    account_id: Id | None = Field(None, description="After-sales account id (existing customer)")
    contact: Contact | None = Field(None, description="Main contact at the customer")
    owner: UserId
    team: str | None = Field(None, description="Team of the owner")
    currency: CurrencyCode = Field(description="Currency the deal is quoted in")
    amount: Money | None = Field(None, description="Expected deal value")
    probability: int = Field(ge=0, le=100, description="Win probability in percent")
    expected_close_date: date | None = Field(None, description="Expected close date")
    source: OpportunitySource
    lead_id: Id | None = Field(None, description="Lead it was converted from (source `lead`)")
    followup_id: Id | None = Field(None, description="Follow-up it came from (source `followup`)")
    source_channel: str | None = Field(None, description="Lead source channel, if from a lead")
    source_campaign: str | None = Field(None, description="Lead source campaign, if any")
    needs: NeedsAnalysis | None = Field(None, description="Needs analysis (budget, authority …)")
    related_correlation_ids: list[str] = Field(
        default_factory=list, description="Earlier journeys of the same account (follow-ups)"
    )


@register_event("opportunity.opened.v1", TOPIC, "An opportunity was opened.")
class OpportunityOpened(OpportunityEvent):
    opened_by: UserId | None = Field(None, description="User who opened it; none if by an event")


@register_event("opportunity.stage_changed.v1", TOPIC, "The opportunity moved to another stage.")
class OpportunityStageChanged(OpportunityEvent):
    previous_stage: OpportunityStage
    trigger: str = Field(
        description="`manual` or the event type that moved it", examples=["offer.sent.v1"]
    )
    offer_id: Id | None = Field(None, description="Offer whose event moved the stage")
    changed_by: UserId | None = None


@register_event(
    "opportunity.updated.v1",
    TOPIC,
    "The opportunity changed in place (owner, amount, currency, contact, needs, probability or "
    "expected close date); its stage did not move.",
)
class OpportunityUpdated(OpportunityEvent):
    changed_by: UserId | None = Field(None, description="User who changed it")


@register_event("opportunity.won.v1", TOPIC, "The customer accepted an offer.")
class OpportunityWon(OpportunityEvent):
    amount: Money = Field(description="Net total of the accepted offer (excluding tax)")
    offer_id: Id = Field(description="Accepted offer")
    offer_version: int = Field(ge=1, description="Accepted offer version")


@register_event("opportunity.lost.v1", TOPIC, "The opportunity was lost.")
class OpportunityLost(OpportunityEvent):
    previous_stage: OpportunityStage
    lost_reason: str = Field(min_length=1, description="Why it was lost")
    offer_id: Id | None = Field(None, description="Offer whose rejection or expiry lost it")
    lost_by: UserId | None = None
