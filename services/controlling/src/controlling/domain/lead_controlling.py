"""Lead controlling: how each rep and each team works the leads routed to them.

- ``assigned``: leads whose current owner received them within the period (the start of the
  final run of events naming that owner — the routing or the reassignment that made them owner).
- ``time to first contact``: ``first_contact_at`` of ``lead.sql`` (the ``ce_time`` of
  ``lead.sql`` when the rep did not record it) minus the assignment, never below zero and never
  later than ``lead.sql`` itself (a first contact is recorded after it happened).
- ``conversion to SQL / to won``: of the assigned leads, the share that reached ``lead.sql`` /
  whose opportunity (``lead_id``) was won, as far as the events tell.
- ``open pipeline``: the rep's (team's) open opportunities at the end of the period (now).
- ``capacity use``: open leads (assigned, neither converted nor disqualified) at the end of the
  period divided by the configured capacity (open leads per rep; a team's capacity is the sum
  over its reps).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from controlling.domain.funnel import Filters, Opportunity, Pipeline, Segment, pipeline
from controlling.domain.stats import percentile, rate


@dataclass(frozen=True)
class AssignedLead:
    lead_id: str
    segment: Segment  # owner and team are the current ones
    assigned_at: datetime | None
    first_contact_at: datetime | None  # recorded first contact, else the SQL time
    sql_at: datetime | None
    closed_at: datetime | None  # converted or disqualified

    def open_at(self, when: datetime) -> bool:
        if self.assigned_at is None or self.assigned_at >= when:
            return False
        return self.closed_at is None or self.closed_at >= when


@dataclass(frozen=True)
class Figures:
    key: str  # rep id or team name
    team: str | None  # for reps: the team of their latest assignment
    assigned: int
    first_contacted: int
    first_contact_median_s: float | None
    first_contact_p90_s: float | None
    sql: int
    sql_rate: float | None
    won: int
    won_rate: float | None
    open_leads: int
    capacity: int
    capacity_use: float | None
    open_pipeline: Pipeline


@dataclass(frozen=True)
class LeadControlling:
    as_of: datetime
    reps: list[Figures]
    teams: list[Figures]


def compute_lead_controlling(
    leads: Sequence[AssignedLead],
    opportunities: Sequence[Opportunity],
    filters: Filters,
    *,
    capacity_of: Callable[[str], int],
    now: datetime,
) -> LeadControlling:
    as_of = filters.end or now
    won_leads = {o.lead_id for o in opportunities if o.won and o.lead_id}
    mine = [lead for lead in leads if lead.segment.owner and filters.matches(lead.segment)]
    by_rep: dict[str, list[AssignedLead]] = defaultdict(list)
    by_team: dict[str, list[AssignedLead]] = defaultdict(list)
    for lead in mine:
        by_rep[lead.segment.owner or ""].append(lead)
        if lead.segment.team:
            by_team[lead.segment.team].append(lead)
    rep_team = {rep: _latest_team(rep_leads) for rep, rep_leads in by_rep.items()}
    reps = [
        _figures(
            rep,
            rep_team[rep],
            rep_leads,
            [o for o in opportunities if o.segment.owner == rep],
            won_leads,
            filters,
            capacity_of(rep),
            as_of,
        )
        for rep, rep_leads in sorted(by_rep.items())
    ]
    teams = [
        _figures(
            team,
            team,
            team_leads,
            [o for o in opportunities if o.segment.team == team],
            won_leads,
            filters,
            sum(capacity_of(rep) for rep, t in rep_team.items() if t == team),
            as_of,
        )
        for team, team_leads in sorted(by_team.items())
    ]
    return LeadControlling(as_of=as_of, reps=reps, teams=teams)


def _latest_team(leads: Iterable[AssignedLead]) -> str | None:
    dated = [lead for lead in leads if lead.assigned_at is not None and lead.segment.team]
    if not dated:
        return None
    return max(dated, key=lambda lead: (lead.assigned_at, lead.lead_id)).segment.team


def _contact_seconds(contact: datetime, assigned: datetime, recorded: datetime | None) -> float:
    """Time to first contact, clamped to what can have happened: not before the assignment
    (never < 0) and not after ``lead.sql`` recorded it (a first contact given in the future)."""
    if recorded is not None:
        contact = min(contact, recorded)
    return max(0.0, (contact - assigned).total_seconds())


def _figures(
    key: str,
    team: str | None,
    leads: Sequence[AssignedLead],
    opportunities: Sequence[Opportunity],
    won_leads: set[str],
    filters: Filters,
    capacity: int,
    as_of: datetime,
) -> Figures:
    assigned = [lead for lead in leads if filters.in_period(lead.assigned_at)]
    contact_s = [
        _contact_seconds(lead.first_contact_at, lead.assigned_at, lead.sql_at)
        for lead in assigned
        if lead.first_contact_at is not None and lead.assigned_at is not None
    ]
    sql = sum(1 for lead in assigned if lead.sql_at is not None)
    won = sum(1 for lead in assigned if lead.lead_id in won_leads)
    open_leads = sum(1 for lead in leads if lead.open_at(as_of))
    pipeline_filters = Filters(
        nace_section=filters.nace_section,
        size_class=filters.size_class,
        country=filters.country,
        source_channel=filters.source_channel,
    )
    return Figures(
        key=key,
        team=team,
        assigned=len(assigned),
        first_contacted=len(contact_s),
        first_contact_median_s=percentile(contact_s, 50),
        first_contact_p90_s=percentile(contact_s, 90),
        sql=sql,
        sql_rate=rate(sql, len(assigned)),
        won=won,
        won_rate=rate(won, len(assigned)),
        open_leads=open_leads,
        capacity=capacity,
        capacity_use=rate(open_leads, capacity),
        open_pipeline=pipeline(opportunities, pipeline_filters, as_of=as_of),
    )
