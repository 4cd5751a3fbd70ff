"""Touchpoints from marketing systems: find (or create) the company, record the interaction,
turn defined interest into a lead, and rescore the company's open lead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy import select as core_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from leads.app import configs
from leads.app import leads as lead_cases
from leads.app.universe_events import emit_company_created
from leads.domain.companies import CompanyStatus, domain_of, email_domain, hint_key
from leads.domain.company_rows import CompanyRecord, HeaderMap, RowValidator
from leads.domain.times import future_reason
from leads.reference import countries, currencies
from leads.schemas.leads import CompanyHint, TouchpointIn, TouchpointResult
from leads.tables import CompanyRow, ContactRow, LeadRow, TouchpointRow
from salesflow.settings import ServiceSettings

COMPANIES = CompanyRow.__table__  # type: ignore[attr-defined]
TOUCHPOINTS = TouchpointRow.__table__  # type: ignore[attr-defined]

# Built once; Core: the company is only read (columns as attributes), the touchpoint only written
_COMPANY_FOR_UPDATE = (
    core_select(COMPANIES).where(COMPANIES.c.id == bindparam("company")).with_for_update()
)
_INSERT_TOUCHPOINT = insert(TOUCHPOINTS)


class TouchpointRejected(Exception):
    """The touchpoint cannot be recorded (e.g. an unknown company without details to create it)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# A company named by a touchpoint joins the universe like an imported row: the import's row
# validator checks it, with the hint's fields as the columns of a row.
_HINT_FIELDS = ("name", "country", "postal_code", "city", "website")


@cache
def _hint_validator() -> RowValidator:
    header = HeaderMap(index={f: i for i, f in enumerate(_HINT_FIELDS)}, width=len(_HINT_FIELDS))
    return RowValidator(header, {}, countries(), currencies(), default_source="touchpoint")


def _hint_record(hint: CompanyHint) -> CompanyRecord:
    row = [getattr(hint, f) or "" for f in _HINT_FIELDS]
    outcome = _hint_validator()(row)
    if isinstance(outcome, str):
        # the reasons name their field before any quoted value ("malformed website 'x'")
        words = outcome.partition("'")[0]
        named = next((f for f in _HINT_FIELDS if f.replace("_", " ") in words), None)
        field = f"company.{named}" if named else "company"
        raise TouchpointRejected(f"{field}: {outcome}", field=field)
    return outcome


@dataclass
class _Resolved:
    company: Any  # a Core row of leads_companies, or the ORM row of a company created here
    created: bool
    contact: ContactRow | None


async def _company_by_domain(session: AsyncSession, domain: str) -> CompanyRow | None:
    stmt = select(CompanyRow).where(CompanyRow.domain == domain).order_by(CompanyRow.id).limit(1)
    return (await session.exec(stmt)).first()


async def _company_for_update(session: AsyncSession, company_id: int) -> Any | None:
    return (await lead_cases.core(session, _COMPANY_FOR_UPDATE, {"company": company_id})).first()


async def _resolve(session: AsyncSession, body: TouchpointIn, now: datetime) -> _Resolved:
    company: CompanyRow | None = None
    if body.company_id is not None:
        company = await _company_for_update(session, body.company_id)
        if company is None:
            raise TouchpointRejected(f"unknown company_id {body.company_id}")
    contact = None
    if body.email:
        contact = (
            await session.exec(select(ContactRow).where(ContactRow.email_key == body.email.lower()))
        ).first()
        if contact is not None and company is None:
            company = await _company_for_update(session, contact.company_id)
    if company is None:
        for candidate in (
            domain_of(body.domain) if body.domain else None,
            email_domain(body.email) if body.email else None,
            domain_of(body.company.website) if body.company and body.company.website else None,
        ):
            if candidate and (company := await _company_by_domain(session, candidate)):
                break
    created = False
    if company is None:
        company, created = await _create_company(session, body, now)
    if contact is not None and contact.company_id != company.id:
        contact = None  # the e-mail is known at another company: do not mix them up
    if contact is None and body.email:
        contact = ContactRow(
            id=str(uuid.uuid4()),
            company_id=company.id,  # type: ignore[arg-type]
            name=body.contact_name or body.email,
            email=body.email,
            email_key=body.email.lower(),
            created_at=now,
            updated_at=now,
        )
        taken = (
            await session.exec(
                select(ContactRow.id).where(ContactRow.email_key == contact.email_key)
            )
        ).first()
        if taken is None:
            session.add(contact)
        else:
            contact = None
    return _Resolved(company, created, contact)


