"""NACE, companies, imports, segments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from leads.domain.companies import CompanyStatus
from leads.schemas.types import StrictInt
from salesflow.api.fields import Country, Currency, NonBlank
from salesflow.contracts.events.common import SizeClass

NaceRevision = Literal["2.1", "2"]
NaceCodeText = Annotated[str, Field(min_length=1, max_length=12, examples=["J", "62", "62.10"])]
NutsCode = Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9A-Z]{0,3}$", examples=["DE2", "DE212"])]


class NaceRef(BaseModel):
    code: str
    title: str
    level: int = Field(description="1 section, 2 division, 3 group, 4 class")
    level_name: str


class NaceOut(NaceRef):
    revision: NaceRevision
    section: str
    parent: NaceRef | None
    ancestors: list[NaceRef] = Field(description="From the section down to the parent")
    children: list[NaceRef]


class NaceSearch(BaseModel):
    revision: NaceRevision
    counts: dict[str, int] = Field(description="Codes per level in this revision")
    items: list[NaceRef]


class CompanyOut(BaseModel):
    id: int
    name: str
    country: str
    region: str | None
    postal_code: str | None
    city: str | None
    nace: str | None
    nace_rev: str | None
    nace_section: str | None
    employees: int | None
    size_class: SizeClass | None
    revenue: Decimal | None
    revenue_currency: str | None
    duns: str | None
    vat_id: str | None
    website: str | None
    domain: str | None
    source: str
    status: CompanyStatus
    account_id: str | None
    created_at: datetime
    updated_at: datetime


class CompanyPage(BaseModel):
    items: list[CompanyOut]
    next_cursor: str | None = None


class RejectedRow(BaseModel):
    line: int = Field(description="Physical line in the file (the header is line 1)")
    reason: str


class ImportResult(BaseModel):
    import_id: int
    rows: int = Field(description="Data rows read (blank lines not counted)")
    accepted: int = Field(description="New companies")
    updated: int = Field(description="Known companies updated (by D-U-N-S, VAT id or name key)")
    rejected: int
    blank_lines: int
    delimiter: str
    columns: dict[str, str] = Field(description="File column → field it was read as")
    ignored_columns: list[str]
    rejected_rows: list[RejectedRow]
    rejected_rows_truncated: bool = Field(
        description="More rows were rejected than listed (the counts are complete)"
    )
    seconds: float


class ImportOut(BaseModel):
    id: int
    created_by: str
    status: Literal["running", "completed", "failed"]
    source: str
    nace_revision: str
    rows: int
    accepted: int
    updated: int
    rejected: int
    started_at: datetime
    finished_at: datetime | None


class CriteriaIn(BaseModel):
    """Who belongs to a segment (every given criterion must hold)."""

    model_config = ConfigDict(extra="forbid")

    nace: list[NaceCodeText] = Field(
        default_factory=list,
        max_length=100,
        description="NACE codes at any level; a section or division matches every code below",
    )
    nace_revision: NaceRevision = "2.1"
    size_classes: list[SizeClass] = Field(default_factory=list, max_length=4)
    employees_min: StrictInt | None = Field(None, ge=0, le=10_000_000)
    employees_max: StrictInt | None = Field(None, ge=0, le=10_000_000)
    revenue_min: Decimal | None = Field(None, ge=0, lt=Decimal("1e14"), decimal_places=4)
    revenue_max: Decimal | None = Field(None, ge=0, lt=Decimal("1e14"), decimal_places=4)
    revenue_currency: Currency | None = None
    countries: list[Country] = Field(default_factory=list, max_length=300)
    regions: list[NutsCode] = Field(default_factory=list, max_length=500)
    statuses: list[CompanyStatus] = Field(default_factory=list, max_length=4)


class CriteriaOut(BaseModel):
    nace: list[str]
    nace_revision: NaceRevision
    size_classes: list[SizeClass]
    employees_min: int | None
    employees_max: int | None
    revenue_min: Decimal | None
    revenue_max: Decimal | None
    revenue_currency: str | None
    countries: list[str]
    regions: list[str]
    statuses: list[CompanyStatus]


class CountOut(BaseModel):
    count: int
    milliseconds: float = Field(description="Time the count took in the database")


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[NonBlank, Field(max_length=200)]
    criteria: CriteriaIn


class SegmentOut(BaseModel):
    id: str
    name: str
    criteria: CriteriaOut
    count: int = Field(description="Companies matching now")
    members: int = Field(description="Companies added by materializing")
    materialized_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class SegmentPage(BaseModel):
    items: list[SegmentOut]
    next_cursor: str | None = None


class MaterializeOut(BaseModel):
    segment_id: str
    matched: int = Field(description="Companies matching the criteria now")
    added: int = Field(description="Matches that were not members before")
    promoted: int = Field(description="Suspects among them that became prospects")
    members: int
    materialized_at: datetime
    run_id: str | None = Field(None, description="This run (prospects.materialized carries it)")
    chunks: int = Field(0, description="Chunks of this run that promoted suspects (one event each)")
