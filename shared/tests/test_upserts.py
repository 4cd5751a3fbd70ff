"""INSERT … ON CONFLICT built once per dialect, run on the test database (SQLite or
PostgreSQL, whichever the run uses)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from salesflow.db import Database
from salesflow.upserts import InsertOf, PerDialect, dialect_insert, dialect_name

_METADATA = sa.MetaData()
COUNTERS = sa.Table(
    "upsert_counters",
    _METADATA,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)


def _bump(insert: InsertOf) -> Any:
    stmt = insert(COUNTERS).values(name=sa.bindparam("name"), value=1)
    return stmt.on_conflict_do_update(
        index_elements=[COUNTERS.c.name], set_={"value": COUNTERS.c.value + 1}
    ).returning(COUNTERS.c.value)


def test_each_dialect_gets_its_own_statement_built_once() -> None:
    built: list[str] = []

    def build(insert: InsertOf) -> Any:
        built.append(insert.__module__)
        return _bump(insert)

    bumps = PerDialect(build)
    assert built == []  # nothing before first use
    for_sqlite, for_postgresql = bumps("sqlite"), bumps("postgresql")
    assert bumps("sqlite") is for_sqlite and bumps("postgresql") is for_postgresql
    assert len(built) == 2
    assert "ON CONFLICT (name) DO UPDATE" in str(for_sqlite.compile(dialect=sqlite.dialect()))
    assert "ON CONFLICT (name) DO UPDATE" in str(
        for_postgresql.compile(dialect=postgresql.dialect())
    )
    # anything but PostgreSQL is SQLite, the other dialect Salesflow runs on
    assert bumps("sqlite+aiosqlite") is for_sqlite


async def test_the_statement_for_the_database_in_hand_upserts(database_url: str) -> None:
    db = Database(database_url)
    try:
        expected = "sqlite" if db.sqlite else "postgresql"
        assert dialect_name(db) == expected
        async with db.engine.begin() as conn:
            await conn.run_sync(_METADATA.create_all)
            assert dialect_name(conn) == expected
        bumps = PerDialect(_bump)
        values = []
        for _ in range(3):
            async with db.session() as session, session.begin():
                assert dialect_name(session) == expected
                values.append((await session.execute(bumps.of(session), {"name": "a"})).scalar())
        assert values == [1, 2, 3]
        async with db.session() as session, session.begin():
            ignore = dialect_insert(dialect_name(session), COUNTERS).on_conflict_do_nothing()
            inserted = await session.execute(ignore.values(name="a", value=99))
            assert inserted.rowcount == 0
            stored = (await session.execute(sa.select(COUNTERS.c.value))).scalar_one()
            assert stored == 3
    finally:
        await db.dispose()
