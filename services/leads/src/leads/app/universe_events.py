"""Events of the company universe: suspects (``companies.imported`` on ``leads.import.v1``) and
prospects (``prospects.materialized`` on ``leads.segment.v1``), counted per segment cell and
staged in the transaction of the change they count."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace

from sqlmodel.ext.asyncio.session import AsyncSession

from leads.domain.universe import CellKey, tally
from leads.tables import CompanyRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.leads import (
    CompaniesImported,
    ProspectsMaterialized,
    UniverseCell,
)
from salesflow.messaging.handlers import emit
from salesflow.settings import ServiceSettings


def cells(keys: Iterable[CellKey]) -> list[UniverseCell]:
    return [
        UniverseCell(nace_section=s, size_class=z, country=c, source=src, count=n)  # type: ignore[arg-type]
        for (s, z, c, src), n in tally(keys)
    ]


Company = CompanyRow | SimpleNamespace
"""A company's columns as attributes: the ORM row, or the values a Core statement wrote."""


def cell_of(company: Company) -> CellKey:
    return (company.nace_section, company.size_class, company.country, company.source)


def emit_imported(
    session: AsyncSession,
    settings: ServiceSettings,
    *,
    import_id: str,
    chunk: int,
    suspects: Iterable[CellKey],
    rows_updated: int = 0,
    rows_rejected: int = 0,
    correlation_id: str | None = None,
    cause: Envelope | None = None,
) -> Envelope:
    """One committed chunk of an import (or one company created some other way)."""
    payload = CompaniesImported(
        import_id=import_id,
        chunk=chunk,
        suspects=cells(suspects),
        rows_updated=rows_updated,
        rows_rejected=rows_rejected,
    )
    return emit(
        session,
        settings,
        "companies.imported.v1",
        import_id,
        payload,
        correlation_id=correlation_id,
        cause=cause,
    )


def emit_company_created(
    session: AsyncSession,
    settings: ServiceSettings,
    company: Company,
    origin: str,
    *,
    cause: Envelope | None = None,
) -> Envelope:
    """A company created outside an import (on the fly from a touchpoint, from an onboarded
    account): one event counting 1, its own "import" named after the origin and company."""
    return emit_imported(
        session,
        settings,
        import_id=f"{origin}:{company.id}",
        chunk=1,
        suspects=[cell_of(company)],
        cause=cause,
    )


def emit_materialized(
    session: AsyncSession,
    settings: ServiceSettings,
    *,
    segment_id: str,
    segment_name: str,
    run_id: str,
    chunk: int,
    prospects: Iterable[CellKey],
    correlation_id: str,
) -> Envelope:
    payload = ProspectsMaterialized(
        segment_id=segment_id,
        segment_name=segment_name,
        run_id=run_id,
        chunk=chunk,
        prospects=cells(prospects),
    )
    return emit(
        session,
        settings,
        "prospects.materialized.v1",
        segment_id,
        payload,
        correlation_id=correlation_id,
    )
