"""Who may do what, and what they may see (DESIGN.md §4): account owners see their accounts,
managers their team's, service agents and analysts all accounts and tickets; a customer-portal
integration sees the tickets it opened."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from aftersales.config import Settings
from aftersales.tables import AccountRow, TicketRow
from salesflow.api.etag import require_if_match
from salesflow.api.visibility import visible
from salesflow.auth import Principal

ACCOUNT_READERS = ("service_agent", "sales_rep", "sales_manager", "analyst")
SEE_ALL = ("service_agent", "analyst")
TICKET_READERS = ("service_agent", "integration", "sales_rep", "sales_manager", "analyst")
TICKET_OPENERS = ("service_agent", "integration")
TICKET_WORKERS = ("service_agent",)
COMMENTERS = ("service_agent", "integration")
FOLLOWUP_CREATORS = ("service_agent", "sales_rep", "sales_manager")
FOLLOWUP_READERS = ("service_agent", "sales_rep", "sales_manager", "analyst")


def now(request: Request) -> datetime:
    return request.app.state.clock()


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def is_customer_side(principal: Principal) -> bool:
    """An integration acting for customers, not a member of the service team."""
    return "integration" in principal.roles and not principal.has(*TICKET_WORKERS, "analyst")


async def visible_account(
    session: AsyncSession, account_id: str, principal: Principal
) -> AccountRow | None:
    stmt = visible(
        select(AccountRow).where(AccountRow.id == account_id), AccountRow, principal, SEE_ALL
    )
    return (await session.exec(stmt)).first()


def ticket_scope(principal: Principal) -> ColumnElement[bool] | None:
    """Condition on tickets joined with their account; None = everything."""
    if principal.is_admin or principal.roles.intersection(SEE_ALL):
        return None
    allowed: list[ColumnElement[bool]] = []
    if "integration" in principal.roles:
        allowed.append(TicketRow.opened_by == principal.sub)
    if "sales_manager" in principal.roles and principal.team:
        allowed.append(or_(AccountRow.team == principal.team, AccountRow.owner == principal.sub))
    elif principal.roles.intersection(("sales_rep", "sales_manager")):
        allowed.append(AccountRow.owner == principal.sub)
    return or_(*allowed) if allowed else false()


async def visible_ticket(
    session: AsyncSession, ticket_id: str, principal: Principal
) -> tuple[TicketRow, AccountRow] | None:
    stmt = (
        select(TicketRow, AccountRow)
        .join(AccountRow, AccountRow.id == TicketRow.account_id)
        .where(TicketRow.id == ticket_id)
    )
    scope = ticket_scope(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    row = (await session.exec(stmt)).first()
    return None if row is None else (row[0], row[1])


def check_if_match(request: Request, version: int) -> None:
    """``If-Match`` is optional on ticket actions; when sent it must name the current version."""
    if request.headers.get("If-Match"):
        require_if_match(request, version)
