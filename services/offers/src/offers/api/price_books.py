"""Price books per currency, segment or customer, with validity dates and volume tiers."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from offers.api.roles import CATALOG_WRITERS, READERS
from offers.catalog import book_out, entry_row, load_products
from offers.domain.configuration import Violation
from offers.domain.money import minor_units
from offers.domain.pricing import Tier, tier_problems
from offers.quoting import invalid
from offers.schemas import PriceBookFields, PriceBookOut, PriceBookPage
from offers.tables import PriceBookRow, PriceEntryRow
from salesflow.api import not_found
from salesflow.api.etag import IF_MATCH_REQUIRED, require_if_match, set_etag
from salesflow.api.fields import Currency
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require
from salesflow.contracts.events.common import SizeClass

router = APIRouter(tags=["price books"])
IdPath = Path(max_length=36)


async def _check_entries(session: AsyncSession, body: PriceBookFields) -> None:
    """Entries must name known products and options, tiers must make sense, no entry twice."""
    problems: list[Violation] = []
    products = await load_products(session, {e.sku for e in body.entries})
    seen: set[tuple[str, str | None, str | None]] = set()
    places = minor_units(body.currency) + 4
    for i, entry in enumerate(body.entries, start=1):
        where = f"entry {i} ({entry.sku})"
        key = (entry.sku, entry.option_code, entry.option_value)
        if key in seen:
            problems.append(
                Violation("duplicate_entry", f"{where} is listed twice", None, entry.sku)
            )
        seen.add(key)
        product = products.get(entry.sku)
        if product is None:
            problems.append(Violation("unknown_sku", f"{where}: no such product", None, entry.sku))
        elif entry.option_code is not None:
            option = next((o for o in product.options if o["code"] == entry.option_code), None)
            if option is None or (option["values"] and entry.option_value not in option["values"]):
                problems.append(
                    Violation(
                        "unknown_option",
                        f"{where}: {entry.option_code}={entry.option_value} is not an option",
                        None,
                        entry.sku,
                    )
                )
        for price in [entry.unit_price, *(t.unit_price for t in entry.tiers)]:
            if -price.as_tuple().exponent > places:  # type: ignore[operator]
                problems.append(
                    Violation(
                        "price_precision",
                        f"{where}: {price} has more than {places} "
                        f"decimal places for {body.currency}",
                        None,
                        entry.sku,
                    )
                )
        tiers = [Tier(t.min_quantity, t.unit_price) for t in entry.tiers]
        for problem in tier_problems(entry.unit_price, tiers):
            problems.append(Violation("tiers", f"{where}: {problem}", None, entry.sku))
    if problems:
        raise invalid(problems, "the price book is invalid", "Invalid price book")


async def _entries(session: AsyncSession, book_id: str) -> list[PriceEntryRow]:
    stmt = select(PriceEntryRow).where(PriceEntryRow.book_id == book_id).order_by(PriceEntryRow.id)
    return list((await session.exec(stmt)).all())


def _book_values(body: PriceBookFields) -> dict[str, object]:
    """The book's columns (the segment as plain text, not the enum)."""
    values = body.model_dump(exclude={"entries"})
    values["segment"] = body.segment.value if body.segment else None
    return values


def _apply(row: PriceBookRow, body: PriceBookFields) -> None:
    for key, value in _book_values(body).items():
        setattr(row, key, value)


@router.get("/price-books", response_model=PriceBookPage, summary="List price books")
async def list_price_books(
    request: Request,
    currency: Currency | None = Query(None),
    customer_id: str | None = Query(None, max_length=128),
    segment: SizeClass | None = Query(None),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> PriceBookPage:
    stmt = select(PriceBookRow)
    if currency:
        stmt = stmt.where(PriceBookRow.currency == currency)
    if customer_id:
        stmt = stmt.where(PriceBookRow.customer_id == customer_id)
    if segment:
        stmt = stmt.where(PriceBookRow.segment == segment.value)
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(keyset(stmt, page, PriceBookRow.created_at, PriceBookRow.id))
        ).all()
        items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
        by_book: dict[str, list[PriceEntryRow]] = {r.id: [] for r in items}
        if items:
            stmt = select(PriceEntryRow).where(PriceEntryRow.book_id.in_(list(by_book)))
            for entry in (await session.exec(stmt.order_by(PriceEntryRow.id))).all():
                by_book[entry.book_id].append(entry)
        out = [book_out(r, by_book[r.id]) for r in items]
    return PriceBookPage(items=out, next_cursor=cursor)


@router.post(
    "/price-books",
    status_code=201,
    response_model=PriceBookOut,
    summary="Create a price book",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def create_price_book(
    body: PriceBookFields,
    request: Request,
    principal: Principal = Depends(require(*CATALOG_WRITERS)),
) -> JSONResponse:
    async def create(session: AsyncSession) -> tuple[int, PriceBookOut]:
        await _check_entries(session, body)
        now = datetime.now(UTC)
        row = PriceBookRow(
            id=str(uuid.uuid4()),
            created_by=principal.sub,
            created_at=now,
            updated_at=now,
            **_book_values(body),
        )
        session.add(row)
        await session.flush()
        entries = [entry_row(row.id, e) for e in body.entries]
        session.add_all(entries)
        await session.flush()
        return 201, book_out(row, entries)

    response = await run_idempotent(request.app.state.db, request, principal.sub, body, create)
    set_etag(response, json.loads(response.body)["version"])  # also on a replayed answer
    return response


@router.get("/price-books/{book_id}", response_model=PriceBookOut, summary="One price book")
async def get_price_book(
    request: Request,
    response: Response,
    book_id: str = IdPath,
    principal: Principal = Depends(require(*READERS)),
) -> PriceBookOut:
    async with request.app.state.db.session() as session:
        row = await session.get(PriceBookRow, book_id)
        if row is None:
            raise not_found("price book")
        out = book_out(row, await _entries(session, row.id))
    set_etag(response, row.version)
    return out


@router.put(
    "/price-books/{book_id}",
    response_model=PriceBookOut,
    summary="Replace a price book (If-Match)",
    openapi_extra=IF_MATCH_REQUIRED,
)
async def replace_price_book(
    body: PriceBookFields,
    request: Request,
    response: Response,
    book_id: str = IdPath,
    principal: Principal = Depends(require(*CATALOG_WRITERS)),
) -> PriceBookOut:
    """Offers already priced keep their frozen prices; only new pricing sees the change."""
    async with request.app.state.db.session() as session, session.begin():
        row = (
            await session.exec(
                select(PriceBookRow).where(PriceBookRow.id == book_id).with_for_update()
            )
        ).first()
        if row is None:
            raise not_found("price book")
        require_if_match(request, row.version)
        await _check_entries(session, body)
        _apply(row, body)
        row.version += 1
        row.updated_at = datetime.now(UTC)
        session.add(row)
        await session.execute(delete(PriceEntryRow).where(PriceEntryRow.book_id == row.id))
        entries = [entry_row(row.id, e) for e in body.entries]
        session.add_all(entries)
        await session.flush()
        out = book_out(row, entries)
    set_etag(response, row.version)
    return out
