"""Criteria, counts, segments and their materialization (suspects → prospects)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from leads.app.company_queries import C, conditions, count_statement
from leads.domain.companies import CompanyStatus
from leads.domain.criteria import Criteria, CriteriaError, build_criteria
from leads.reference import nace_table
from leads.schemas.companies import CriteriaIn, CriteriaOut, MaterializeOut
from leads.tables import CompanyRow, SegmentMemberRow, SegmentRow
from salesflow.api.errors import Problem


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


async def materialize(session: AsyncSession, segment: SegmentRow, now: datetime) -> MaterializeOut:
    """Add every match that is not a member yet; suspects among matches become prospects.
    Re-running adds only new matches."""
    criteria = stored_criteria(segment)
    where = conditions(criteria)
    members = SegmentMemberRow.__table__
    matched = (await session.execute(count_statement(criteria))).scalar_one()
    not_member = ~exists().where(
        and_(members.c.segment_id == segment.id, members.c.company_id == C.id)
    )
    added = await session.execute(
        insert(members).from_select(
            ["segment_id", "company_id", "added_at"],
            select(literal(segment.id), C.id, literal(now, members.c.added_at.type))
            .select_from(CompanyRow.__table__)
            .where(*where, not_member),
        )
    )
    promoted = await session.execute(
        update(CompanyRow.__table__)
        .where(*where, C.status == CompanyStatus.SUSPECT.value)
        .values(status=CompanyStatus.PROSPECT.value, updated_at=now)
    )
    total = (
        await session.execute(
            select(func.count()).select_from(members).where(members.c.segment_id == segment.id)
        )
    ).scalar_one()
    segment.members = total
    segment.materialized_at = now
    segment.updated_at = now
    segment.version += 1
    session.add(segment)
    return MaterializeOut(
        segment_id=segment.id,
        matched=matched,
        added=_rowcount(added),
        promoted=_rowcount(promoted),
        members=total,
        materialized_at=now,
    )


def _rowcount(result: Any) -> int:
    return max(0, result.rowcount or 0)
