"""Row-level visibility per DESIGN.md §4: a rep sees what they own, a manager the team's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_

from salesflow.auth import Principal


def visible(
    stmt: Select, model: Any, principal: Principal, see_all: tuple[str, ...] = ()
) -> Select:
    """Restrict ``stmt`` over ``model`` (with ``owner`` and ``team`` columns) to what the
    principal may see; admins and the ``see_all`` roles see everything."""
    if principal.is_admin or principal.roles.intersection(see_all):
        return stmt
    if "sales_manager" in principal.roles and principal.team:
        return stmt.where(or_(model.team == principal.team, model.owner == principal.sub))
    return stmt.where(model.owner == principal.sub)
