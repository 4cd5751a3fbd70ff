"""Catalog: products with options, rules and bundle components."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import String, cast, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.convertors import Convertor, register_url_convertor

from offers.api.roles import CATALOG_WRITERS, READERS
from offers.catalog import apply_product_fields, load_products, product_def, product_out
from offers.domain.configuration import LineRequest, Violation, configure_line, definition_problems
from offers.quoting import invalid
from offers.schemas import (
    ConfigurationIn,
    ConfigurationOut,
    ProductFields,
    ProductIn,
    ProductOut,
    ProductPage,
)
from offers.tables import ProductRow
from salesflow.api import conflict, not_found
from salesflow.api.etag import IF_MATCH_REQUIRED, require_if_match, set_etag
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require


class _SkuInPath(Convertor[str]):
    """A SKU may hold "/" (``AB/12``), written plain or as %2F; a last segment
    ``configuration`` is the configuration check's, not part of the SKU."""

    regex = r"[^/]+(?:/(?!configuration$)[^/]+)*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sku", _SkuInPath())
router = APIRouter(tags=["catalog"])
SkuPath = Path(max_length=64)

_CATALOG_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('offers:catalog'))")


async def serialize_product_saves(session: AsyncSession) -> None:
    """Product saves take turns, so the bundle checks see every other save: otherwise one save
    making WIDGET a bundle and another adding WIDGET to KIT could each pass their check before
    the other commits, and KIT would contain a bundle. On PostgreSQL a transaction-scoped
    advisory lock (taken before anything is read; the next save's statements then see this
    one's commit); SQLite has one writer at a time anyway (BEGIN IMMEDIATE). Saves are rare
    catalog maintenance, so one lock for all of them costs nothing that matters."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(_CATALOG_LOCK)


async def _bundles_containing(session: AsyncSession, sku: str) -> list[str]:
    """SKUs of the bundles that list ``sku`` as a component. The text match only narrows the
    rows down (same on SQLite and PostgreSQL); the JSON decides."""
    stmt = select(ProductRow).where(
        cast(ProductRow.components, String).contains(f'"{sku}"', autoescape=True)
    )
    rows = (await session.exec(stmt)).all()
    return [r.sku for r in rows if any(c["sku"] == sku for c in r.components)]


async def _check_definition(
    session: AsyncSession, request: Request, sku: str, body: ProductFields
) -> None:
    """Every problem of the definition at once (422), including unknown tax categories."""
    row = ProductRow(
        sku=sku,
        created_by="",
        options=[],
        rules=[],
        components=[],
        requires_skus=[],
        excludes_skus=[],
    )
    apply_product_fields(row, body)
    referenced = (
        {c.sku for c in body.components} | set(body.requires_skus) | set(body.excludes_skus)
    )
    known = {s: product_def(r) for s, r in (await load_products(session, referenced)).items()}
    part_of = await _bundles_containing(session, sku) if body.components else []
    problems = definition_problems(product_def(row), known, part_of)
    if body.tax_category not in request.app.state.settings.tax_rates:
        problems.append(
            Violation("unknown_tax_category", f"no VAT rate for {body.tax_category!r}", None, sku)
        )
    if problems:
        raise invalid(problems, "the product definition is invalid", "Invalid product")


@router.get("/products", response_model=ProductPage, summary="List products")
async def list_products(
    request: Request,
    active: bool | None = Query(None),
    kind: str | None = Query(None, pattern="^(goods|service)$"),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> ProductPage:
    stmt = select(ProductRow)
    if active is not None:
        stmt = stmt.where(ProductRow.active == active)
    if kind:
        stmt = stmt.where(ProductRow.kind == kind)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, ProductRow.sku, ProductRow.sku))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.sku, r.sku))
    return ProductPage(items=[product_out(r) for r in items], next_cursor=cursor)


@router.post(
    "/products",
    status_code=201,
    response_model=ProductOut,
    summary="Create a product",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def create_product(
    body: ProductIn,
    request: Request,
    principal: Principal = Depends(require(*CATALOG_WRITERS)),
) -> JSONResponse:
    async def create(session: AsyncSession) -> tuple[int, ProductOut]:
        await serialize_product_saves(session)
        if await session.get(ProductRow, body.sku) is not None:
            raise conflict(f"product {body.sku} exists; use PUT /products/{body.sku}")
        await _check_definition(session, request, body.sku, body)
        now = datetime.now(UTC)
        row = ProductRow(
            sku=body.sku,
            created_by=principal.sub,
            created_at=now,
            updated_at=now,
            options=[],
            rules=[],
            components=[],
            requires_skus=[],
            excludes_skus=[],
        )
        apply_product_fields(row, body)
        session.add(row)
        await session.flush()
        return 201, product_out(row)

    response = await run_idempotent(request.app.state.db, request, principal.sub, body, create)
    set_etag(response, json.loads(response.body)["version"])  # also on a replayed answer
    return response


@router.get("/products/{sku:sku}", response_model=ProductOut, summary="One product")
async def get_product(
    request: Request,
    response: Response,
    sku: str = SkuPath,
    principal: Principal = Depends(require(*READERS)),
) -> ProductOut:
    async with request.app.state.db.session() as session:
        row = await session.get(ProductRow, sku)
    if row is None:
        raise not_found("product")
    set_etag(response, row.version)
    return product_out(row)


@router.put(
    "/products/{sku:sku}",
    response_model=ProductOut,
    summary="Change a product (If-Match)",
    openapi_extra=IF_MATCH_REQUIRED,
)
async def update_product(
    body: ProductFields,
    request: Request,
    response: Response,
    sku: str = SkuPath,
    principal: Principal = Depends(require(*CATALOG_WRITERS)),
) -> ProductOut:
    """Offers already priced keep their frozen copy; only new pricing sees the change."""
    async with request.app.state.db.session() as session, session.begin():
        await serialize_product_saves(session)
        row = (
            await session.exec(select(ProductRow).where(ProductRow.sku == sku).with_for_update())
        ).first()
        if row is None:
            raise not_found("product")
        require_if_match(request, row.version)
        await _check_definition(session, request, sku, body)
        apply_product_fields(row, body)
        row.version += 1
        row.updated_at = datetime.now(UTC)
        session.add(row)
    set_etag(response, row.version)
    return product_out(row)


@router.post(
    "/products/{sku:sku}/configuration",
    response_model=ConfigurationOut,
    summary="Check a configuration (422 names every violated rule)",
)
async def check_configuration(
    body: ConfigurationIn,
    request: Request,
    sku: str = SkuPath,
    principal: Principal = Depends(require(*READERS)),
) -> ConfigurationOut:
    async with request.app.state.db.session() as session:
        row = await session.get(ProductRow, sku)
    if row is None:
        raise not_found("product")
    line = LineRequest(1, sku, tuple((o.code, o.value) for o in body.options))
    configured, violations = configure_line(product_def(row), line)
    if violations:
        raise invalid(violations)
    return ConfigurationOut(sku=sku, valid=True, options=configured.options)
