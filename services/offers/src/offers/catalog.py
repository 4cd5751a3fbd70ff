"""Catalog and price books between tables, API models and the pure domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import Row, bindparam, or_
from sqlalchemy import select as core_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from offers.domain.configuration import (
    Component,
    Condition,
    OptionDef,
    ProductDef,
    Rule,
    RuleKind,
)
from offers.domain.money import round_price
from offers.domain.pricebooks import PriceBookDef, PriceEntryDef, PriceList
from offers.domain.pricing import Tier, TierMode
from offers.schemas import (
    PriceBookOut,
    PriceEntryIn,
    PriceEntryOut,
    ProductFields,
    ProductOut,
    TierIn,
)
from offers.tables import NO_OPTION, PriceBookRow, PriceEntryRow, ProductRow


def product_def(row: ProductRow | Row) -> ProductDef:
    return ProductDef(
        sku=row.sku,
        name=row.name,
        kind=row.kind,
        active=row.active,
        options=tuple(
            OptionDef(
                code=o["code"],
                name=o["name"],
                values=tuple(o.get("values") or ()),
                required=bool(o.get("required")),
                default=o.get("default"),
            )
            for o in row.options
        ),
        rules=tuple(
            Rule(
                kind=RuleKind(r["kind"]),
                when=Condition(r["when"]["option"], r["when"].get("value")),
                then=Condition(r["then"]["option"], r["then"].get("value")),
                name=r.get("name") or "",
                message=r.get("message"),
            )
            for r in row.rules
        ),
        components=tuple(Component(c["sku"], Decimal(c["quantity"])) for c in row.components),
        requires_skus=tuple(row.requires_skus),
        excludes_skus=tuple(row.excludes_skus),
    )


def apply_product_fields(row: ProductRow, body: ProductFields) -> None:
    data = body.model_dump(mode="json")
    for key in (
        "name",
        "description",
        "unit",
        "tax_category",
        "kind",
        "active",
        "options",
        "rules",
        "components",
        "requires_skus",
        "excludes_skus",
    ):
        setattr(row, key, data[key])


def product_out(row: ProductRow) -> ProductOut:
    return ProductOut.model_validate(
        {**row.model_dump(), "is_bundle": bool(row.components)}, from_attributes=False
    )


async def load_products(session: AsyncSession, skus: Iterable[str]) -> dict[str, ProductRow]:
    """The products named, plus the components of any bundle among them."""
    wanted = set(skus)
    rows = {
        r.sku: r
        for r in (await session.exec(select(ProductRow).where(ProductRow.sku.in_(wanted)))).all()
    }
    parts = {c["sku"] for r in rows.values() for c in r.components} - rows.keys()
    if parts:
        for r in (await session.exec(select(ProductRow).where(ProductRow.sku.in_(parts)))).all():
            rows[r.sku] = r
    return rows


def book_def(row: PriceBookRow | Row) -> PriceBookDef:
    return PriceBookDef(
        id=row.id,
        name=row.name,
        currency=row.currency,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        segment=row.segment,
        customer_id=row.customer_id,
        priority=row.priority,
        active=row.active,
    )


def entry_def(row: PriceEntryRow | Row) -> PriceEntryDef:
    return PriceEntryDef(
        book_id=row.book_id,
        sku=row.sku,
        unit_price=Decimal(row.unit_price),
        option_code=row.option_code or None,
        option_value=row.option_value if row.option_code else None,
        tiers=tuple(Tier(Decimal(t["min_quantity"]), Decimal(t["unit_price"])) for t in row.tiers),
        mode=TierMode(row.mode),
    )


def entry_row(book_id: str, entry: PriceEntryIn) -> PriceEntryRow:
    return PriceEntryRow(
        book_id=book_id,
        sku=entry.sku,
        option_code=entry.option_code or NO_OPTION,
        option_value=entry.option_value or NO_OPTION,
        unit_price=entry.unit_price,
        mode=entry.mode.value,
        tiers=[t.model_dump(mode="json") for t in entry.tiers],
    )


def book_out(row: PriceBookRow, entries: Iterable[PriceEntryRow]) -> PriceBookOut:
    return PriceBookOut(
        **row.model_dump(exclude={"created_by"}),
        entries=[
            PriceEntryOut(
                sku=e.sku,
                # the column keeps 6 places; show the currency's (185000.00), never "1.85E+5"
                unit_price=round_price(Decimal(e.unit_price), row.currency),
                option_code=e.option_code or None,
                option_value=e.option_value if e.option_code else None,
                mode=TierMode(e.mode),
                tiers=[TierIn.model_validate(t) for t in e.tiers],
            )
            for e in entries
        ],
    )


# Pricing reads run on every offer created or revised: plain rows through statements built
# once (building a statement and its cache key costs more than running it on a small catalog).
_PRODUCTS = ProductRow.__table__
_BOOKS = PriceBookRow.__table__
_ENTRIES = PriceEntryRow.__table__
_PRODUCTS_BY_SKU = core_select(_PRODUCTS).where(
    _PRODUCTS.c.sku.in_(bindparam("skus", expanding=True))
)
_APPLICABLE_PRICES = (
    core_select(
        _BOOKS.c.id,
        _BOOKS.c.name,
        _BOOKS.c.currency,
        _BOOKS.c.valid_from,
        _BOOKS.c.valid_to,
        _BOOKS.c.segment,
        _BOOKS.c.customer_id,
        _BOOKS.c.priority,
        _BOOKS.c.active,
        _ENTRIES.c.book_id,
        _ENTRIES.c.sku,
        _ENTRIES.c.unit_price,
        _ENTRIES.c.option_code,
        _ENTRIES.c.option_value,
        _ENTRIES.c.tiers,
        _ENTRIES.c.mode,
    )
    .select_from(_ENTRIES.join(_BOOKS, _ENTRIES.c.book_id == _BOOKS.c.id))
    .where(
        _BOOKS.c.currency == bindparam("currency"),
        _BOOKS.c.active.is_(True),
        _BOOKS.c.valid_from <= bindparam("on"),
        or_(_BOOKS.c.valid_to.is_(None), _BOOKS.c.valid_to >= bindparam("on")),
        or_(_BOOKS.c.customer_id.is_(None), _BOOKS.c.customer_id == bindparam("customer_id")),
        _ENTRIES.c.sku.in_(bindparam("skus", expanding=True)),
    )
)


async def product_rows(session: AsyncSession, skus: Iterable[str]) -> dict[str, Row]:
    """``load_products`` as plain rows (read-only, for pricing)."""
    wanted = list(set(skus))
    result = await session.exec(_PRODUCTS_BY_SKU, params={"skus": wanted})
    rows = {r.sku: r for r in result.all()}
    parts = {c["sku"] for r in rows.values() for c in r.components} - rows.keys()
    if parts:
        result = await session.exec(_PRODUCTS_BY_SKU, params={"skus": list(parts)})
        rows.update((r.sku, r) for r in result.all())
    return rows


async def load_price_list(
    session: AsyncSession,
    *,
    currency: str,
    customer_id: str | None,
    segment: str | None,
    on: date,
    skus: Iterable[str],
) -> PriceList:
    """Only the books that can apply (currency, dates, customer) and only the SKUs needed, in
    one query: a book without an entry for these SKUs cannot price anything."""
    params = {"currency": currency, "on": on, "customer_id": customer_id, "skus": list(set(skus))}
    rows = (await session.exec(_APPLICABLE_PRICES, params=params)).all()
    books = {r.id: r for r in rows}
    return PriceList(
        [book_def(b) for b in books.values()],
        [entry_def(e) for e in rows],
        currency=currency,
        customer_id=customer_id,
        segment=segment,
        on=on,
    )
