"""Gapless order numbers: one counter row per series, bumped inside the order's transaction.

``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35 and PostgreSQL) takes the row
lock and the next value in one statement. The lock is held until the order's transaction ends,
so concurrent intakes queue there and every committed order has the next number; a rolled-back
transaction takes its increment with it. Intake bumps it before reading the open order values,
which makes the credit check race-free as well; what follows in that transaction is kept short
(group commit shares one lock hold among many orders).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.tables import NumberCounterRow

_TABLE = NumberCounterRow.__table__


def _bump(insert: Callable[..., Any]) -> Any:
    """The statement for one dialect, built once (no rebuild, cache key computed once)."""
    stmt = insert(_TABLE).values(series=bindparam("series"), last_value=bindparam("count"))
    return stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.series],
        set_={"last_value": _TABLE.c.last_value + bindparam("increment")},
    ).returning(_TABLE.c.last_value)


_BUMP = {"postgresql": _bump(postgresql.insert), "sqlite": _bump(sqlite.insert)}


async def reserve_numbers(session: AsyncSession, series: str, count: int = 1) -> range:
    """The next ``count`` consecutive values of ``series``."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    stmt = _BUMP["postgresql" if dialect == "postgresql" else "sqlite"]
    params = {"series": series, "count": count, "increment": count}
    last = (await session.execute(stmt, params)).scalar_one()
    return range(last - count + 1, last + 1)
