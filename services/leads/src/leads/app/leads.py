"""Lead use cases: creation from interest, scoring, MQL, routing, qualification, conversion,
disqualification, reassignment. Each function works inside the caller's unit of work and stages
the events of the change in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from leads.api.roles import SEE_ALL_LEADS
from leads.app import configs
from leads.app.events import emit_lead
from leads.domain.companies import CompanyStatus
from leads.domain.lifecycle import Action, transition
from leads.domain.routing import Assignment, route
from leads.domain.scoring import Breakdown, Touch, crosses_mql, score
from leads.domain.times import future_reason
from leads.reference import nace_table
from leads.schemas.leads import AssignIn, ConvertIn, DisqualifyIn, LeadContactIn, QualifyIn
from leads.tables import (
    AccountRow,
    CompanyRow,
    ContactRow,
    LeadRow,
    RoutingCursorRow,
    TouchpointRow,
)
from salesflow.api.errors import Problem, conflict, not_found
from salesflow.auth import Principal
from salesflow.contracts.events.common import Contact, NeedsAnalysis
from salesflow.contracts.events.leads import LeadStatus
from salesflow.contracts.types import Money
from salesflow.settings import ServiceSettings

LEADS = LeadRow.__table__  # type: ignore[attr-defined]
COMPANIES = CompanyRow.__table__  # type: ignore[attr-defined]
TOUCHPOINTS = TouchpointRow.__table__  # type: ignore[attr-defined]

# Built once: the touchpoint path runs them on every request (Core: no ORM rows to hydrate).
_TOUCHES = core_select(TOUCHPOINTS.c.kind, TOUCHPOINTS.c.occurred_at).where(
    TOUCHPOINTS.c.company_id == bindparam("company")
)
_TOUCHES_SINCE = _TOUCHES.where(TOUCHPOINTS.c.occurred_at >= bindparam("since"))
# what rescoring and the lead's events read of an open lead
_OPEN_LEAD = core_select(
    *(
        LEADS.c[name]
        for name in (
            "id",
            "status",
            "version",
            "owner",
            "team",
            "source_channel",
            "source_campaign",
            "score",
            "scoring_model_version",
            "engagement_since",
            "existing_customer",
            "account_id",
            "correlation_id",
        )
    )
).where(LEADS.c.open_company_id == bindparam("company"))
_WRITE_SCORE = (
    update(LEADS)
    .where(LEADS.c.id == bindparam("lead"))
    .values(
        score=bindparam("new_score", type_=LEADS.c.score.type),
        fit_score=bindparam("new_fit", type_=LEADS.c.fit_score.type),
        engagement_score=bindparam("new_engagement", type_=LEADS.c.engagement_score.type),
        score_breakdown=bindparam("new_breakdown", type_=LEADS.c.score_breakdown.type),
        scoring_model_version=bindparam("new_model_version"),
        scored_at=bindparam("new_scored_at", type_=LEADS.c.scored_at.type),
        version=bindparam("new_version"),
        updated_at=bindparam("now", type_=LEADS.c.updated_at.type),
    )
)
_MARK_COMPANY_LEAD = (
    update(COMPANIES)
    .where(COMPANIES.c.id == bindparam("company"))
    .values(
        status=CompanyStatus.LEAD.value,
        updated_at=bindparam("now", type_=COMPANIES.c.updated_at.type),
    )
)


_CONNECTION = "leads_core_connection"


async def core(session: AsyncSession, stmt: Any, params: dict[str, Any]) -> Any:
    """Run a Core statement on the session's connection: none of the ORM session's per-statement
    work (and, like any Core statement, no autoflush). The connection is looked up once per
    transaction (each lookup is a greenlet switch)."""
    transaction = session.sync_session.get_transaction()
    known = session.sync_session.info.get(_CONNECTION)
    if transaction is not None and known is not None and known[0] is transaction:
        conn = known[1]
    else:
        conn = await session.connection()
        session.sync_session.info[_CONNECTION] = (session.sync_session.get_transaction(), conn)
    return await conn.execute(stmt, params)


def visible_leads(stmt, principal: Principal):  # type: ignore[no-untyped-def]
    """Reps see their own leads, managers their team's and the unassigned ones (to dispatch
    them), marketing and analysts all."""
    if principal.is_admin or principal.roles.intersection(SEE_ALL_LEADS):
        return stmt
    if "sales_manager" in principal.roles:
        mine = [LeadRow.owner == principal.sub, LeadRow.owner.is_(None)]
        if principal.team:
            mine.append(LeadRow.team == principal.team)
        return stmt.where(or_(*mine))
    return stmt.where(LeadRow.owner == principal.sub)


async def lead_for_change(
    session: AsyncSession, lead_id: str, principal: Principal
) -> tuple[LeadRow, CompanyRow]:
    stmt = visible_leads(select(LeadRow).where(LeadRow.id == lead_id), principal)
    lead = (await session.exec(stmt.with_for_update())).first()
    if lead is None:
        raise not_found("lead")
    company = await session.get(CompanyRow, lead.company_id)
    assert company is not None
    return lead, company


def _require_owner_or_team(lead: LeadRow, principal: Principal) -> None:
    if principal.is_admin:
        return
    if lead.owner is not None and lead.owner == principal.sub:
        return
    if "sales_manager" in principal.roles and principal.team and lead.team == principal.team:
        return
    raise Problem(403, "only the lead's owner or a manager of its team may do this")


async def open_lead(session: AsyncSession, company_id: int) -> Any | None:
    """The company's open lead as a Core row of the columns rescoring reads (see
    ``rescore_open``), or None. Not the ORM row: most touchpoints only rescore it."""
    return (await core(session, _OPEN_LEAD, {"company": company_id})).first()


def _bump(lead: LeadRow, now: datetime) -> None:
    lead.version += 1
    lead.updated_at = now


def _apply(lead: LeadRow, b: Breakdown) -> None:
    lead.score = b.total
    lead.fit_score = b.fit
    lead.engagement_score = b.engagement
    lead.score_breakdown = b.to_dict()
    lead.scoring_model_version = b.model_version
    lead.scored_at = b.computed_at


async def _breakdown(  # type: ignore[no-untyped-def]
    session: AsyncSession,
    lead: LeadRow,
    company: CompanyRow,
    now: datetime,
    touches: Sequence[Touch] | None = None,
):
    """The score now; ``touches``: the company's touchpoints when the caller loaded them for
    many leads at once (those before ``engagement_since`` are left out here)."""
    model = await configs.scoring_model(session)
    if touches is None:
        # Core: no autoflush; touchpoints are written with Core statements, never left pending
        if lead.engagement_since is None:
            params: dict[str, Any] = {"company": company.id}
            touches = (await core(session, _TOUCHES, params)).all()
        else:
            params = {"company": company.id, "since": lead.engagement_since}
            touches = (await core(session, _TOUCHES_SINCE, params)).all()
    elif lead.engagement_since is not None:
        since = lead.engagement_since
        touches = [t for t in touches if t.occurred_at >= since]
    return model, score(model, company, touches, now, nace_table(model.nace_rev))


async def create_lead(
    session: AsyncSession,
    settings: ServiceSettings,
    company: Any,
    touchpoint: Any,
    now: datetime,
    lead_id: str | None = None,
) -> LeadRow:
    """A company showed defined interest: a new unqualified lead (⇒ lead.created).
    ``company`` and ``touchpoint``: their columns as attributes (ORM or Core rows); ``lead_id``
    when the caller already wrote it into the touchpoint."""
    lead = LeadRow(
        id=lead_id or str(uuid.uuid4()),
        company_id=company.id,  # type: ignore[arg-type]
        open_company_id=company.id,
        contact_id=touchpoint.contact_id,
        status=LeadStatus.UNQUALIFIED.value,
        correlation_id=str(uuid.uuid4()),
        version=1,
        source_channel=touchpoint.channel,
        source_kind=touchpoint.kind,
        source_campaign=touchpoint.campaign,
        touchpoint_id=touchpoint.id,
        existing_customer=company.account_id is not None,
        account_id=company.account_id,
        created_at=now,
        updated_at=now,
    )
    session.add(lead)
    model, b = await _breakdown(session, lead, company, now)
    _apply(lead, b)
    if company.status != CompanyStatus.CUSTOMER:
        # Core: the company may be a Core row; nothing later in the request reads its status
        await core(session, _MARK_COMPANY_LEAD, {"company": company.id, "now": now})
    emit_lead(
        session,
        settings,
        "lead.created.v1",
        lead,
        company,
        touchpoint_id=touchpoint.id,
        touchpoint_kind=touchpoint.kind,
    )
    if company.account_id is not None:
        await _to_account_owner(session, settings, lead, company, now)
    if crosses_mql(lead.status, lead.score, model.mql_threshold):
        await make_mql(session, settings, lead, company, model.mql_threshold, model.version, now)
    return lead


async def _to_account_owner(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    now: datetime,
) -> None:
    """An existing customer's lead goes straight to the account's owner."""
    account = await session.get(AccountRow, company.account_id)
    if account is None or account.owner is None:
        return
    lead.owner, lead.team = account.owner, account.team
    lead.assigned_at = now
    _bump(lead, now)
    emit_lead(
        session,
        settings,
        "lead.assigned.v1",
        lead,
        company,
        assigned_by="routing",
        routing_rule="account-owner",
    )


async def rescore(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    now: datetime,
    *,
    trigger: str,
    touchpoint_id: str | None = None,
    min_delta: Decimal = Decimal(0),
    touches: Sequence[Touch] | None = None,
) -> bool:
    """Recompute the score (⇒ lead.scored when it moved by at least ``min_delta``, or the model
    changed), then MQL and routing when the threshold is reached. True if the score changed."""
    model, b = await _breakdown(session, lead, company, now, touches)
    if not _worth_writing(lead, b, min_delta):
        return False
    previous = lead.score
    _apply(lead, b)
    _bump(lead, now)
    session.add(lead)
    _emit_scored(session, settings, lead, company, previous, b, trigger, touchpoint_id)
    if crosses_mql(lead.status, lead.score, model.mql_threshold):
        await make_mql(session, settings, lead, company, model.mql_threshold, model.version, now)
    return True


def _worth_writing(lead: Any, b: Breakdown, min_delta: Decimal = Decimal(0)) -> bool:
    """The score moved by at least ``min_delta`` (and a cent), or another model scored it."""
    model_changed = b.model_version != lead.scoring_model_version
    return model_changed or abs(b.total - lead.score) >= max(min_delta, Decimal("0.01"))


def _emit_scored(  # type: ignore[no-untyped-def]
    session: AsyncSession,
    settings: ServiceSettings,
    lead,
    company,
    previous: Decimal,
    b: Breakdown,
    trigger: str,
    touchpoint_id: str | None,
) -> None:
    emit_lead(
        session,
        settings,
        "lead.scored.v1",
        lead,
        company,
        previous_score=previous,
        fit_score=b.fit,
        engagement_score=b.engagement,
        scoring_model_version=b.model_version,
        trigger=trigger,
        touchpoint_id=touchpoint_id,
    )


async def rescore_open(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: Any,
    company: Any,
    now: datetime,
    *,
    trigger: str,
    touchpoint_id: str | None = None,
) -> tuple[str, Decimal]:
    """``rescore`` for a lead read by ``open_lead`` (a Core row): the new score is written with
    one UPDATE of the columns ``rescore`` changes, and lead.scored is staged from the values
    written. A score that reaches the MQL threshold goes through ``rescore`` on the ORM row
    (MQL, routing). Returns the lead's status and score afterwards."""
    model, b = await _breakdown(session, lead, company, now)
    if not _worth_writing(lead, b):
        return lead.status, lead.score
    if crosses_mql(lead.status, b.total, model.mql_threshold):
        # refreshed: an earlier item of a batch may have left this lead in the identity map
        row = await session.get(LeadRow, lead.id, populate_existing=True)
        assert row is not None
        # same ``now`` and the same rows read: the same breakdown as above
        await rescore(
            session, settings, row, company, now, trigger=trigger, touchpoint_id=touchpoint_id
        )
        return row.status, row.score
    written = SimpleNamespace(**lead._mapping)
    written.score, written.version, written.updated_at = b.total, lead.version + 1, now
    await core(
        session,
        _WRITE_SCORE,
        {
            "lead": lead.id,
            "new_score": b.total,
            "new_fit": b.fit,
            "new_engagement": b.engagement,
            "new_breakdown": b.to_dict(),
            "new_model_version": b.model_version,
            "new_scored_at": b.computed_at,
            "new_version": written.version,
            "now": now,
        },
    )
    _emit_scored(session, settings, written, company, lead.score, b, trigger, touchpoint_id)
    return lead.status, b.total


