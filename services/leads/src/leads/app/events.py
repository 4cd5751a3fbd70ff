"""Lead events: every one carries the company snapshot, owner, team, source and score, and the
lead's journey (correlation) id."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from leads.tables import CompanyRow, LeadRow
from salesflow.contracts.events.common import CompanySnapshot
from salesflow.contracts.events.leads import (
    LeadAssigned,
    LeadConverted,
    LeadCreated,
    LeadDisqualified,
    LeadMql,
    LeadScored,
    LeadSql,
)
from salesflow.messaging.handlers import emit
from salesflow.settings import ServiceSettings

PAYLOADS = {
    "lead.created.v1": LeadCreated,
    "lead.scored.v1": LeadScored,
    "lead.mql.v1": LeadMql,
    "lead.assigned.v1": LeadAssigned,
    "lead.sql.v1": LeadSql,
    "lead.disqualified.v1": LeadDisqualified,
    "lead.converted.v1": LeadConverted,
}


def snapshot(company: CompanyRow) -> CompanySnapshot:
    return CompanySnapshot(
        company_id=str(company.id),
        name=company.name,
        country=company.country,
        region=company.region,
        postal_code=company.postal_code,
        city=company.city,
        nace=company.nace,
        nace_section=company.nace_section,
        employees=company.employees,
        size_class=company.size_class,
        duns=company.duns,
        vat_id=company.vat_id,
        website=company.website,
    )


def emit_lead(
    session: AsyncSession,
    settings: ServiceSettings,
    type_: str,
    lead: LeadRow,
    company: CompanyRow,
    **extra: Any,
) -> None:
    """Stage ``type_`` for the lead's current state, in the caller's transaction."""
    fields: dict[str, Any] = {
        "lead_id": lead.id,
        "version": lead.version,
        "status": lead.status,
        "company": snapshot(company),
        "owner": lead.owner,
        "team": lead.team,
        "source_channel": lead.source_channel,
        "source_campaign": lead.source_campaign,
        "score": lead.score,
        "existing_customer": lead.existing_customer,
        "account_id": lead.account_id,
    }
    fields.update(extra)
    payload = PAYLOADS[type_](**fields)
    emit(session, settings, type_, lead.id, payload, correlation_id=lead.correlation_id)
