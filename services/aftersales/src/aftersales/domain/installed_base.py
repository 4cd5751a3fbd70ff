"""Installed base from a completed delivery: one asset per serialised unit, one per unserialised
goods line, one per service contract; warranty and contract terms per product."""

from __future__ import annotations

import calendar as _calendar
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Literal, Protocol

AssetKind = Literal["goods", "contract"]
_ASSET_NAMESPACE = uuid.UUID("6f1c3d2e-8a4b-4c55-9f0e-2b7a1d9e4c31")


class DeliveredItem(Protocol):
    """What fulfillment tells us about one order line (``DeliveredItem`` of the contract)."""

    line_no: int
    sku: str
    description: str | None
    kind: str  # "goods" | "service"
    quantity: Decimal
    serial_numbers: list[str]
    delivered_on: date


@dataclass(frozen=True)
class ProductTerms:
    """Months of warranty (goods) and of contract term (service contracts) per SKU.

    Keys are SKUs or shell patterns (``LATHE-*``); an exact SKU wins over patterns, a longer
    pattern over a shorter one. Service lines with no contract term are work, not installed base.
    """

    default_warranty_months: int = 24
    warranty_months: Mapping[str, int] | None = None
    contract_months: Mapping[str, int] | None = None

    def warranty_for(self, sku: str) -> int:
        months = lookup(self.warranty_months or {}, sku)
        return self.default_warranty_months if months is None else months

    def contract_for(self, sku: str) -> int | None:
        return lookup(self.contract_months or {}, sku)


@dataclass(frozen=True)
class NewAsset:
    asset_id: str
    kind: AssetKind
    line_no: int
    unit_no: int  # 1… per serialised unit, 0 for a line kept as one asset
    sku: str
    description: str | None
    serial_number: str | None
    quantity: Decimal
    delivered_on: date
    warranty_end: date | None
    contract_end: date | None


def lookup(table: Mapping[str, int], sku: str) -> int | None:
    if sku in table:
        return table[sku]
    patterns = [p for p in table if any(c in p for c in "*?[") and fnmatchcase(sku, p)]
    if not patterns:
        return None
    return table[max(patterns, key=len)]


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def term_end(start: date, months: int) -> date | None:
    """Last day of a term of ``months`` starting on ``start`` (None for no term)."""
    if months <= 0:
        return None
    return add_months(start, months) - timedelta(days=1)


def asset_id(order_id: str, line_no: int, unit_no: int) -> str:
    """Deterministic: the same delivery always yields the same ids, however often it arrives."""
    return str(uuid.uuid5(_ASSET_NAMESPACE, f"{order_id}/{line_no}/{unit_no}"))


def assets_from_delivery(
    order_id: str, items: Sequence[DeliveredItem], terms: ProductTerms
) -> list[NewAsset]:
    assets: list[NewAsset] = []
    for item in items:
        if item.kind == "service":
            months = terms.contract_for(item.sku)
            if months is None:
                continue
            assets.append(_asset(order_id, item, 0, None, item.quantity, "contract", months))
            continue
        months = terms.warranty_for(item.sku)
        serials = list(dict.fromkeys(s for s in item.serial_numbers if s))
        for unit_no, serial in enumerate(serials, start=1):
            assets.append(_asset(order_id, item, unit_no, serial, Decimal(1), "goods", months))
        rest = item.quantity - len(serials)
        if rest > 0:  # unserialised (part of the) line: one asset with its quantity
            assets.append(_asset(order_id, item, 0, None, rest, "goods", months))
    return assets


def _asset(
    order_id: str,
    item: DeliveredItem,
    unit_no: int,
    serial: str | None,
    quantity: Decimal,
    kind: AssetKind,
    months: int,
) -> NewAsset:
    end = term_end(item.delivered_on, months)
    return NewAsset(
        asset_id=asset_id(order_id, item.line_no, unit_no),
        kind=kind,
        line_no=item.line_no,
        unit_no=unit_no,
        sku=item.sku,
        description=item.description,
        serial_number=serial,
        quantity=quantity,
        delivered_on=item.delivered_on,
        warranty_end=end if kind == "goods" else None,
        contract_end=end if kind == "contract" else None,
    )