async def make_mql(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    threshold: Decimal,
    model_version: int,
    now: datetime,
) -> None:
    lead.status = transition(lead.status, Action.MQL).value
    lead.mql_at = now
    _bump(lead, now)
    session.add(lead)
    emit_lead(
        session,
        settings,
        "lead.mql.v1",
        lead,
        company,
        threshold=threshold,
        scoring_model_version=model_version,
    )
    if lead.owner is None:  # an existing customer's lead has its account owner already
        await route_lead(session, settings, lead, company, now)


async def route_lead(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    now: datetime,
    *,
    only_if_assigned: bool = False,
) -> Assignment:
    """Territory → team → next rep with capacity (⇒ lead.assigned), else the fallback queue."""
    rules = await configs.routing_rules(session)
    team_reps = [r.id for t in (rules.teams or {}).values() for r in t.reps]
    counts: dict[str, int] = {}
    if team_reps:
        rows = await session.execute(
            select(LeadRow.owner, func.count())
            .where(LeadRow.open_company_id.is_not(None), LeadRow.owner.in_(team_reps))
            .group_by(LeadRow.owner)
        )
        counts = {owner: n for owner, n in rows.all()}
    cursors = {}
    for team in rules.teams or {}:
        cursor = (
            await session.exec(
                select(RoutingCursorRow).where(RoutingCursorRow.team == team).with_for_update()
            )
        ).first()
        cursors[team] = cursor
    assignment = route(
        rules,
        company,
        counts,
        {t: (c.last_rep if c else None) for t, c in cursors.items()},
        nace_table(rules.nace_rev),
    )
    if only_if_assigned and assignment.owner is None:
        return assignment
    if assignment.owner is not None and assignment.team is not None:
        cursor = cursors.get(assignment.team) or RoutingCursorRow(
            team=assignment.team, updated_at=now
        )
        cursor.last_rep = assignment.owner
        cursor.updated_at = now
        session.add(cursor)
    previous = lead.owner
    lead.owner, lead.team, lead.queue = assignment.owner, assignment.team, assignment.queue
    lead.assigned_at = now
    _bump(lead, now)
    session.add(lead)
    emit_lead(
        session,
        settings,
        "lead.assigned.v1",
        lead,
        company,
        previous_owner=previous,
        assigned_by="routing",
        routing_rule=assignment.rule,
        queue=assignment.queue,
    )
    return assignment


