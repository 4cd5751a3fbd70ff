"""Criteria, counts, segments and their materialization (suspects → prospects)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from leads.app.company_queries import C, conditions, count_statement
from leads.app.universe_events import emit_materialized
from leads.config import Settings
from leads.domain.companies import CompanyStatus
from leads.domain.criteria import Criteria, CriteriaError, build_criteria
from leads.domain.universe import CellKey
from leads.reference import nace_table
from leads.schemas.companies import CriteriaIn, CriteriaOut, MaterializeOut
from leads.tables import CompanyRow, SegmentMemberRow, SegmentRow
from salesflow.api.errors import Problem, not_found
from salesflow.db import Database


def criteria_of(body: CriteriaIn) -> Criteria:
    try:
        return build_criteria(
            nace_table(body.nace_revision),
            nace=body.nace,
            size_classes=[s.value for s in body.size_classes],
            employees_min=body.employees_min,
            employees_max=body.employees_max,
            revenue_min=body.revenue_min,
            revenue_max=body.revenue_max,
            revenue_currency=body.revenue_currency,
            countries=body.countries,
            regions=body.regions,
            statuses=[s.value for s in body.statuses],
        )
    except CriteriaError as exc:
        raise Problem(422, str(exc)) from None


def criteria_out(criteria: Criteria) -> CriteriaOut:
    return CriteriaOut(
        nace=list(criteria.nace),
        nace_revision=criteria.nace_rev,  # type: ignore[arg-type]
        size_classes=list(criteria.size_classes),  # type: ignore[arg-type]
        employees_min=criteria.employees_min,
        employees_max=criteria.employees_max,
        revenue_min=criteria.revenue_min,
        revenue_max=criteria.revenue_max,
        revenue_currency=criteria.revenue_currency,
        countries=list(criteria.countries),
        regions=list(criteria.regions),
        statuses=list(criteria.statuses),  # type: ignore[arg-type]
    )


def stored_criteria(segment: SegmentRow) -> Criteria:
    body = CriteriaIn.model_validate(
        {**segment.criteria, "nace_revision": segment.criteria.get("nace_revision", "2.1")}
    )
    return criteria_of(body)


async def count(session: AsyncSession, criteria: Criteria) -> tuple[int, float]:
    started = time.perf_counter()
    total = (await session.execute(count_statement(criteria))).scalar_one()
    return total, round((time.perf_counter() - started) * 1000, 3)


def new_segment(name: str, criteria: Criteria, created_by: str) -> SegmentRow:
    now = datetime.now(UTC)
    return SegmentRow(
        id=str(uuid.uuid4()),
        name=name,
        criteria=criteria_out(criteria).model_dump(mode="json"),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )


async def materialize(
    db: Database, settings: Settings, segment_id: str, now: datetime
) -> MaterializeOut:
    """Add every match that is not a member yet; suspects among matches become prospects.
    Re-running adds only new matches.

    Works through the matches in chunks of ``materialize_batch_rows`` companies (by id), one
    transaction each, and stages one ``prospects.materialized`` per chunk that promoted any
    suspect, counting exactly the companies that chunk promoted. A run that stops half-way
    leaves whole chunks behind; the next run picks up the rest."""
    async with db.session() as session:
        segment = await session.get(SegmentRow, segment_id)
        if segment is None:
            raise not_found("segment")
        criteria = stored_criteria(segment)
        matched = (await session.execute(count_statement(criteria))).scalar_one()
    where = conditions(criteria)
    run_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())  # one per run: prospects are no customer journey yet
    added = promoted = chunks = 0
    after = 0
    while True:
        async with db.session() as session, session.begin():
            upper = await _chunk_end(session, where, after, settings.materialize_batch_rows)
            in_chunk = [C.id > after] + ([C.id <= upper] if upper is not None else [])
            added += await _add_members(session, segment_id, [*where, *in_chunk], now)
            cells = await _promote(session, [*where, *in_chunk], now)
            if cells:
                chunks += 1
                promoted += len(cells)
                emit_materialized(
                    session,
                    settings,
                    segment_id=segment_id,
                    segment_name=segment.name,
                    run_id=run_id,
                    chunk=chunks,
                    prospects=cells,
                    correlation_id=correlation_id,
                )
        if upper is None:
            break
        after = upper
    async with db.session() as session, session.begin():
        members = SegmentMemberRow.__table__
        total = (
            await session.execute(
                select(func.count()).select_from(members).where(members.c.segment_id == segment_id)
            )
        ).scalar_one()
        await session.execute(
            update(SegmentRow.__table__)
            .where(SegmentRow.__table__.c.id == segment_id)
            .values(
                members=total,
                materialized_at=now,
                updated_at=now,
                version=SegmentRow.__table__.c.version + 1,
            )
        )
    return MaterializeOut(
        segment_id=segment_id,
        matched=matched,
        added=added,
        promoted=promoted,
        members=total,
        materialized_at=now,
        run_id=run_id,
        chunks=chunks,
    )


async def _chunk_end(session: AsyncSession, where: list[Any], after: int, size: int) -> int | None:
    """Id of the ``size``-th match after ``after``; None when fewer are left (the last chunk)."""
    stmt = select(C.id).where(*where, C.id > after).order_by(C.id).offset(max(0, size - 1)).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _add_members(
    session: AsyncSession, segment_id: str, where: list[Any], now: datetime
) -> int:
    members = SegmentMemberRow.__table__
    not_member = ~exists().where(
        and_(members.c.segment_id == segment_id, members.c.company_id == C.id)
    )
    result = await session.execute(
        insert(members).from_select(
            ["segment_id", "company_id", "added_at"],
            select(literal(segment_id), C.id, literal(now, members.c.added_at.type))
            .select_from(CompanyRow.__table__)
            .where(*where, not_member),
        )
    )
    return _rowcount(result)


async def _promote(session: AsyncSession, where: list[Any], now: datetime) -> list[CellKey]:
    """Suspects among the matches become prospects; their cells, one per company."""
    result = await session.execute(
        update(CompanyRow.__table__)
        .where(*where, C.status == CompanyStatus.SUSPECT.value)
        .values(status=CompanyStatus.PROSPECT.value, updated_at=now)
        .returning(C.nace_section, C.size_class, C.country, C.source)
    )
    return [tuple(row) for row in result.all()]  # type: ignore[misc]


def _rowcount(result: Any) -> int:
    return max(0, result.rowcount or 0)
