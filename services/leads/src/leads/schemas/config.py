"""Versioned configuration: scoring model, routing rules, interest definition."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from leads.domain.interest import CHANNELS
from leads.reference import countries, nace_table
from leads.schemas.companies import NaceRevision, NutsCode
from leads.schemas.types import StrictInt
from salesflow.api.fields import Country
from salesflow.contracts.events.common import SizeClass

Points = Annotated[Decimal, Field(ge=-1000, le=1000, decimal_places=2)]
PositivePoints = Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=2)]
Kind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,49}$", examples=["whitepaper_download"])]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]
# Blank names are refused on input (see ``_NameCheck``), not by the type: stored versions are
# validated again when read, and one stored before that check must still load.
Name = Annotated[str, Field(max_length=100, json_schema_extra={"minLength": 1})]
UserId = Annotated[str, Field(max_length=200, json_schema_extra={"minLength": 1})]

STORED: dict[str, Any] = {"stored": True}
"""Validation context of a configuration read back from the database: names as they were."""


class _NameCheck(BaseModel):
    """Input (a PUT body) has its names stripped and refuses blank ones; a stored version read
    with the ``STORED`` context, and the ``…Out`` answers, keep them as they are."""

    check_names: ClassVar[bool] = True

    def _checks_names(self, info: ValidationInfo) -> bool:
        return self.check_names and not (info.context or {}).get("stored")


def _name(value: str, where: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError(f"{where} must not be blank")
    return stripped


def _nace_codes(codes: list[str], revision: str) -> list[str]:
    table = nace_table(revision)
    result = []
    for raw in codes:
        found = table.get(raw)
        if found is None:
            raise ValueError(f"unknown NACE Rev. {revision} code {raw!r}")
        result.append(found.code)
    return result


def _countries(codes: list[str]) -> None:
    unknown = sorted(set(codes) - countries())
    if unknown:
        raise ValueError(f"unknown countries {unknown}")


class FitRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal["nace", "size_class", "country", "region"]
    value: str = Field(
        max_length=12, json_schema_extra={"minLength": 1}, examples=["K", "medium", "DE", "DE2"]
    )
    points: Points


class KindPointsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: PositivePoints
    cap: PositivePoints | None = Field(None, description="Most a kind adds after decay")


class ScoringModelIn(_NameCheck):
    """Fit rules add points when a company matches; engagement points per touchpoint kind decay
    with the half-life; caps bound each part."""

    model_config = ConfigDict(extra="forbid")

    mql_threshold: Annotated[Decimal, Field(gt=0, le=100_000, decimal_places=2)]
    nace_revision: NaceRevision = "2.1"
    fit_rules: list[FitRuleIn] = Field(default_factory=list, max_length=500)
    fit_cap: PositivePoints | None = None
    engagement: dict[Kind, KindPointsIn] = Field(default_factory=dict, max_length=100)
    default_points: PositivePoints = Field(
        Decimal(0), description="Points of touchpoint kinds not listed"
    )
    half_life_days: Annotated[Decimal, Field(gt=0, le=3650, decimal_places=2)] | None = Decimal(30)
    engagement_cap: PositivePoints | None = None

    @model_validator(mode="after")
    def _values_exist(self, info: ValidationInfo) -> ScoringModelIn:
        for i, rule in enumerate(self.fit_rules):
            if self._checks_names(info):
                rule.value = _name(rule.value, f"fit_rules[{i}].value")
            try:
                if rule.field == "nace":
                    rule.value = _nace_codes([rule.value], self.nace_revision)[0]
                elif rule.field == "size_class":
                    rule.value = SizeClass(rule.value).value
                elif rule.field == "country":
                    rule.value = rule.value.upper()
                    _countries([rule.value])
                else:
                    rule.value = rule.value.upper()
            except ValueError as exc:
                raise ValueError(f"fit_rules[{i}]: {exc}") from None
        return self


class ScoringModelOut(ScoringModelIn):
    check_names: ClassVar[bool] = False

    version: int
    created_by: str | None
    created_at: datetime | None


class TerritoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    team: Name
    countries: list[Country] = Field(default_factory=list, max_length=300)
    regions: list[NutsCode] = Field(default_factory=list, max_length=500)
    nace: list[Annotated[str, Field(min_length=1, max_length=12)]] = Field(
        default_factory=list, max_length=200
    )
    size_classes: list[SizeClass] = Field(default_factory=list, max_length=4)


class RepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UserId
    capacity: StrictInt | None = Field(None, ge=0, le=100_000, description="Max open leads")


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    reps: list[RepIn] = Field(default_factory=list, max_length=500)


class RoutingRulesIn(_NameCheck):
    model_config = ConfigDict(extra="forbid")

    nace_revision: NaceRevision = "2.1"
    territories: list[TerritoryIn] = Field(default_factory=list, max_length=500)
    teams: list[TeamIn] = Field(default_factory=list, max_length=200)
    default_capacity: StrictInt = Field(25, ge=0, le=100_000)
    fallback_queue: Name = "unassigned"
    default_team: Name | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> RoutingRulesIn:
        if self._checks_names(info):
            self._strip_names()
        names = [t.name for t in self.teams]
        if len(names) != len(set(names)):
            raise ValueError("team names must be unique")
        for team in self.teams:
            reps = [r.id for r in team.reps]
            if len(reps) != len(set(reps)):
                raise ValueError(f"team {team.name!r} lists a rep twice")
        for i, territory in enumerate(self.territories):
            if territory.team not in names:
                raise ValueError(f"territories[{i}] names unknown team {territory.team!r}")
            try:
                _countries(territory.countries)
                territory.nace = _nace_codes(territory.nace, self.nace_revision)
            except ValueError as exc:
                raise ValueError(f"territories[{i}]: {exc}") from None
        if self.default_team is not None and self.default_team not in names:
            raise ValueError(f"default_team {self.default_team!r} is not a team")
        return self

    def _strip_names(self) -> None:
        for i, territory in enumerate(self.territories):
            territory.name = _name(territory.name, f"territories[{i}].name")
            territory.team = _name(territory.team, f"territories[{i}].team")
        for i, team in enumerate(self.teams):
            team.name = _name(team.name, f"teams[{i}].name")
            for j, rep in enumerate(team.reps):
                rep.id = _name(rep.id, f"teams[{i}].reps[{j}].id")
        self.fallback_queue = _name(self.fallback_queue, "fallback_queue")
        if self.default_team is not None:
            self.default_team = _name(self.default_team, "default_team")


class RoutingRulesOut(RoutingRulesIn):
    check_names: ClassVar[bool] = False

    version: int
    created_by: str | None
    created_at: datetime | None


class InterestIn(BaseModel):
    """Touchpoints of these kinds (and channels, if given) turn a company into a lead."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[Kind] = Field(min_length=1, max_length=100)
    channels: list[Channel] = Field(default_factory=list, max_length=len(CHANNELS))


class InterestOut(InterestIn):
    version: int
    created_by: str | None
    created_at: datetime | None
