"""Segment criteria over the company universe, shared by ``GET /companies`` and segments.

``matches`` is the reference meaning of the criteria; the SQL in ``leads.app.company_queries``
implements the same rules with indexes (tests check that both agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from leads.domain.nace import NaceTable


class Firmographics(Protocol):
    nace: str | None
    nace_rev: str | None
    size_class: str | None
    employees: int | None
    revenue: Decimal | None
    revenue_currency: str | None
    country: str
    region: str | None
    status: str


@dataclass(frozen=True)
class NaceFilter:
    """One NACE criterion: the section, and the code prefix below it (None for the section)."""

    section: str
    prefix: str | None


@dataclass(frozen=True)
class Criteria:
    nace: tuple[str, ...] = ()
    nace_rev: str = "2.1"
    size_classes: tuple[str, ...] = ()
    employees_min: int | None = None
    employees_max: int | None = None
    revenue_min: Decimal | None = None
    revenue_max: Decimal | None = None
    revenue_currency: str | None = None
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def nace_filters(self, table: NaceTable) -> list[NaceFilter]:
        """A section letter or a division matches every code below it."""
        result = []
        for code in self.nace:
            node = table.codes[code]
            result.append(NaceFilter(node.section, None if node.level == 1 else node.code))
        return result

    def matches(self, company: Firmographics, table: NaceTable) -> bool:
        if self.nace:
            if company.nace is None or company.nace_rev != self.nace_rev:
                return False
            if not any(table.covers(code, company.nace) for code in self.nace):
                return False
        if self.size_classes and company.size_class not in self.size_classes:
            return False
        if self.employees_min is not None or self.employees_max is not None:
            if company.employees is None:
                return False
            if self.employees_min is not None and company.employees < self.employees_min:
                return False
            if self.employees_max is not None and company.employees > self.employees_max:
                return False
        if self.revenue_min is not None or self.revenue_max is not None:
            if company.revenue is None or company.revenue_currency != self.revenue_currency:
                return False
            if self.revenue_min is not None and company.revenue < self.revenue_min:
                return False
            if self.revenue_max is not None and company.revenue > self.revenue_max:
                return False
        if self.countries and company.country not in self.countries:
            return False
        if self.regions and not any(
            (company.region or "").startswith(region) for region in self.regions
        ):
            return False
        return not (self.statuses and company.status not in self.statuses)


class CriteriaError(ValueError):
    pass


def build_criteria(
    table: NaceTable,
    *,
    nace: list[str] | None = None,
    size_classes: list[str] | None = None,
    employees_min: int | None = None,
    employees_max: int | None = None,
    revenue_min: Decimal | None = None,
    revenue_max: Decimal | None = None,
    revenue_currency: str | None = None,
    countries: list[str] | None = None,
    regions: list[str] | None = None,
    statuses: list[str] | None = None,
) -> Criteria:
    """Check and canonicalise criteria; raises ``CriteriaError`` with the reason."""
    codes = []
    for raw in nace or []:
        found = table.get(raw)
        if found is None:
            raise CriteriaError(f"unknown NACE Rev. {table.revision} code {raw!r}")
        codes.append(found.code)
    if employees_min is not None and employees_max is not None and employees_min > employees_max:
        raise CriteriaError("employees_min is greater than employees_max")
    if revenue_min is not None and revenue_max is not None and revenue_min > revenue_max:
        raise CriteriaError("revenue_min is greater than revenue_max")
    if (revenue_min is not None or revenue_max is not None) and not revenue_currency:
        raise CriteriaError("a revenue range needs revenue_currency")
    return Criteria(
        nace=tuple(dict.fromkeys(codes)),
        nace_rev=table.revision,
        size_classes=tuple(dict.fromkeys(size_classes or ())),
        employees_min=employees_min,
        employees_max=employees_max,
        revenue_min=revenue_min,
        revenue_max=revenue_max,
        revenue_currency=revenue_currency,
        countries=tuple(dict.fromkeys(c.upper() for c in countries or ())),
        regions=tuple(dict.fromkeys(r.upper() for r in regions or ())),
        statuses=tuple(dict.fromkeys(statuses or ())),
    )
