"""Who may see which orders and customers."""

from __future__ import annotations

from sqlalchemy import Select, false, or_

from orders.tables import CustomerRow, OrderRow
from salesflow.auth import Principal

READERS = ("order_desk", "sales_rep", "sales_manager", "analyst", "integration")
SEE_ALL = ("order_desk", "analyst")


def visible_orders(stmt: Select, principal: Principal) -> Select:
    """The order desk and analysts see every order; a rep the orders of their customers, a
    manager their team's; an integration the orders it placed."""
    if principal.is_admin or principal.roles.intersection(SEE_ALL):
        return stmt
    allowed = []
    if "integration" in principal.roles:
        allowed.append(OrderRow.created_by == principal.sub)
    if principal.roles.intersection(("sales_rep", "sales_manager")):
        allowed.append(OrderRow.owner == principal.sub)
    if "sales_manager" in principal.roles and principal.team:
        allowed.append(OrderRow.team == principal.team)
    return stmt.where(or_(*allowed)) if allowed else stmt.where(false())


def visible_customers(stmt: Select, principal: Principal) -> Select:
    """The customers whose orders the principal sees: the order desk and analysts every one; a
    sales role those it owns, a manager also the team's. Credit limit and open order value are
    as confidential as the orders behind them."""
    if principal.is_admin or principal.roles.intersection(SEE_ALL):
        return stmt
    allowed = []
    if principal.roles.intersection(("sales_rep", "sales_manager")):
        allowed.append(CustomerRow.owner == principal.sub)
    if "sales_manager" in principal.roles and principal.team:
        allowed.append(CustomerRow.team == principal.team)
    return stmt.where(or_(*allowed)) if allowed else stmt.where(false())
