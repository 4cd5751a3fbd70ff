"""``/price-list``: the prices direct orders are priced with (see ``orders.pricelist``)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from orders.schemas import SKU_MAX_LENGTH, SKU_PATTERN, PriceIn, PriceOut, PricePage
from orders.tables import PriceRow
from salesflow.api import conflict
from salesflow.api.etag import IF_MATCH_TO_REPLACE, require_if_match, set_etag
from salesflow.api.fields import Currency
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require
from salesflow.contracts.events.common import LineKind

router = APIRouter(tags=["price list"])
READERS = ("order_desk", "integration", "sales_rep", "sales_manager", "analyst")
EDITORS = ("order_desk", "sales_manager")


def _out(row: PriceRow) -> PriceOut:
    return PriceOut(
        sku=row.sku,
        currency=row.currency,
        name=row.name,
        description=row.description,
        unit=row.unit,
        kind=LineKind(row.kind),
        unit_price=Decimal(row.unit_price),
        tax_rate=Decimal(row.tax_rate),
        active=row.active,
        version=row.version,
        updated_at=row.updated_at,
    )


@router.get("/price-list", response_model=PricePage, summary="Prices for direct orders")
async def list_prices(
    request: Request,
    currency: Currency | None = Query(None),
    active: bool | None = Query(None),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> PricePage:
    stmt = select(PriceRow)
    if currency:
        stmt = stmt.where(PriceRow.currency == currency)
    if active is not None:
        stmt = stmt.where(PriceRow.active == active)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, PriceRow.sku, PriceRow.currency))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.sku, r.currency))
    return PricePage(items=[_out(r) for r in items], next_cursor=cursor)


@router.put(
    "/price-list/{sku:path}",
    response_model=PriceOut,
    responses={201: {"model": PriceOut, "description": "Created"}},
    summary="Set the price of a SKU in a currency",
    description="Orders already taken keep their prices. Changing an existing price needs "
    "`If-Match` with its ETag.",
    openapi_extra=IF_MATCH_TO_REPLACE,
)
async def put_price(
    body: PriceIn,
    request: Request,
    response: Response,
    # the constraints of ``Sku`` spelled out: FastAPI ignores a pydantic Field inside the
    # annotation of a path parameter
    sku: str = Path(min_length=1, max_length=SKU_MAX_LENGTH, pattern=SKU_PATTERN),
    principal: Principal = Depends(require(*EDITORS)),
) -> PriceOut:
    now = request.app.state.clock()
    data = {
        "name": body.name,
        "description": body.description,
        "unit": body.unit,
        "kind": body.kind.value,
        "unit_price": str(body.unit_price),
        "tax_rate": str(body.tax_rate),
        "active": body.active,
    }
    try:
        async with request.app.state.db.session() as session, session.begin():
            row = await session.get(PriceRow, (sku, body.currency), with_for_update=True)
            if row is None:
                row = PriceRow(sku=sku, currency=body.currency, updated_at=now, **data)
                response.status_code = 201
            else:
                require_if_match(request, row.version)
                for field, value in data.items():
                    setattr(row, field, value)
                row.version += 1
                row.updated_at = now
            session.add(row)
    except IntegrityError:  # created concurrently by a twin request
        raise conflict("changed concurrently; fetch it and retry") from None
    set_etag(response, row.version)
    return _out(row)
