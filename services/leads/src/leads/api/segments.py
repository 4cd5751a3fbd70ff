"""Segments: criteria over the universe, preview counts, materialization."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Path, Request
from sqlmodel import select

from leads.api.roles import READERS, UNIVERSE_WRITERS
from leads.app import segments as seg
from leads.schemas.companies import (
    CountOut,
    CriteriaIn,
    MaterializeOut,
    SegmentIn,
    SegmentOut,
    SegmentPage,
)
from leads.tables import SegmentRow
from salesflow.api import not_found
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require

router = APIRouter(tags=["segments"])


def _out(row: SegmentRow, count: int) -> SegmentOut:
    return SegmentOut(
        id=row.id,
        name=row.name,
        criteria=seg.criteria_out(seg.stored_criteria(row)),
        count=count,
        members=row.members,
        materialized_at=row.materialized_at,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.post(
    "/segments/preview", response_model=CountOut, summary="Count matches of criteria (preview)"
)
@router.post(
    "/segment-preview",
    response_model=CountOut,
    summary="Count matches of criteria (preview; old path of POST /segments/preview)",
    deprecated=True,
)
async def preview_segment(
    body: CriteriaIn,
    request: Request,
    principal: Principal = Depends(require(*READERS)),
) -> CountOut:
    criteria = seg.criteria_of(body)
    async with request.app.state.db.session() as session:
        total, ms = await seg.count(session, criteria)
    return CountOut(count=total, milliseconds=ms)


@router.post(
    "/segments",
    response_model=SegmentOut,
    status_code=201,
    summary="Create a segment",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def create_segment(
    body: SegmentIn,
    request: Request,
    principal: Principal = Depends(require(*UNIVERSE_WRITERS)),
):
    criteria = seg.criteria_of(body.criteria)

    async def create(session) -> tuple[int, SegmentOut]:
        row = seg.new_segment(body.name, criteria, principal.sub)
        session.add(row)
        total, _ = await seg.count(session, criteria)
        return 201, _out(row, total)

    return await run_idempotent(request.app.state.db, request, principal.sub, body, create)


@router.get("/segments", response_model=SegmentPage, summary="List segments")
async def list_segments(
    request: Request,
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> SegmentPage:
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(
                keyset(select(SegmentRow), page, SegmentRow.created_at, SegmentRow.id)
            )
        ).all()
        items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
        outs = [_out(r, (await seg.count(session, seg.stored_criteria(r)))[0]) for r in items]
    return SegmentPage(items=outs, next_cursor=cursor)


@router.get("/segments/{segment_id}", response_model=SegmentOut, summary="One segment")
async def get_segment(
    request: Request,
    segment_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> SegmentOut:
    async with request.app.state.db.session() as session:
        row = await session.get(SegmentRow, segment_id)
        if row is None:
            raise not_found("segment")
        total, _ = await seg.count(session, seg.stored_criteria(row))
    return _out(row, total)


@router.post(
    "/segments/{segment_id}/materialize",
    response_model=MaterializeOut,
    summary="Turn matching suspects into prospects (idempotent)",
)
async def materialize_segment(
    request: Request,
    segment_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*UNIVERSE_WRITERS)),
) -> MaterializeOut:
    return await seg.materialize(
        request.app.state.db, request.app.state.settings, segment_id, datetime.now(UTC)
    )
