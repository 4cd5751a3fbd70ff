"""Lead routing: territories → team, round-robin inside the team, per-rep capacity, fallback.

Territories are tried in order; the first whose every given criterion matches wins (an empty
criterion matches anything). Inside the team, reps take turns after the one who got the last
lead; a rep whose open leads reached their capacity is skipped. When every rep is full, or no
territory and no default team match, the lead waits in the fallback queue.
"""

from __future__ import annotations

from collections import Counter
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


def _overlap(a: Territory, b: Territory, table: NaceTable) -> bool:
    """Could one company match both territories? (Conservative: True unless a criterion that
    both give rules it out.)"""

    def disjoint(x: tuple[str, ...], y: tuple[str, ...]) -> bool:
        return bool(x and y and not set(x) & set(y))

    if disjoint(a.countries, b.countries) or disjoint(a.size_classes, b.size_classes):
        return False
    if (
        a.regions
        and b.regions
        and not any(r.startswith(s) or s.startswith(r) for r in a.regions for s in b.regions)
    ):
        return False
    # a NUTS code starts with its country's code
    if a.countries and b.regions and not any(r[:2] in a.countries for r in b.regions):
        return False
    if b.countries and a.regions and not any(r[:2] in b.countries for r in a.regions):
        return False
    return not (
        a.nace
        and b.nace
        and not any(table.covers(x, y) or table.covers(y, x) for x in a.nace for y in b.nace)
    )


def teams_touched(
    before: RoutingRules, after: RoutingRules, own: str, table: NaceTable
) -> list[str]:
    """The teams other than ``own`` whose routing the change from ``before`` to ``after`` may
    alter: their team entry (reps, their order, capacities), their territories and the
    territories ahead of them that could take their leads (the first match wins), the default
    team's share (whatever no territory matches), a rep of theirs moved into ``own``, and the
    settings every team shares (NACE revision, default capacity, fallback queue)."""
    teams_before, teams_after = dict(before.teams or {}), dict(after.teams or {})
    others = (
        set(teams_before)
        | set(teams_after)
        | {t.team for t in (*before.territories, *after.territories)}
        | {before.default_team, after.default_team}
    ) - {own, None}
    touched: set[str] = set()
    shared = ("nace_rev", "default_capacity", "fallback_queue")
    if any(getattr(before, name) != getattr(after, name) for name in shared):
        touched |= others  # type: ignore[arg-type]
    if before.default_team != after.default_team:
        touched |= {before.default_team, after.default_team} & others
    elif before.default_team in others and Counter(before.territories) != Counter(
        after.territories
    ):
        touched.add(before.default_team)  # type: ignore[arg-type]
    for name in others:
        if teams_before.get(name) != teams_after.get(name):
            touched.add(name)  # type: ignore[arg-type]
    own_reps_before = {r.id for r in teams_before[own].reps} if own in teams_before else set()
    own_reps_after = {r.id for r in teams_after[own].reps} if own in teams_after else set()
    for rep in own_reps_after - own_reps_before:
        touched |= {
            n for n, t in teams_before.items() if n != own and rep in {r.id for r in t.reps}
        }
    for name in others:
        mine_before = [i for i, t in enumerate(before.territories) if t.team == name]
        mine_after = [i for i, t in enumerate(after.territories) if t.team == name]
        if [before.territories[i] for i in mine_before] != [
            after.territories[i] for i in mine_after
        ]:
            touched.add(name)  # type: ignore[arg-type]
            continue
        for i, j in zip(mine_before, mine_after, strict=True):
            territory = before.territories[i]

            def ahead(
                rules: RoutingRules, k: int, t: Territory = territory, team: str = name
            ) -> Counter[Territory]:
                return Counter(
                    p for p in rules.territories[:k] if p.team != team and _overlap(p, t, table)
                )

            if ahead(before, i) != ahead(after, j):
                touched.add(name)  # type: ignore[arg-type]
                break
    return sorted(touched)
