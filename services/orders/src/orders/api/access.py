"""Who may see which orders."""

from __future__ import annotations

from sqlalchemy import Select, false, or_

from orders.tables import OrderRow
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
