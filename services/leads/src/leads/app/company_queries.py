"""Criteria → SQL over ``leads_companies``, the same rules as ``Criteria.matches``.

A NACE criterion always constrains ``nace_section`` (the section of the code), so that counts by
section + size class + country run on the ``ix_leads_companies_segment`` index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from leads.domain.criteria import Criteria
from leads.reference import nace_table
from leads.tables import CompanyRow
from salesflow.contracts.events.common import SizeClass

C = CompanyRow.__table__.c


def conditions(criteria: Criteria) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if criteria.nace:
        table = nace_table(criteria.nace_rev)
        alternatives = []
        for f in criteria.nace_filters(table):
            cond = C.nace_section == f.section
            if f.prefix is not None:
                cond = and_(cond, or_(C.nace == f.prefix, C.nace.startswith(f.prefix)))
            alternatives.append(cond)
        where.append(C.nace_rev == criteria.nace_rev)
        where.append(or_(*alternatives))
    if criteria.size_classes:
        where.append(C.size_class.in_([SizeClass(s).value for s in criteria.size_classes]))
    if criteria.employees_min is not None:
        where.append(C.employees >= criteria.employees_min)
    if criteria.employees_max is not None:
        where.append(C.employees <= criteria.employees_max)
    if criteria.revenue_min is not None or criteria.revenue_max is not None:
        where.append(C.revenue_currency == criteria.revenue_currency)
        if criteria.revenue_min is not None:
            where.append(C.revenue >= criteria.revenue_min)
        if criteria.revenue_max is not None:
            where.append(C.revenue <= criteria.revenue_max)
    if criteria.countries:
        where.append(C.country.in_(criteria.countries))
    if criteria.regions:
        where.append(or_(*(C.region.startswith(r) for r in criteria.regions)))
    if criteria.statuses:
        where.append(C.status.in_(criteria.statuses))
    return where


def count_statement(criteria: Criteria) -> Any:
    return select(func.count()).select_from(CompanyRow.__table__).where(*conditions(criteria))


def nothing() -> ColumnElement[bool]:
    return false()
