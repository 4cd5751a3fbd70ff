"""Gapless order numbers: one counter row per series, bumped inside the order's transaction.

``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35 and PostgreSQL) takes the row
lock and the next value in one statement. The lock is held until the order's transaction ends,
so concurrent intakes queue there and every committed order has the next number; a rolled-back
transaction takes its increment with it. Intake bumps it before reading the open order values,
which makes the credit check race-free as well; what follows in that transaction is kept short
(group commit shares one lock hold among many orders).
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.tables import NumberCounterRow
from salesflow.upserts import InsertOf, PerDialect

_TABLE = NumberCounterRow.__table__


def _bump(insert: InsertOf) -> Insert:
    """The statement for one dialect, built once (no rebuild, cache key computed once)."""
    stmt = insert(_TABLE).values(series=bindparam("series"), last_value=bindparam("count"))
    return stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.series],
        set_={"last_value": _TABLE.c.last_value + bindparam("increment")},
    ).returning(_TABLE.c.last_value)


_BUMP = PerDialect(_bump)


async def reserve_numbers(session: AsyncSession, series: str, count: int = 1) -> range:
    """The next ``count`` consecutive values of ``series``."""
    params = {"series": series, "count": count, "increment": count}
    last = (await session.execute(_BUMP.of(session), params)).scalar_one()
    return range(last - count + 1, last + 1)
