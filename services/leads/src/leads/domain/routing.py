"""Lead routing: territories → team, round-robin inside the team, per-rep capacity, fallback.

Territories are tried in order; the first whose every given criterion matches wins (an empty
criterion matches anything). Inside the team, reps take turns after the one who got the last
lead; a rep whose open leads reached their capacity is skipped. When every rep is full, or no
territory and no default team match, the lead waits in the fallback queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from leads.domain.nace import NaceTable
from leads.domain.scoring import CompanyFacts


@dataclass(frozen=True)
class Territory:
    name: str
    team: str
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # NUTS prefixes
    nace: tuple[str, ...] = ()  # codes at any level, revision of the rules
    size_classes: tuple[str, ...] = ()

    def matches(self, company: CompanyFacts, table: NaceTable) -> bool:
        if self.countries and company.country not in self.countries:
            return False
        if self.regions and not any((company.region or "").startswith(r) for r in self.regions):
            return False
        if self.nace and not (
            company.nace is not None
            and company.nace_rev == table.revision
            and any(table.covers(code, company.nace) for code in self.nace)
        ):
            return False
        return not (self.size_classes and company.size_class not in self.size_classes)


@dataclass(frozen=True)
class Rep:
    id: str
    capacity: int | None = None  # None: the rules' default capacity


@dataclass(frozen=True)
class Team:
    name: str
    reps: tuple[Rep, ...]


@dataclass(frozen=True)
class RoutingRules:
    version: int
    territories: tuple[Territory, ...] = ()
    teams: Mapping[str, Team] | None = None
    default_capacity: int = 25
    fallback_queue: str = "unassigned"
    default_team: str | None = None
    nace_rev: str = "2.1"


DEFAULT_RULES = RoutingRules(version=1)
"""Until rules are stored every MQL waits in the fallback queue for a manager."""


@dataclass(frozen=True)
class Assignment:
    team: str | None
    owner: str | None
    queue: str | None
    rule: str | None
    reason: str


def route(
    rules: RoutingRules,
    company: CompanyFacts,
    open_leads: Mapping[str, int],
    last_rep: Mapping[str, str | None],
    table: NaceTable,
) -> Assignment:
    """Where an MQL goes. ``open_leads`` counts each rep's open assigned leads, ``last_rep`` names
    per team the rep who got the previous lead."""
    territory = next((t for t in rules.territories if t.matches(company, table)), None)
    team_name = territory.team if territory else rules.default_team
    rule = territory.name if territory else None
    if team_name is None:
        return Assignment(None, None, rules.fallback_queue, None, "no territory matches")
    team = (rules.teams or {}).get(team_name)
    if team is None or not team.reps:
        return Assignment(team_name, None, rules.fallback_queue, rule, "team has no reps")
    reps = team.reps
    after = next((i for i, r in enumerate(reps) if r.id == last_rep.get(team_name)), -1)
    for step in range(1, len(reps) + 1):
        rep = reps[(after + step) % len(reps)]
        capacity = rep.capacity if rep.capacity is not None else rules.default_capacity
        if open_leads.get(rep.id, 0) < capacity:
            return Assignment(team_name, rep.id, None, rule, "round-robin")
    return Assignment(team_name, None, rules.fallback_queue, rule, "every rep at capacity")
