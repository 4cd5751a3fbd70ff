"""Who may do what, the request's clock, and domain errors as problem documents."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import Request
from sqlalchemy import Select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from opportunities.config import Settings
from opportunities.domain.stages import StageError
from opportunities.pipeline import Forbidden
from opportunities.tables import OpportunityRow
from salesflow.api import Problem, conflict, not_found
from salesflow.api.visibility import visible
from salesflow.auth import Principal

READERS = ("sales_rep", "sales_manager", "analyst")
WRITERS = ("sales_rep", "sales_manager")
SEE_ALL = ("analyst",)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def now(request: Request) -> datetime:
    """The app's clock (injected in tests, so that time-based rules are checked without sleep)."""
    return request.app.state.clock()


async def load(session: AsyncSession, principal: Principal, opportunity_id: str) -> OpportunityRow:
    """The opportunity if the principal may see it; 404 otherwise (never a hint it exists).
    For reads only: changes go through ``load_for_change``."""
    stmt = visible(
        select(OpportunityRow).where(OpportunityRow.id == opportunity_id),
        OpportunityRow,
        principal,
        SEE_ALL,
    )
    return await _one(session, stmt)


async def load_for_change(
    session: AsyncSession, principal: Principal, opportunity_id: str
) -> OpportunityRow:
    """The opportunity, locked, if the principal may change it (a rep their own, a manager the
    team's, an admin any); 404 otherwise. The see-all roles only read: a rep who is also an
    analyst changes their own deals, not everyone's."""
    stmt = visible(
        select(OpportunityRow).where(OpportunityRow.id == opportunity_id),
        OpportunityRow,
        principal,
    )
    return await _one(session, stmt.with_for_update())


async def _one(session: AsyncSession, stmt: Select) -> OpportunityRow:
    row = (await session.exec(stmt)).first()
    if row is None:
        raise not_found("opportunity")
    return row


def may_reassign(principal: Principal, row: OpportunityRow) -> bool:
    if principal.is_admin:
        return True
    return (
        "sales_manager" in principal.roles and row.team is not None and row.team == principal.team
    )


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except StageError as exc:
        raise conflict(str(exc)) from None
    except Forbidden as exc:
        raise Problem(403, str(exc)) from None
