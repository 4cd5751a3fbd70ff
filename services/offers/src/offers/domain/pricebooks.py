"""Which price applies: customer-specific price books override segment price books, which
override the general ones; only active books valid on the pricing date in the offer's currency
count. Among books of one level, higher ``priority`` wins, then the later ``valid_from``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from offers.domain.pricing import PriceRule, Tier, TierMode

CUSTOMER, SEGMENT, GENERAL = 2, 1, 0


@dataclass(frozen=True)
class PriceBookDef:
    id: str
    name: str
    currency: str
    valid_from: date
    valid_to: date | None = None
    segment: str | None = None
    customer_id: str | None = None
    priority: int = 0
    active: bool = True

    def valid_on(self, day: date) -> bool:
        return (
            self.active
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )

    def level_for(self, customer_id: str | None, segment: str | None) -> int | None:
        """How specific this book is for the customer, or None if it does not apply."""
        if self.customer_id is not None:
            return CUSTOMER if self.customer_id == customer_id else None
        if self.segment is not None:
            return SEGMENT if self.segment == segment else None
        return GENERAL


@dataclass(frozen=True)
class PriceEntryDef:
    book_id: str
    sku: str
    unit_price: Decimal
    option_code: str | None = None  # set ⇒ a per-unit surcharge for that option value
    option_value: str | None = None
    tiers: tuple[Tier, ...] = ()
    mode: TierMode = TierMode.RANGE


class PriceList:
    """The prices that apply to one customer, currency and day."""

    def __init__(
        self,
        books: Iterable[PriceBookDef],
        entries: Iterable[PriceEntryDef],
        *,
        currency: str,
        customer_id: str | None,
        segment: str | None,
        on: date,
    ) -> None:
        ranked: dict[str, tuple[int, int, date, str]] = {}
        names: dict[str, str] = {}
        for book in books:
            level = book.level_for(customer_id, segment)
            if book.currency == currency and level is not None and book.valid_on(on):
                ranked[book.id] = (level, book.priority, book.valid_from, book.id)
                names[book.id] = book.name
        self._best: dict[tuple[str, str | None, str | None], tuple[tuple, PriceEntryDef]] = {}
        for entry in entries:
            rank = ranked.get(entry.book_id)
            if rank is None:
                continue
            key = (entry.sku, entry.option_code, entry.option_value)
            current = self._best.get(key)
            if current is None or rank > current[0]:
                self._best[key] = (rank, entry)
        self._names = names
        self._rules: dict[str, PriceRule | None] = {}

    def price(self, sku: str) -> PriceRule | None:
        if sku not in self._rules:  # built once per SKU: many lines may share one
            self._rules[sku] = self._rule(sku)
        return self._rules[sku]

    def _rule(self, sku: str) -> PriceRule | None:
        found = self._best.get((sku, None, None))
        if found is None:
            return None
        (level, *_), entry = found
        kind = {CUSTOMER: "customer price", SEGMENT: "segment price", GENERAL: "list price"}[level]
        return PriceRule(
            list_price=entry.unit_price,
            tiers=entry.tiers,
            mode=entry.mode,
            source=f"{kind}: {self._names[entry.book_id]}",
        )

    def surcharge(self, sku: str, option: str, value: str) -> Decimal:
        """Per-unit price of an option value; options without a price cost nothing."""
        found = self._best.get((sku, option, value))
        return found[1].unit_price if found else Decimal(0)
