"""Who reads what, and the query filters shared by the funnel and lead controlling."""

from __future__ import annotations

import re
from dataclasses import replace

from fastapi import Query, Request

from controlling.domain.funnel import Filters
from controlling.schemas import AppliedFilters, Period
from salesflow.api.errors import Problem
from salesflow.api.fields import Country, Timestamp
from salesflow.auth import Principal
from salesflow.contracts.events.common import SizeClass

SEE_ALL = ("analyst", "sales_manager")  # admin passes everywhere
FIGURE_READERS = (*SEE_ALL, "sales_rep")


def sees_all(principal: Principal) -> bool:
    return principal.is_admin or bool(principal.roles.intersection(SEE_ALL))


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def query_filters(
    # Timestamp: aware, 1900-2199 and convertible to UTC, so no bound can overflow in a query
    from_: Timestamp | None = Query(
        None, alias="from", description="Period start (inclusive), ISO 8601 with timezone"
    ),
    to: Timestamp | None = Query(None, description="Period end (exclusive), with timezone"),
    nace_section: str | None = Query(None, pattern=r"^[A-V]$", description="NACE section"),
    size_class: SizeClass | None = Query(None, description="EU size class"),
    country: Country | None = Query(None, description="ISO 3166-1 alpha-2"),
    owner: str | None = Query(None, min_length=1, max_length=128, description="Rep (JWT sub)"),
    team: str | None = Query(None, min_length=1, max_length=200),
    source_channel: str | None = Query(None, min_length=1, max_length=200),
) -> Filters:
    return Filters(
        start=from_,
        end=to,
        nace_section=nace_section,
        size_class=size_class.value if size_class else None,
        country=country,
        owner=owner,
        team=team,
        source_channel=source_channel,
    )


def _check_period(filters: Filters, request: Request) -> None:
    """Checks beyond the types, made after authentication (401/403 come first)."""
    for name, value in (("from", filters.start), ("to", filters.end)):
        # pydantic also takes Unix timestamps ("0.5"); the documented format is ISO 8601
        if value is not None and not ISO_DATE.match(request.query_params.get(name, "")):
            raise Problem(422, f"'{name}' must be an ISO 8601 date-time")
    if filters.start is not None and filters.end is not None and filters.start >= filters.end:
        raise Problem(422, "'from' must be before 'to'")


def restrict(filters: Filters, principal: Principal, request: Request) -> tuple[Filters, bool]:
    """Check the period; a sales rep sees only their own figures: the owner filter is forced
    to them."""
    _check_period(filters, request)
    if sees_all(principal):
        return filters, False
    if filters.owner is not None and filters.owner != principal.sub:
        raise Problem(403, "a sales rep sees only their own figures")
    return replace(filters, owner=principal.sub), True


def describe(filters: Filters, forced: bool) -> tuple[Period, AppliedFilters]:
    return (
        Period(from_=filters.start, to=filters.end),
        AppliedFilters(
            nace_section=filters.nace_section,
            size_class=filters.size_class,
            country=filters.country,
            owner=filters.owner,
            team=filters.team,
            source_channel=filters.source_channel,
            owner_forced=forced,
        ),
    )
