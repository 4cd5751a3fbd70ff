"""Turn an offer request into a priced, frozen document (loads catalog and prices, then runs
the pure quote)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Row
from sqlmodel.ext.asyncio.session import AsyncSession

from offers.catalog import load_price_list, product_def, product_rows
from offers.config import Settings
from offers.domain.addresses import address_problems
from offers.domain.configuration import Violation
from offers.domain.money import fits, largest, round_money, round_price
from offers.domain.pricing import plain
from offers.domain.quote import InvalidQuote, QuoteLine, quote
from offers.schemas import (
    AddressIn,
    ContactIn,
    LineComponent,
    LineIn,
    LineOption,
    OfferDocument,
    OfferLine,
    TermsIn,
)
from offers.tables import OpportunityRow
from salesflow.api.errors import Problem
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    TaxAmount,
    Totals,
)
from salesflow.contracts.types import Money

MAX_STORED = Decimal(10) ** 14  # offer totals are stored as NUMERIC(18, 4)


@dataclass
class DocumentDraft:
    """What the customer is offered, before pricing."""

    currency: str
    lines: list[LineIn]
    discount_percent: Decimal
    terms: TermsIn
    valid_until: date
    notes: str | None
    contact: Contact | None
    bill_to: Address | None
    ship_to: Address | None


AMOUNT_RULES = {"line_too_large", "total_too_large"}


def invalid(
    violations: list[Violation],
    what: str = "the offer's configuration is invalid",
    title: str = "Invalid configuration",
) -> Problem:
    if violations and all(v.rule in AMOUNT_RULES for v in violations):
        what, title = "the offer's amounts are too large", "Amount too large"
    return Problem(
        422,
        f"{what}: " + "; ".join(v.message for v in violations),
        title=title,
        violations=[v.as_dict() for v in violations],
    )


def number_lines(lines: list[LineIn], taken_before: int = 0) -> list[tuple[int, LineIn]]:
    """Keep the line numbers a client sent (stable across revisions), number the rest after
    the highest one used so far."""
    used = [line.line_no for line in lines if line.line_no is not None]
    next_no = max([taken_before, *used]) + 1
    numbered = []
    for line in lines:
        if line.line_no is not None:
            numbered.append((line.line_no, line))
        else:
            numbered.append((next_no, line))
            next_no += 1
    return numbered


def check_validity(valid_until: date, today: date, settings: Settings) -> None:
    latest = today + timedelta(days=settings.max_validity_days)
    if valid_until < today:
        raise Problem(422, f"valid_until {valid_until} lies in the past (today is {today})")
    if valid_until > latest:
        raise Problem(
            422, f"valid_until may be at most {settings.max_validity_days} days ahead ({latest})"
        )


def contact_of(value: ContactIn | None) -> Contact | None:
    return Contact(**value.model_dump()) if value else None


def address_of(value: AddressIn | None) -> Address | None:
    return Address(**value.model_dump()) if value else None


def check_addresses(settings: Settings, **addresses: Address | None) -> None:
    """422 if an address given lacks what the orders service needs to confirm an order."""
    problems = address_problems(
        {role.replace("_", "-"): a for role, a in addresses.items()},
        settings.countries_without_postal_code,
    )
    if problems:
        raise Problem(422, "; ".join(problems), title="Incomplete address")


def check_amounts(doc: OfferDocument) -> None:
    """422 if a priced version holds a line or total an order cannot (``fits``): pricing
    refuses those now, but a version priced before the bound existed may still hold one, and
    accepting it would win the opportunity with an order certain to be rejected."""
    cur = doc.currency
    amounts = [(f"line {line.line_no}", line.net + line.tax, line.net) for line in doc.lines] + [
        ("the total", doc.totals.gross.amount, doc.totals.net.amount)
    ]
    too_large = [what for what, *values in amounts if not all(fits(v, cur) for v in values)]
    if too_large:
        raise Problem(
            422,
            f"{', '.join(too_large)} of this version exceed {largest(cur)} {cur}, the largest "
            "amount an order may have: revise the offer",
            title="Amount too large",
        )


async def price_draft(
    session: AsyncSession,
    settings: Settings,
    *,
    opportunity: OpportunityRow | Row,
    draft: DocumentDraft,
    number: int,
    today: date,
    taken_before: int = 0,
) -> OfferDocument:
    """Configure and price ``draft`` with the catalog and the price books valid ``today``."""
    if len(draft.lines) > settings.max_lines:
        raise Problem(422, f"an offer has at most {settings.max_lines} lines")
    customer = CompanySnapshot.model_validate(opportunity.account)
    segment = customer.size_class.value if customer.size_class else None
    numbered = number_lines(draft.lines, taken_before)
    rows = await product_rows(session, [line.sku for _, line in numbered])
    products = {sku: product_def(row) for sku, row in rows.items()}
    price_list = await load_price_list(
        session,
        currency=draft.currency,
        customer_id=customer.company_id,
        segment=segment,
        on=today,
        skus={line.sku for _, line in numbered},
    )
    try:
        result = quote(
            products=products,
            tax_categories={sku: row.tax_category for sku, row in rows.items()},
            tax_rates=settings.tax_rates,
            price_list=price_list,
            currency=draft.currency,
            lines=[
                QuoteLine(
                    line_no=no,
                    sku=line.sku,
                    quantity=line.quantity,
                    options=tuple((o.code, o.value) for o in line.options),
                    discount_percent=line.discount_percent,
                )
                for no, line in numbered
            ],
            discount_percent=draft.discount_percent,
        )
    except InvalidQuote as exc:
        raise invalid(exc.violations) from None
    except ArithmeticError:  # decimal trouble the bounds above missed: refuse, never a 500
        raise Problem(
            422, "the offer's amounts are too large to price", title="Amount too large"
        ) from None
    requests = {no: line for no, line in numbered}
    lines = []
    for q in result.lines:
        product = rows[q.configured.product.sku]
        option_defs = {o["code"]: o for o in product.options}
        components = [
            LineComponent(
                sku=c["sku"],
                name=rows[c["sku"]].name,
                quantity=Decimal(c["quantity"]) * q.priced.quantity,
                unit=rows[c["sku"]].unit,
                kind=rows[c["sku"]].kind,
            )
            for c in product.components
        ]
        kind = product.kind
        if components:  # a bundle ships if any part ships
            kind = "goods" if any(c.kind == "goods" for c in components) else "service"
        lines.append(
            OfferLine(
                line_no=q.priced.line_no,
                sku=product.sku,
                name=product.name,
                description=product.description,
                quantity=q.priced.quantity,
                unit=product.unit,
                kind=kind,
                options=[
                    LineOption(
                        code=code,
                        name=option_defs[code]["name"],
                        value=value,
                        surcharge=round_price(q.surcharges.get(code, Decimal(0)), draft.currency),
                    )
                    for code, value in q.configured.options.items()
                ],
                components=components,
                list_unit_price=q.priced.list_unit_price,
                unit_price=q.priced.unit_price,
                tier_discount=q.priced.tier_discount,
                line_discount_percent=q.priced.line_discount_percent,
                discount_percent=q.priced.discount_percent,
                discount_amount=q.priced.discount_amount,
                net=q.priced.net,
                tax_category=q.tax_category,
                tax_rate=plain(q.priced.tax_rate),
                tax=q.priced.tax,
                price_source=q.priced.price_source,
                requested_delivery_date=requests[q.priced.line_no].requested_delivery_date,
            )
        )
    doc = result.document
    if doc.gross >= MAX_STORED:  # only below orders' bound for currencies without minor unit
        raise invalid(
            [
                Violation(
                    "total_too_large",
                    f"the offer's gross total {doc.gross} {draft.currency} exceeds "
                    f"what can be stored ({MAX_STORED})",
                )
            ]
        )
    cur = draft.currency
    totals = Totals(
        net=Money(amount=doc.net, currency=cur),
        tax=Money(amount=doc.tax, currency=cur),
        gross=Money(amount=doc.gross, currency=cur),
        tax_by_rate=[
            TaxAmount(
                rate=r.rate,
                net=Money(amount=round_money(r.net, cur), currency=cur),
                tax=Money(amount=r.tax, currency=cur),
            )
            for r in doc.by_rate
        ],
    )
    return OfferDocument(
        offer_version=number,
        currency=cur,
        customer=customer,
        segment=segment,
        contact=draft.contact,
        bill_to=draft.bill_to,
        ship_to=draft.ship_to,
        lines=sorted(lines, key=lambda line: line.line_no),
        discount_percent=draft.discount_percent,
        totals=totals,
        terms=draft.terms,
        valid_until=draft.valid_until,
        notes=draft.notes,
        priced_on=today,
    )