async def _create_company(
    session: AsyncSession, body: TouchpointIn, now: datetime
) -> tuple[CompanyRow, bool]:
    hint = body.company
    if hint is None:
        raise TouchpointRejected(
            "unknown company: send company (name, country) to create it on the fly"
        )
    record = _hint_record(hint)
    key, domain = record.match_key or hint_key(record.name, record.country), record.domain
    if domain is None and body.domain:
        domain = domain_of(body.domain)
    if domain is None and body.email:
        domain = email_domain(body.email)
    known = (await session.exec(select(CompanyRow).where(CompanyRow.match_key == key))).first()
    if known is not None:
        return known, False
    company = CompanyRow(
        name=record.name,
        country=record.country,
        postal_code=record.postal_code,
        city=record.city,
        website=record.website,
        domain=domain,
        source=record.source,
        status=CompanyStatus.SUSPECT.value,
        match_key=key,
        created_at=now,
        updated_at=now,
    )
    session.add(company)
    await session.flush()
    return company, True


async def record(
    session: AsyncSession,
    settings: ServiceSettings,
    body: TouchpointIn,
    received_by: str,
    now: datetime,
) -> TouchpointResult:
    if body.external_id:
        seen = (
            await session.exec(
                select(TouchpointRow).where(TouchpointRow.external_id == body.external_id)
            )
        ).first()
        if seen is not None:
            lead = await session.get(LeadRow, seen.lead_id) if seen.lead_id else None
            return TouchpointResult(
                touchpoint_id=seen.id,
                company_id=seen.company_id,
                company_created=False,
                contact_id=seen.contact_id,
                lead_id=seen.lead_id,
                lead_created=False,
                lead_status=lead.status if lead else None,  # type: ignore[arg-type]
                score=lead.score if lead else None,
                existing_customer=seen.existing_customer,
                duplicate=True,
            )
    if reason := future_reason("occurred_at", body.occurred_at, now):
        raise TouchpointRejected(reason, field="occurred_at")
    found = await _resolve(session, body, now)
    company = found.company
    if found.created:  # a new suspect in the universe, counted like an import of one
        emit_company_created(session, settings, company, "touchpoint")
    # the open lead first: a touchpoint inserted with its lead needs no second write
    lead = await lead_cases.open_lead(session, company.id)
    creates_lead = lead is None and (await configs.interest(session)).shows_interest(
        body.kind, body.channel
    )
    touchpoint = SimpleNamespace(
        id=str(uuid.uuid4()),
        company_id=company.id,
        lead_id=lead.id if lead is not None else (str(uuid.uuid4()) if creates_lead else None),
        contact_id=found.contact.id if found.contact else None,
        channel=body.channel,
        kind=body.kind,
        occurred_at=body.occurred_at,
        campaign=body.campaign,
        external_id=body.external_id,
        existing_customer=company.account_id is not None,
        created_interest=creates_lead,
        received_at=now,
        received_by=received_by,
    )
    # written before scoring, which counts it
    await lead_cases.core(session, _INSERT_TOUCHPOINT, vars(touchpoint))
    lead_status, score = None, None
    if creates_lead:
        created = await lead_cases.create_lead(
            session, settings, company, touchpoint, now, lead_id=touchpoint.lead_id
        )
        lead_status, score = created.status, created.score
    elif lead is not None:
        lead_status, score = await lead_cases.rescore_open(
            session, settings, lead, company, now, trigger="touchpoint", touchpoint_id=touchpoint.id
        )
    return TouchpointResult(
        touchpoint_id=touchpoint.id,
        company_id=company.id,
        company_created=found.created,
        contact_id=touchpoint.contact_id,
        lead_id=touchpoint.lead_id,
        lead_created=creates_lead,
        lead_status=lead_status,  # type: ignore[arg-type]
        score=score,
        existing_customer=touchpoint.existing_customer,
        duplicate=False,
    )