async def _contact(
    session: AsyncSession, lead: LeadRow, body: LeadContactIn, now: datetime
) -> ContactRow:
    if body.contact_id is not None:
        found = await session.get(ContactRow, body.contact_id)
        if found is None or found.company_id != lead.company_id:
            raise Problem(422, "contact_id is not a contact of the lead's company")
        return found
    if body.email:
        existing = (
            await session.exec(select(ContactRow).where(ContactRow.email_key == body.email.lower()))
        ).first()
        if existing is not None:
            if existing.company_id != lead.company_id:
                raise conflict("this e-mail belongs to a contact of another company")
            # the rep knows the person better now than the marketing system did
            for name in ("name", "phone", "role"):
                if (value := getattr(body, name)) is not None:
                    setattr(existing, name, value)
            existing.version += 1
            existing.updated_at = now
            session.add(existing)
            return existing
    assert body.name is not None
    contact = ContactRow(
        id=str(uuid.uuid4()),
        company_id=lead.company_id,
        name=body.name,
        email=body.email,
        email_key=body.email.lower() if body.email else None,
        phone=body.phone,
        role=body.role,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    return contact


def _contact_snapshot(contact: ContactRow) -> dict:
    return Contact(
        name=contact.name, email=contact.email, phone=contact.phone, role=contact.role
    ).model_dump(mode="json")


def _needs(body) -> dict:  # type: ignore[no-untyped-def]
    budget = Money(**body.budget.model_dump()) if body.budget else None
    return NeedsAnalysis(
        budget=budget, authority=body.authority, need=body.need, timeline=body.timeline
    ).model_dump(mode="json")


async def qualify(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    principal: Principal,
    body: QualifyIn,
    now: datetime,
) -> LeadRow:
    """First contact made and needs analysed (⇒ lead.sql)."""
    _require_owner_or_team(lead, principal)
    if reason := future_reason("first_contact_at", body.first_contact_at, now):
        raise Problem(422, reason, field="first_contact_at")
    status = transition(lead.status, Action.QUALIFY)
    contact = await _contact(session, lead, body.contact, now)
    lead.contact_id = contact.id
    lead.contact = _contact_snapshot(contact)
    lead.needs = _needs(body.needs)
    lead.first_contact_at = body.first_contact_at
    lead.qualified_by = principal.sub
    lead.status = status.value
    lead.sql_at = now
    _bump(lead, now)
    session.add(lead)
    emit_lead(
        session,
        settings,
        "lead.sql.v1",
        lead,
        company,
        contact=Contact(**lead.contact),
        needs=NeedsAnalysis(**lead.needs),
        first_contact_at=lead.first_contact_at,
        qualified_by=principal.sub,
    )
    return lead


async def convert(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    principal: Principal,
    body: ConvertIn,
    now: datetime,
) -> LeadRow:
    """Hand over to opportunities (⇒ lead.converted with everything needed to open one)."""
    _require_owner_or_team(lead, principal)
    status = transition(lead.status, Action.CONVERT, existing_customer=lead.existing_customer)
    if body.contact is not None:
        contact = await _contact(session, lead, body.contact, now)
        lead.contact_id, lead.contact = contact.id, _contact_snapshot(contact)
    if lead.contact is None:
        raise Problem(422, "a contact is needed: send contact (the lead was never qualified)")
    if body.needs is not None:
        lead.needs = _needs(body.needs)
    if lead.owner is None:
        if principal.is_admin and "sales_rep" not in principal.roles:
            raise conflict("the lead has no owner: assign it to a rep before converting")
        lead.owner, lead.team = principal.sub, lead.team or principal.team
    if body.expected_amount is not None:
        lead.expected_amount = body.expected_amount.amount
        lead.expected_currency = body.expected_amount.currency
    lead.expected_close_date = body.expected_close_date
    lead.converted_by = principal.sub
    lead.status = status.value
    lead.open_company_id = None
    lead.closed_at = now
    _bump(lead, now)
    session.add(lead)
    expected = (
        Money(amount=lead.expected_amount, currency=lead.expected_currency)
        if lead.expected_amount is not None and lead.expected_currency
        else None
    )
    emit_lead(
        session,
        settings,
        "lead.converted.v1",
        lead,
        company,
        contact=Contact(**lead.contact),
        needs=NeedsAnalysis(**(lead.needs or {})),
        converted_by=principal.sub,
        expected_amount=expected,
        expected_close_date=lead.expected_close_date,
    )
    return lead


async def disqualify(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    principal: Principal,
    body: DisqualifyIn,
    now: datetime,
) -> LeadRow:
    """Close the lead, or recycle it to nurturing: engagement then counts afresh from now."""
    marketing_may = "marketing" in principal.roles and lead.status != LeadStatus.SQL
    if not marketing_may:
        _require_owner_or_team(lead, principal)
    status = transition(lead.status, Action.DISQUALIFY, recycle=body.recycle)
    lead.status = status.value
    lead.disqualify_reason = body.reason
    lead.disqualified_by = principal.sub
    if body.recycle:
        lead.owner = lead.queue = None
        lead.engagement_since = now
        _, b = await _breakdown(session, lead, company, now)
        _apply(lead, b)
    else:
        lead.open_company_id = None
        lead.closed_at = now
    _bump(lead, now)
    session.add(lead)
    emit_lead(
        session,
        settings,
        "lead.disqualified.v1",
        lead,
        company,
        reason=body.reason,
        recycled=body.recycle,
        disqualified_by=principal.sub,
    )
    return lead


async def _team_of_new_owner(
    session: AsyncSession, lead: LeadRow, principal: Principal, body: AssignIn
) -> str:
    """The team the lead goes to with ``body.owner``, who must be a rep of a team in the routing
    rules in force (a manager's: of their own team). Without ``body.team``: the manager's team,
    else the lead's if the rep is in it, else the rep's first team."""
    rules = await configs.routing_rules(session)
    teams = rules.teams or {}
    teams_of_rep = [t.name for t in teams.values() if any(r.id == body.owner for r in t.reps)]
    if not teams_of_rep:
        raise Problem(
            422,
            f"owner {body.owner!r} is not a rep of any team in the routing rules "
            f"(version {rules.version})",
            field="owner",
        )
    if body.team is not None and body.team not in teams:
        raise Problem(422, f"team {body.team!r} is not a team in the routing rules", field="team")
    if principal.is_admin:
        wanted = body.team or next(
            (t for t in (principal.team, lead.team) if t in teams_of_rep), teams_of_rep[0]
        )
    else:
        wanted = principal.team  # checked by the caller: body.team, if given, is it
    if wanted in teams_of_rep:
        return wanted  # type: ignore[return-value]
    if not principal.is_admin:
        where = f"is not in {wanted!r}" if wanted else "(the token names no team)"
        raise Problem(
            403,
            f"managers assign to reps of their own team: {body.owner!r} {where}",
            field="owner",
        )
    raise Problem(422, f"owner {body.owner!r} is not a rep of team {wanted!r}", field="owner")


async def assign(
    session: AsyncSession,
    settings: ServiceSettings,
    lead: LeadRow,
    company: CompanyRow,
    principal: Principal,
    body: AssignIn,
    now: datetime,
) -> LeadRow:
    """A manager (re)assigns a lead of their team or from the queue (⇒ lead.assigned)."""
    # an ownerless lead still belongs to its team (a recycled one keeps it): only a queued lead
    # or one no team has is open to every manager
    if lead.owner is not None:
        of_others = lead.team != principal.team
    else:
        of_others = lead.queue is None and lead.team not in (None, principal.team)
    if not principal.is_admin and of_others:
        raise Problem(403, "managers reassign leads of their own team or from the queue")
    transition(lead.status, Action.ASSIGN)
    if not principal.is_admin and (body.team or principal.team) != principal.team:
        raise Problem(403, "managers assign to their own team")
    team = await _team_of_new_owner(session, lead, principal, body)
    previous = lead.owner
    lead.owner, lead.team, lead.queue = body.owner, team, None
    lead.assigned_at = now
    _bump(lead, now)
    session.add(lead)
    emit_lead(
        session,
        settings,
        "lead.assigned.v1",
        lead,
        company,
        previous_owner=previous,
        assigned_by=principal.sub,
    )
    return lead
