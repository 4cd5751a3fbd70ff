"""NACE reference data: search and one code with parent and children."""

from fastapi import APIRouter, Depends, Path, Query

from leads.api.roles import READERS
from leads.domain.nace import LEVEL_NAMES, NaceCode, NaceTable
from leads.reference import nace_table
from leads.schemas.companies import NaceOut, NaceRef, NaceRevision, NaceSearch
from salesflow.api import not_found
from salesflow.auth import Principal, require

router = APIRouter(tags=["nace"])


def _ref(code: NaceCode) -> NaceRef:
    return NaceRef(code=code.code, title=code.title, level=code.level, level_name=code.level_name)


def _counts(table: NaceTable) -> dict[str, int]:
    return {LEVEL_NAMES[level]: n for level, n in table.counts().items()}


@router.get("/nace", response_model=NaceSearch, summary="Search NACE codes by code or title")
async def search_nace(
    q: str = Query("", max_length=100, description="Words of the title, or a code"),
    revision: NaceRevision = Query("2.1"),
    level: int | None = Query(None, ge=1, le=4, description="1 section … 4 class"),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(require(*READERS)),
) -> NaceSearch:
    table = nace_table(revision)
    hits = table.search(q, limit=limit, level=level)
    return NaceSearch(revision=revision, counts=_counts(table), items=[_ref(c) for c in hits])


@router.get("/nace/{code}", response_model=NaceOut, summary="One NACE code, parent and children")
async def get_nace(
    code: str = Path(max_length=12),
    revision: NaceRevision = Query("2.1"),
    principal: Principal = Depends(require(*READERS)),
) -> NaceOut:
    table = nace_table(revision)
    found = table.get(code)
    if found is None:
        raise not_found(f"NACE Rev. {revision} code")
    parent = table.codes[found.parent] if found.parent else None
    return NaceOut(
        **_ref(found).model_dump(),
        revision=revision,
        section=found.section,
        parent=_ref(parent) if parent else None,
        ancestors=[_ref(a) for a in table.ancestors(found.code)],
        children=[_ref(table.codes[c]) for c in found.children],
    )
