"""The pricing engine: pure functions over Decimal, no I/O.

Per line: list price (price book or customer price) → tier price (range or slab) → option
surcharges → line and document discount → line net, rounded to the currency's minor unit.
VAT is computed once per rate on the sum of the nets at that rate (as an invoice does) and then
split back onto the lines by largest remainder, so the line taxes add up to the rate's tax and
the totals to the sum of the lines: no cent is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum

from offers.domain.money import allocate, round_money, round_price

HUNDRED = Decimal(100)
ZERO = Decimal(0)
# Digits kept while pricing. The default 28 are too few for the largest inputs the API admits
# (quantity 14 digits × price 18 digits, plus surcharges, summed over 500 lines, rounded to up
# to 8 places): quantize would raise InvalidOperation instead of the amount being refused as too
# large. 80 keeps every such amount exact (the results of ordinary offers are the same).
PRECISION = 80


class TierMode(StrEnum):
    RANGE = "range"  # the whole quantity at the price of the tier it falls into
    SLAB = "slab"  # each part of the quantity at the price of its own tier (graduated)


@dataclass(frozen=True)
class Tier:
    """From ``min_quantity`` on, units cost ``unit_price``."""

    min_quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class PriceRule:
    """What a SKU costs: list price, optional volume tiers, and where the price came from."""

    list_price: Decimal
    tiers: tuple[Tier, ...] = ()
    mode: TierMode = TierMode.RANGE
    source: str = ""

    def __post_init__(self) -> None:
        problems = tier_problems(self.list_price, self.tiers)
        if problems:
            raise ValueError("; ".join(problems))


def tier_problems(list_price: Decimal, tiers: Sequence[Tier]) -> list[str]:
    """Why a tier table is unusable (empty if fine): thresholds rise, prices never rise."""
    problems = []
    if list_price < 0:
        problems.append("list price must not be negative")
    previous_qty, previous_price = ZERO, list_price
    for i, tier in enumerate(tiers, start=1):
        if tier.min_quantity <= previous_qty:
            problems.append(f"tier {i}: min_quantity must be greater than {previous_qty}")
        if tier.unit_price < 0:
            problems.append(f"tier {i}: unit price must not be negative")
        elif tier.unit_price > previous_price:
            problems.append(f"tier {i}: unit price must not exceed the previous {previous_price}")
        previous_qty, previous_price = tier.min_quantity, tier.unit_price
    return problems


def tier_price(rule: PriceRule, quantity: Decimal) -> Decimal:
    """Unit price of the tier ``quantity`` falls into (range pricing)."""
    price = rule.list_price
    for tier in rule.tiers:
        if quantity >= tier.min_quantity:
            price = tier.unit_price
        else:
            break
    return price


def base_amount(rule: PriceRule, quantity: Decimal) -> Decimal:
    """Exact (unrounded) amount of ``quantity`` units before options and discounts."""
    if rule.mode is TierMode.RANGE or not rule.tiers:
        return quantity * tier_price(rule, quantity)
    # slab: [0, m1) at list, [m1, m2) at tier 1, …, [mn, ∞) at tier n
    amount, start, price = ZERO, ZERO, rule.list_price
    for tier in rule.tiers:
        if quantity <= tier.min_quantity:
            break
        amount += (tier.min_quantity - start) * price
        start, price = tier.min_quantity, tier.unit_price
    return amount + (quantity - start) * price


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form (19.0 → 19, 100 → 100)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def combine_discounts(line_percent: Decimal, document_percent: Decimal) -> Decimal:
    """One percentage equal to applying both discounts one after the other (exact)."""
    return HUNDRED - (HUNDRED - line_percent) * (HUNDRED - document_percent) / HUNDRED


@dataclass(frozen=True)
class LineInput:
    line_no: int
    quantity: Decimal
    price: PriceRule
    tax_rate: Decimal
    surcharge: Decimal = ZERO  # per unit, sum of the chosen options' prices
    discount_percent: Decimal = ZERO  # manual line discount


@dataclass(frozen=True)
class PricedLine:
    line_no: int
    quantity: Decimal
    list_unit_price: Decimal  # list price + surcharges, before tiers
    unit_price: Decimal  # after tiers, with surcharges (average for slab), price precision
    tier_discount: Decimal  # amount saved by volume tiers, rounded
    line_discount_percent: Decimal
    discount_percent: Decimal  # line and document discount combined
    discount_amount: Decimal  # amount taken off by discount_percent, rounded
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    price_source: str = ""


@dataclass(frozen=True)
class RateTotal:
    rate: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class PricedDocument:
    currency: str
    discount_percent: Decimal
    lines: tuple[PricedLine, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal
    by_rate: tuple[RateTotal, ...] = field(default_factory=tuple)

    @property
    def max_discount_percent(self) -> Decimal:
        return max((line.discount_percent for line in self.lines), default=self.discount_percent)


def _check_percent(value: Decimal, what: str) -> None:
    if not ZERO <= value <= HUNDRED:
        raise ValueError(f"{what} must be between 0 and 100, got {value}")


def price_document(
    currency: str, lines: Sequence[LineInput], discount_percent: Decimal = ZERO
) -> PricedDocument:
    """Price every line and total the document in ``currency``. Amounts may come out larger
    than an order can hold: the caller checks them (``quote``)."""
    with localcontext() as context:
        context.prec = PRECISION
        return _price_document(currency, lines, discount_percent)


def _price_document(
    currency: str, lines: Sequence[LineInput], discount_percent: Decimal
) -> PricedDocument:
    _check_percent(discount_percent, "document discount")
    drafts = []
    for line in lines:
        if line.quantity <= 0:
            raise ValueError(f"line {line.line_no}: quantity must be positive")
        if line.surcharge < 0:
            raise ValueError(f"line {line.line_no}: surcharge must not be negative")
        _check_percent(line.discount_percent, f"line {line.line_no} discount")
        _check_percent(line.tax_rate, f"line {line.line_no} tax rate")
        list_amount = line.quantity * (line.price.list_price + line.surcharge)
        amount = base_amount(line.price, line.quantity) + line.quantity * line.surcharge
        combined = plain(combine_discounts(line.discount_percent, discount_percent))
        net = round_money(amount * (HUNDRED - combined) / HUNDRED, currency)
        drafts.append((line, list_amount, amount, combined, net))

    # VAT per rate on the summed nets, split back onto the lines without losing a cent
    by_rate: dict[Decimal, list[int]] = {}
    for i, (line, *_rest) in enumerate(drafts):
        by_rate.setdefault(plain(line.tax_rate), []).append(i)
    line_tax = [ZERO] * len(drafts)
    rate_totals = []
    for rate in sorted(by_rate):
        members = by_rate[rate]
        rate_net = sum((drafts[i][4] for i in members), ZERO)
        rate_tax = round_money(rate_net * rate / HUNDRED, currency)
        for i, part in zip(
            members, allocate(rate_tax, [drafts[i][4] for i in members], currency), strict=True
        ):
            line_tax[i] = part
        rate_totals.append(RateTotal(rate=rate, net=rate_net, tax=rate_tax))

    priced = []
    for (line, list_amount, amount, combined, net), tax in zip(drafts, line_tax, strict=True):
        priced.append(
            PricedLine(
                line_no=line.line_no,
                quantity=line.quantity,
                list_unit_price=round_price(line.price.list_price + line.surcharge, currency),
                unit_price=round_price(amount / line.quantity, currency),
                tier_discount=round_money(list_amount - amount, currency),
                line_discount_percent=line.discount_percent,
                discount_percent=combined,
                discount_amount=round_money(amount, currency) - net,
                net=net,
                tax_rate=line.tax_rate,
                tax=tax,
                price_source=line.price.source,
            )
        )
    net_total = sum((r.net for r in rate_totals), ZERO)
    tax_total = sum((r.tax for r in rate_totals), ZERO)
    return PricedDocument(
        currency=currency,
        discount_percent=discount_percent,
        lines=tuple(priced),
        net=round_money(net_total, currency),
        tax=round_money(tax_total, currency),
        gross=round_money(net_total + tax_total, currency),
        by_rate=tuple(rate_totals),
    )
