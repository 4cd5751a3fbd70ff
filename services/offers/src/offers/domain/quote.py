"""Configure and price a whole offer: catalog rules, price resolution, tax, pricing engine.

Everything a quote needs is passed in; the caller loads it. Every problem is collected and
raised together as ``InvalidQuote`` (HTTP 422 naming each violated rule)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from offers.domain.configuration import (
    ConfiguredLine,
    LineRequest,
    ProductDef,
    Violation,
    configure_offer,
)
from offers.domain.money import fits, largest
from offers.domain.pricebooks import PriceList
from offers.domain.pricing import PRECISION, LineInput, PricedDocument, PricedLine, price_document


@dataclass(frozen=True)
class QuoteLine:
    line_no: int
    sku: str
    quantity: Decimal
    options: tuple[tuple[str, str], ...] = ()
    discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class QuotedLine:
    configured: ConfiguredLine
    priced: PricedLine
    surcharges: dict[str, Decimal]
    tax_category: str


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuotedLine, ...]
    document: PricedDocument


class InvalidQuote(Exception):
    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__(f"{len(violations)} rule(s) violated")
        self.violations = list(violations)


def quote(
    *,
    products: Mapping[str, ProductDef],
    tax_categories: Mapping[str, str],
    tax_rates: Mapping[str, Decimal],
    price_list: PriceList,
    currency: str,
    lines: Sequence[QuoteLine],
    discount_percent: Decimal = Decimal(0),
) -> Quote:
    """``tax_categories`` maps SKU → tax category, ``tax_rates`` category → percent."""
    counts = Counter(line.line_no for line in lines)
    violations: list[Violation] = [
        Violation("duplicate_line_no", f"line number {no} is used twice", no)
        for no in sorted(no for no, n in counts.items() if n > 1)
    ]
    configured, problems = configure_offer(
        products, [LineRequest(line.line_no, line.sku, line.options) for line in lines]
    )
    violations.extend(problems)
    by_no = {c.line_no: c for c in configured}
    inputs: list[LineInput] = []
    extras: list[tuple[ConfiguredLine, dict[str, Decimal], str]] = []
    for line in lines:
        done = by_no.get(line.line_no)
        if done is None:
            continue  # unknown SKU, already reported
        sku = done.product.sku
        rule = price_list.price(sku)
        if rule is None:
            violations.append(
                Violation("no_price", f"no valid {currency} price for {sku}", line.line_no, sku)
            )
        category = tax_categories.get(sku, "")
        rate = tax_rates.get(category)
        if rate is None:
            violations.append(
                Violation(
                    "no_tax_rate", f"no VAT rate for tax category {category!r}", line.line_no, sku
                )
            )
        if rule is None or rate is None:
            continue
        surcharges = {
            code: price_list.surcharge(sku, code, value) for code, value in done.options.items()
        }
        inputs.append(
            LineInput(
                line_no=line.line_no,
                quantity=line.quantity,
                price=rule,
                tax_rate=Decimal(rate),
                surcharge=sum(surcharges.values(), Decimal(0)),
                discount_percent=line.discount_percent,
            )
        )
        extras.append((done, surcharges, category))
    if violations:
        raise InvalidQuote(violations)
    document = price_document(currency, inputs, discount_percent)
    violations = amount_problems(document, [c.product.sku for c, _, _ in extras])
    if violations:
        raise InvalidQuote(violations)
    quoted = tuple(
        QuotedLine(configured=c, priced=p, surcharges=s, tax_category=cat)
        for (c, s, cat), p in zip(extras, document.lines, strict=True)
    )
    return Quote(lines=quoted, document=document)


def amount_problems(document: PricedDocument, skus: Sequence[str]) -> list[Violation]:
    """Lines and totals too large for an order (``fits``): every accepted offer must become a
    valid order, so such an offer is refused when priced, naming each line and total."""
    cur = document.currency
    limit = f"{largest(cur)} {cur}, the largest amount an order may have"
    problems: list[Violation] = []
    for sku, line in zip(skus, document.lines, strict=True):
        with localcontext() as context:
            context.prec = PRECISION  # the gross of a huge line, exact for the message
            gross = line.net + line.tax
        for what, amount in (("net", line.net), ("gross", gross)):
            if not fits(amount, cur):
                problems.append(
                    Violation(
                        "line_too_large",
                        f"line {line.line_no}: the {what} amount {amount} {cur} exceeds {limit}",
                        line.line_no,
                        sku,
                    )
                )
    for what, amount in (("net", document.net), ("gross", document.gross)):
        if not fits(amount, cur):
            problems.append(
                Violation(
                    "total_too_large",
                    f"the offer's {what} total {amount} {cur} exceeds {limit}",
                )
            )
    return problems
