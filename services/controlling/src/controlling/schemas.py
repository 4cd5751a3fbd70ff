"""Response models of the controlling API (money as decimal strings, durations in seconds)."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class Period(BaseModel):
    from_: datetime | None = Field(None, alias="from", serialization_alias="from")
    to: datetime | None = None

    model_config = {"populate_by_name": True}


class AppliedFilters(BaseModel):
    nace_section: str | None = None
    size_class: str | None = None
    country: str | None = None
    owner: str | None = None
    team: str | None = None
    source_channel: str | None = None
    owner_forced: bool = Field(False, description="A sales rep sees only their own figures")


class StageOut(BaseModel):
    stage: str
    count: int | None = Field(description="None: not countable under these filters (see reason)")
    counted_from: str
    reason: str | None = Field(None, description="Why count is None")


class ConversionOut(BaseModel):
    from_stage: str
    to_stage: str
    base: int | None = Field(description="Entities that entered from_stage within the period")
    converted: int | None = Field(description="… of which reached to_stage")
    rate: float | None = Field(description="converted / base, four decimals")
    median_s: float | None = Field(description="Median time between the stages (seconds)")
    p90_s: float | None = Field(description="90th percentile time between the stages (seconds)")
    linked_by: str
    basis: str = Field(
        "entities",
        description="`entities`: the same entities followed from stage to stage; `counts`: "
        "the ratio of the two stages' counts in the period and slice (suspects, prospects)",
    )
    reason: str | None = Field(None, description="Why figures of this row are None")


class WinRateOut(BaseModel):
    won: int
    lost: int
    rate: float | None = Field(description="won / (won + lost), closed within the period")


class PipelineValueOut(BaseModel):
    currency: str
    open_opportunities: int
    value: Decimal
    weighted: Decimal = Field(description="Σ amount × probability / 100")


class PipelineOut(BaseModel):
    as_of: datetime
    by_currency: list[PipelineValueOut]
    open_without_amount: int


class FunnelOut(BaseModel):
    period: Period
    filters: AppliedFilters
    stages: list[StageOut]
    conversions: list[ConversionOut]
    win_rate: WinRateOut
    pipeline: PipelineOut


class RateOut(BaseModel):
    count: int
    rate: float | None


class FirstContactOut(BaseModel):
    contacted: int
    median_s: float | None
    p90_s: float | None


class ControllingFiguresOut(BaseModel):
    rep: str | None = None
    team: str | None
    assigned_leads: int
    time_to_first_contact: FirstContactOut
    converted_to_sql: RateOut
    converted_to_won: RateOut
    open_leads: int
    capacity: int = Field(description="Open leads the rep (team: its reps) can work")
    capacity_use: float | None = Field(description="open_leads / capacity")
    open_pipeline: list[PipelineValueOut]


class LeadControllingOut(BaseModel):
    period: Period
    filters: AppliedFilters
    as_of: datetime
    reps: list[ControllingFiguresOut]
    teams: list[ControllingFiguresOut]


class HandoffOut(BaseModel):
    cause_id: str
    from_service: str
    to_service: str
    latency_s: float
    first_reaction: bool


class JourneyStep(BaseModel):
    event_id: str
    type: str
    service: str | None
    source: str
    subject: str
    occurred_at: datetime
    causation_id: str | None
    since_previous_s: float | None
    stage: str | None = Field(None, description="The stage this event entered, if any")
    handoff: HandoffOut | None = Field(None, description="Set when caused by another service")


class StageSpanOut(BaseModel):
    stage: str
    entered_at: datetime
    left_at: datetime | None
    duration_s: float | None
    event_id: str


class RelatedJourney(BaseModel):
    correlation_id: str
    started_at: datetime | None
    via: list[str] = Field(description="`link` (named by a follow-up) and/or `account`")


class Journey(BaseModel):
    correlation_id: str
    started_at: datetime
    last_event_at: datetime
    company_ids: list[str]
    account_ids: list[str]
    steps: list[JourneyStep]
    stages: list[StageSpanOut]
    earlier_journeys: list[RelatedJourney]
    later_journeys: list[RelatedJourney]


class HandoffFiguresOut(BaseModel):
    handoff: str
    producer: str
    consumer: str
    topic: str
    event_types: list[str]
    consumer_group: str
    published: int
    consumed: int | None
    in_flight: int | None
    reacted: int = Field(description="Published events the consumer emitted an event for")
    latency_p50_s: float | None
    latency_p99_s: float | None
    dead_lettered: int
    lag: int | None = Field(description="Records behind the partition ends (all event types)")


class HandoffsOut(BaseModel):
    measured_at: datetime
    handoffs: list[HandoffFiguresOut]
    notes: list[str]
