"""Existing customers, from ``account.onboarded``: the company is marked a customer, its open
leads are flagged, and its later touchpoints and leads carry the account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from leads.app.universe_events import emit_company_created
from leads.domain.companies import CompanyStatus, domain_of, match_key, size_class
from leads.tables import AccountRow, CompanyRow, LeadRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.aftersales import AccountOnboarded
from salesflow.settings import ServiceSettings


async def _find_company(session: AsyncSession, event: AccountOnboarded) -> CompanyRow | None:
    snap = event.company
    if snap.company_id.isdigit():
        found = await session.get(CompanyRow, int(snap.company_id))
        if found is not None:
            return found
    for column, value in (
        (CompanyRow.duns, snap.duns),
        (CompanyRow.vat_id, snap.vat_id),
        (CompanyRow.match_key, match_key(snap.name, snap.postal_code, snap.country)),
    ):
        if value:
            found = (await session.exec(select(CompanyRow).where(column == value))).first()
            if found is not None:
                return found
    return None


async def onboard(
    session: AsyncSession,
    settings: ServiceSettings,
    event: AccountOnboarded,
    now: datetime,
    cause: Envelope | None = None,
) -> bool:
    """Idempotent by account id; an older version than the one stored is ignored. Returns
    whether anything changed. A customer unknown to the universe enters it (source
    ``aftersales``) and is counted by ``companies.imported`` like any new company."""
    known = await session.get(AccountRow, event.account_id)
    if known is not None and known.version >= event.version:
        return False
    company = await _find_company(session, event)
    if company is None:
        snap = event.company
        company = CompanyRow(
            name=snap.name,
            country=snap.country,
            region=snap.region,
            postal_code=snap.postal_code,
            city=snap.city,
            employees=snap.employees,
            size_class=(snap.size_class.value if snap.size_class else None)
            or (size_class(snap.employees).value if snap.employees is not None else None),  # type: ignore[union-attr]
            duns=snap.duns,
            vat_id=snap.vat_id,
            website=snap.website,
            domain=domain_of(snap.website) if snap.website else None,
            source="aftersales",
            status=CompanyStatus.CUSTOMER.value,
            match_key=match_key(snap.name, snap.postal_code, snap.country),
            created_at=now,
            updated_at=now,
        )
        session.add(company)
        await session.flush()
        emit_company_created(session, settings, company, "aftersales", cause=cause)
    company.status = CompanyStatus.CUSTOMER.value
    company.account_id = event.account_id
    company.updated_at = now
    session.add(company)
    if known is None:
        known = AccountRow(
            account_id=event.account_id,
            company_id=company.id,  # type: ignore[arg-type]
            version=event.version,
            owner=event.owner,
            team=event.team,
            order_id=event.order_id,
            onboarded_at=now,
        )
    else:
        known.version, known.owner, known.team = event.version, event.owner, event.team
        known.company_id = company.id  # type: ignore[assignment]
    session.add(known)
    await session.execute(
        update(LeadRow)
        .where(LeadRow.open_company_id == company.id)
        .values(existing_customer=True, account_id=event.account_id, updated_at=now)
    )
    return True
