"""Pricing of direct orders: from this service's price list, or with explicitly agreed prices.

The orders service keeps its own price list (``orders_price_list``, maintained over
``PUT /price-list/{sku}``) instead of asking the offers catalog: a handoff never waits on a
synchronous call to another service, and a web shop's prices are the prices it showed.
"""

from __future__ import annotations

from decimal import Decimal

from orders.domain.money import fits, largest
from orders.domain.pricing import LineToPrice, price_line
from orders.schemas import OrderLineIn
from orders.tables import PriceRow
from salesflow.api.errors import Problem
from salesflow.contracts.events.common import LineKind, PricedLine, SelectedOption


def price_lines(
    lines: list[OrderLineIn], prices: dict[str, PriceRow], currency: str
) -> list[PricedLine]:
    """Priced lines, or a 422 naming every line that cannot be priced."""
    errors: list[dict[str, object]] = []
    priced: list[PricedLine] = []
    for no, line in enumerate(lines, start=1):
        row = prices.get(line.sku)
        problem = _problem(line, row, currency)
        if problem:
            errors.append({"line_no": no, "sku": line.sku, "msg": problem})
            continue
        to_price = _to_price(no, line, row)
        # checked before pricing: the product may exceed what Decimal rounds exactly, too
        if not fits(to_price.quantity * to_price.unit_price, currency):
            errors.append(
                {
                    "line_no": no,
                    "sku": line.sku,
                    "msg": f"quantity times unit price exceeds {largest(currency)} {currency}, "
                    "the largest amount an order may have",
                }
            )
            continue
        priced.append(price_line(to_price, currency))
    if errors:
        raise Problem(422, "lines cannot be priced", errors=errors)
    return priced


def _problem(line: OrderLineIn, row: PriceRow | None, currency: str) -> str | None:
    if line.unit_price is None:
        if row is None:
            return f"no price for {line.sku} in {currency} in the price list"
        if not row.active:
            return f"{line.sku} is not sold any more"
        if line.unit is not None and line.unit != row.unit:
            return f"{line.sku} is priced per {row.unit}, not per {line.unit}"
        # the list says whether it is shipped or performed: a web shop cannot turn one into
        # the other (fulfilment would ship a service, or plan a task for goods)
        if line.kind is not None and line.kind != row.kind:
            return f"{line.sku} is listed as {row.kind}, not {line.kind.value}"
        return None
    missing = [
        name
        for name, given, listed in (
            ("name", line.name, row and row.name),
            ("unit", line.unit, row and row.unit),
            ("kind", line.kind, row and row.kind),
            ("tax_rate", line.tax_rate, row and row.tax_rate),
        )
        if given is None and not listed
    ]
    if missing:
        return f"{line.sku} is not in the price list: an agreed price needs {', '.join(missing)}"
    return None


def _to_price(no: int, line: OrderLineIn, row: PriceRow | None) -> LineToPrice:
    agreed = line.unit_price is not None
    unit_price = line.unit_price if agreed else Decimal(row.unit_price)  # type: ignore[union-attr]
    tax_rate = line.tax_rate if line.tax_rate is not None else Decimal(row.tax_rate)  # type: ignore[union-attr]
    if agreed:  # the order desk's terms: what it names the line wins over the list
        name = line.name or row.name  # type: ignore[union-attr]
        description = line.description or (row.description if row else None)
    else:  # at list price the list is the truth: no relabelling of a listed product
        name, description = row.name, row.description  # type: ignore[union-attr]
    return LineToPrice(
        line_no=no,
        sku=line.sku,
        name=name,
        description=description,
        quantity=line.quantity,
        unit=line.unit or row.unit,  # type: ignore[union-attr]
        kind=line.kind or LineKind(row.kind),  # type: ignore[union-attr]
        unit_price=unit_price,  # type: ignore[arg-type]
        tax_rate=tax_rate,
        discount_percent=line.discount_percent or Decimal(0),
        options=[SelectedOption.model_validate(o.model_dump()) for o in line.options],
        requested_delivery_date=line.requested_delivery_date,
    )
