"""The company universe: CSV import, listing with filters, counts."""

from decimal import Decimal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import select

from leads.api.roles import READERS, UNIVERSE_WRITERS
from leads.app import segments as seg
from leads.app.company_queries import conditions
from leads.domain.companies import CompanyStatus
from leads.importing.service import CompanyImport
from leads.schemas.companies import (
    CompanyOut,
    CompanyPage,
    CountOut,
    CriteriaIn,
    ImportOut,
    ImportResult,
    NaceRevision,
    RejectedRow,
)
from leads.tables import CompanyRow, ImportRow
from salesflow.api import Problem, not_found
from salesflow.api.fields import Currency
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require
from salesflow.contracts.events.common import SizeClass

router = APIRouter(tags=["companies"])
IMPORT_PATH = "/companies/import"
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "A CSV file with a header line (UTF-8 unless `charset` says otherwise; UTF-16 "
            "with a byte order mark is recognized; `,` `;` tab or `|` as delimiter). Columns: "
            "see the service README."
        ),
        "content": {
            "text/csv": {
                "schema": {
                    "type": "string",
                    # the least a company list has: a header naming name and country
                    "pattern": "^name[,;]country\\r?\\n[^\\x00]*$",
                    "example": "name,country,postal_code,nace,employees\nACME GmbH,DE,80331,62.10,42\n",
                }
            }
        },
    }
}


@router.post(
    IMPORT_PATH,
    response_model=ImportResult,
    summary="Import companies from CSV (streamed)",
    openapi_extra=_CSV_BODY,
)
async def import_companies(
    request: Request,
    source: str = Query(
        "import",
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$",
        description="Source for rows without a source column (dnb, listflix, manual …)",
    ),
    nace_revision: NaceRevision = Query("2.1", description="Revision of rows without one"),
    principal: Principal = Depends(require(*UNIVERSE_WRITERS)),
) -> ImportResult:
    settings = request.app.state.settings
    job = CompanyImport(
        request.app.state.db,
        settings,
        created_by=principal.sub,
        source=source,
        nace_revision=nace_revision,
        batch_rows=settings.import_batch_rows,
        max_reported_errors=settings.import_max_reported_errors,
    )
    report = await job.run(request.stream(), request.headers.get("content-type"))
    assert report.import_id is not None
    return ImportResult(
        import_id=report.import_id,
        rows=report.rows,
        accepted=report.accepted,
        updated=report.updated,
        rejected=report.rejected,
        blank_lines=report.blank_lines,
        delimiter=report.delimiter,
        columns=report.columns,
        ignored_columns=report.ignored_columns,
        rejected_rows=[RejectedRow(line=line, reason=reason) for line, reason in report.errors],
        rejected_rows_truncated=report.errors_truncated,
        seconds=report.seconds,
    )


@router.get(IMPORT_PATH, response_model=list[ImportOut], summary="The latest imports")
async def list_imports(
    request: Request,
    limit: int = Query(20, ge=1, le=200),
    principal: Principal = Depends(require(*READERS)),
) -> list[ImportOut]:
    stmt = select(ImportRow).order_by(ImportRow.id.desc()).limit(limit)  # type: ignore[union-attr]
    async with request.app.state.db.session() as session:
        rows = (await session.exec(stmt)).all()
    return [ImportOut.model_validate(r, from_attributes=True) for r in rows]


def filter_params(
    nace: list[str] | None = Query(None, description="NACE code at any level; repeatable"),
    nace_revision: NaceRevision = Query("2.1"),
    size_class: list[SizeClass] | None = Query(None),
    employees_min: int | None = Query(None, ge=0, le=10_000_000),
    employees_max: int | None = Query(None, ge=0, le=10_000_000),
    revenue_min: Decimal | None = Query(None, ge=0, lt=Decimal("1e14")),
    revenue_max: Decimal | None = Query(None, ge=0, lt=Decimal("1e14")),
    revenue_currency: Currency | None = Query(None),
    country: list[str] | None = Query(None, description="ISO 3166-1 alpha-2; repeatable"),
    region: list[str] | None = Query(None, description="NUTS code or prefix; repeatable"),
    status: list[CompanyStatus] | None = Query(None),
) -> CriteriaIn:
    try:
        return CriteriaIn(
            nace=nace or [],
            nace_revision=nace_revision,
            size_classes=size_class or [],
            employees_min=employees_min,
            employees_max=employees_max,
            revenue_min=revenue_min,
            revenue_max=revenue_max,
            revenue_currency=revenue_currency,
            countries=[c.upper() for c in country or []],
            regions=[r.upper() for r in region or []],
            statuses=status or [],
        )
    except ValueError as exc:
        raise Problem(422, "invalid filter", errors=_errors(exc)) from None


def _errors(exc: ValueError) -> list[dict[str, str]]:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [{"msg": str(exc)}]
    return [
        {"loc": ".".join(map(str, e.get("loc", ()))), "msg": str(e.get("msg", ""))}
        for e in errors()
    ]


@router.get("/companies", response_model=CompanyPage, summary="List companies with filters")
async def list_companies(
    request: Request,
    principal: Principal = Depends(require(*READERS)),  # first: 401 before any 422
    filters: CriteriaIn = Depends(filter_params),
    page: PageParams = Depends(page_params),
) -> CompanyPage:
    criteria = seg.criteria_of(filters)
    stmt = select(CompanyRow).where(*conditions(criteria))
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, CompanyRow.id, CompanyRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.id, r.id))
    return CompanyPage(
        items=[CompanyOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/companies/count", response_model=CountOut, summary="Count companies with filters")
async def count_companies(
    request: Request,
    principal: Principal = Depends(require(*READERS)),  # first: 401 before any 422
    filters: CriteriaIn = Depends(filter_params),
) -> CountOut:
    criteria = seg.criteria_of(filters)
    async with request.app.state.db.session() as session:
        total, ms = await seg.count(session, criteria)
    return CountOut(count=total, milliseconds=ms)


@router.get("/companies/{company_id}", response_model=CompanyOut, summary="One company")
async def get_company(
    request: Request,
    company_id: int = Path(ge=1, le=2**62),
    principal: Principal = Depends(require(*READERS)),
) -> CompanyOut:
    async with request.app.state.db.session() as session:
        row = await session.get(CompanyRow, company_id)
    if row is None:
        raise not_found("company")
    return CompanyOut.model_validate(row, from_attributes=True)
