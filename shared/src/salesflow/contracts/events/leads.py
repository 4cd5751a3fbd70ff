"""Events of the leads service (phases 1-3): topic ``leads.lead.v1``, key ``lead_id``; the
company universe on ``leads.import.v1`` (suspects) and ``leads.segment.v1`` (prospects).

Every lead event carries the company snapshot, owner, team and source so that controlling can
slice the funnel (NACE section, size class, country, owner, team, channel) from any one event.
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
    NaceSection,
    NeedsAnalysis,
    SizeClass,
    UserId,
    ValueObject,
    Version,
)
from salesflow.contracts.types import CountryCode, Money, Payload, PlainDecimal, UtcDateTime

TOPIC = register_topic(
    TopicSpec(
        name="leads.lead.v1",
        producer="leads",
        partitions=6,
        description="Lifecycle of leads from first interest to conversion. Key: lead_id.",
        consumers=("opportunities", "controlling"),
    )
)


class LeadStatus(StrEnum):
    UNQUALIFIED = "unqualified"
    MQL = "mql"
    SQL = "sql"
    CONVERTED = "converted"
    DISQUALIFIED = "disqualified"
    NURTURING = "nurturing"


class LeadEvent(Payload):
    """Fields common to every lead event."""

    lead_id: Id
    version: Version
    status: LeadStatus = Field(description="Lead status after this event")
    company: CompanySnapshot
    owner: UserId | None = Field(None, description="Assigned rep, if any")
    team: str | None = Field(None, description="Team of the owner or routing territory")
    source_channel: str = Field(
        description="Channel that produced the lead", examples=["whitepaper_download", "event"]
    )
    source_campaign: str | None = Field(None, description="Campaign of the first touchpoint")
    score: PlainDecimal = Field(
        description="Lead score in points (fit + engagement) after this event"
    )
    existing_customer: bool = Field(False, description="The company is already an account")
    account_id: Id | None = Field(
        None, description="After-sales account id of an existing customer"
    )


@register_event("lead.created.v1", TOPIC, "A prospect showed defined interest: new lead.")
class LeadCreated(LeadEvent):
    touchpoint_id: Id | None = Field(None, description="Touchpoint that created the lead")
    touchpoint_kind: str | None = Field(None, description="Kind of that touchpoint")


@register_event("lead.scored.v1", TOPIC, "The lead's score changed.")
class LeadScored(LeadEvent):
    previous_score: PlainDecimal = Field(description="Score before this change")
    fit_score: PlainDecimal = Field(description="Firmographic part of the score")
    engagement_score: PlainDecimal = Field(description="Engagement part, after decay and caps")
    scoring_model_version: int = Field(ge=1, description="Version of the scoring model used")
    trigger: str = Field(
        description="What caused rescoring", examples=["touchpoint", "decay", "model_change"]
    )
    touchpoint_id: Id | None = Field(None, description="Touchpoint that caused it, if any")


@register_event("lead.mql.v1", TOPIC, "The score crossed the MQL threshold.")
class LeadMql(LeadEvent):
    threshold: PlainDecimal = Field(description="MQL threshold that was crossed")
    scoring_model_version: int = Field(ge=1, description="Version of the scoring model used")


@register_event("lead.assigned.v1", TOPIC, "The lead was routed or reassigned to a rep or queue.")
class LeadAssigned(LeadEvent):
    previous_owner: UserId | None = Field(None, description="Owner before, on reassignment")
    assigned_by: str = Field(description="`routing` or the user id of the manager")
    routing_rule: str | None = Field(None, description="Territory rule that matched")
    queue: str | None = Field(None, description="Fallback queue when every rep was at capacity")


@register_event("lead.sql.v1", TOPIC, "First contact made and needs analysed: sales qualified.")
class LeadSql(LeadEvent):
    contact: Contact
    needs: NeedsAnalysis
    first_contact_at: UtcDateTime | None = Field(None, description="When the rep first reached")
    qualified_by: UserId


@register_event("lead.disqualified.v1", TOPIC, "The lead was disqualified (maybe recycled).")
class LeadDisqualified(LeadEvent):
    reason: str = Field(min_length=1, description="Why the lead was disqualified")
    recycled: bool = Field(False, description="Sent back to nurturing instead of closed")
    disqualified_by: UserId | None = None


@register_event(
    "lead.converted.v1", TOPIC, "The SQL was converted: opportunities opens one opportunity."
)
class LeadConverted(LeadEvent):
    owner: UserId = Field(description="Rep who owns the opportunity to be opened")
    contact: Contact
    needs: NeedsAnalysis
    converted_by: UserId
    expected_amount: Money | None = Field(None, description="Deal size estimate, if known")
    expected_close_date: date | None = Field(None, description="Expected close, if known")


# --- The company universe (phase 1): suspects and prospects -------------------------------------
# Counted, not listed: an import of a million companies must not become a million events. Each
# event carries the counts of one committed chunk, so the figures stay exact when an import or a
# materialization stops half-way and resumes.

IMPORT_TOPIC = register_topic(
    TopicSpec(
        name="leads.import.v1",
        producer="leads",
        partitions=3,
        description="Suspects entering the company universe, counted per segment cell. Key: import_id.",
        consumers=("controlling",),
    )
)

SEGMENT_TOPIC = register_topic(
    TopicSpec(
        name="leads.segment.v1",
        producer="leads",
        partitions=3,
        description="Prospects selected from the universe by a segment, counted per cell. Key: segment_id.",
        consumers=("controlling",),
    )
)


class UniverseCell(ValueObject):
    """Companies of one segment cell (NACE section × size class × country × source)."""

    nace_section: NaceSection | None = Field(None, description="NACE section, if known")
    size_class: SizeClass | None = Field(None, description="EU size class, if known")
    country: CountryCode
    source: str = Field(
        min_length=1, description="Where the company data came from", examples=["dnb", "manual"]
    )
    count: int = Field(ge=1, description="Companies in this cell")


@register_event(
    "companies.imported.v1",
    IMPORT_TOPIC,
    "A chunk of an import committed: companies new to the universe (suspects), counted per cell.",
)
class CompaniesImported(Payload):
    import_id: Id = Field(description="Import job; one event per committed chunk of it")
    chunk: int = Field(ge=1, description="Sequence number of the chunk within the import")
    suspects: list[UniverseCell] = Field(
        description="Companies this chunk added to the universe (updates of known ones excluded)"
    )
    rows_updated: int = Field(0, ge=0, description="Known companies this chunk updated")
    rows_rejected: int = Field(0, ge=0, description="Rows of this chunk that were rejected")


@register_event(
    "prospects.materialized.v1",
    SEGMENT_TOPIC,
    "Suspects matching a segment became prospects, counted per cell (only new matches).",
)
class ProspectsMaterialized(Payload):
    segment_id: Id = Field(description="Segment whose criteria selected the prospects")
    segment_name: str = Field(min_length=1, description="Name of the segment")
    run_id: Id = Field(description="Materialization run; one event per committed chunk of it")
    chunk: int = Field(ge=1, description="Sequence number of the chunk within the run")
    prospects: list[UniverseCell] = Field(description="Companies that became prospects")
