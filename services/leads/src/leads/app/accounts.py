"""Existing customers, from ``account.onboarded``: the company is marked a customer, its open
leads are flagged, and its later touchpoints and leads carry the account.

The handler's statements are Core, built once: it reads only ids and versions and writes each
row with one statement (a new company is inserted as a customer in one go), so no ORM rows are
hydrated or flushed per event."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from leads.app.universe_events import emit_company_created
from leads.domain.companies import CompanyStatus, domain_of, match_key, size_class
from leads.tables import AccountRow, CompanyRow, LeadRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.aftersales import AccountOnboarded
from salesflow.contracts.events.common import CompanySnapshot
from salesflow.settings import ServiceSettings

COMPANIES = CompanyRow.__table__  # type: ignore[attr-defined]
ACCOUNTS = AccountRow.__table__  # type: ignore[attr-defined]
LEADS = LeadRow.__table__  # type: ignore[attr-defined]

_ACCOUNT_VERSION = select(ACCOUNTS.c.version).where(ACCOUNTS.c.account_id == bindparam("account"))
# A company is recognised by its universe id, then D-U-N-S, VAT id, name + postal code + country.
_COMPANY_ID_BY = {
    column: select(COMPANIES.c.id).where(COMPANIES.c[column] == bindparam("value"))
    for column in ("id", "duns", "vat_id", "match_key")
}
_INSERT_COMPANY = insert(COMPANIES)
_CLAIM_COMPANY = (
    update(COMPANIES)
    .where(COMPANIES.c.id == bindparam("company"))
    .values(
        status=CompanyStatus.CUSTOMER.value,
        account_id=bindparam("account"),
        updated_at=bindparam("now", type_=COMPANIES.c.updated_at.type),
    )
)
_INSERT_ACCOUNT = insert(ACCOUNTS)
_UPDATE_ACCOUNT = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.account_id == bindparam("account"))
    .values(
        version=bindparam("new_version"),
        owner=bindparam("new_owner"),
        team=bindparam("new_team"),
        company_id=bindparam("company", type_=ACCOUNTS.c.company_id.type),
    )
)
_FLAG_OPEN_LEADS = (
    update(LEADS)
    .where(LEADS.c.open_company_id == bindparam("company"))
    .values(
        existing_customer=True,
        account_id=bindparam("account"),
        updated_at=bindparam("now", type_=LEADS.c.updated_at.type),
    )
)


async def _scalar(conn: AsyncConnection, stmt: Any, params: dict[str, Any]) -> Any:
    return (await conn.execute(stmt, params)).scalar()


async def _find_company(conn: AsyncConnection, snap: CompanySnapshot) -> int | None:
    lookups = (
        ("id", int(snap.company_id) if snap.company_id.isdigit() else None),
        ("duns", snap.duns),
        ("vat_id", snap.vat_id),
        ("match_key", match_key(snap.name, snap.postal_code, snap.country)),
    )
    for column, value in lookups:
        if value:
            found = await _scalar(conn, _COMPANY_ID_BY[column], {"value": value})
            if found is not None:
                return found
    return None


async def _create_customer(
    conn: AsyncConnection, snap: CompanySnapshot, account_id: str, now: datetime
) -> SimpleNamespace:
    """A customer unknown to the universe enters it (source ``aftersales``)."""
    company = SimpleNamespace(
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
        nace_section=None,  # the snapshot's NACE code is not taken over
        account_id=account_id,
        created_at=now,
        updated_at=now,
    )
    result = await conn.execute(_INSERT_COMPANY, vars(company))
    company.id = result.inserted_primary_key[0]
    return company


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
    conn = await session.connection()
    known_version = await _scalar(conn, _ACCOUNT_VERSION, {"account": event.account_id})
    if known_version is not None and known_version >= event.version:
        return False
    company_id = await _find_company(conn, event.company)
    if company_id is None:
        company = await _create_customer(conn, event.company, event.account_id, now)
        company_id = company.id
        emit_company_created(session, settings, company, "aftersales", cause=cause)
    else:
        await conn.execute(
            _CLAIM_COMPANY, {"company": company_id, "account": event.account_id, "now": now}
        )
    if known_version is None:
        await conn.execute(
            _INSERT_ACCOUNT,
            {
                "account_id": event.account_id,
                "company_id": company_id,
                "version": event.version,
                "owner": event.owner,
                "team": event.team,
                "order_id": event.order_id,
                "onboarded_at": now,
            },
        )
    else:
        await conn.execute(
            _UPDATE_ACCOUNT,
            {
                "account": event.account_id,
                "new_version": event.version,
                "new_owner": event.owner,
                "new_team": event.team,
                "company": company_id,
            },
        )
    await conn.execute(
        _FLAG_OPEN_LEADS, {"company": company_id, "account": event.account_id, "now": now}
    )
    return True
