"""SQLite WAL checkpoints run on their own thread, never inside a COMMIT on the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text

from salesflow.db import Database, sqlite_file
from salesflow.testing.helpers import eventually


async def test_commits_leave_checkpoints_to_the_thread_which_copies_the_wal_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.session() as session, session.begin():
            auto = (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        assert auto == 0  # no checkpoint (and its disk sync) inside a commit
        for start in range(0, 2000, 100):
            async with db.session() as session, session.begin():
                await session.execute(
                    text("INSERT INTO t (id, body) VALUES (:id, :body)"),
                    [{"id": i, "body": "x" * 500} for i in range(start, start + 100)],
                )
        assert db.checkpointer is not None

        def in_main_file() -> int:
            # immutable: the main file alone, without the WAL - what checkpoints copied there
            uri = f"file:{path}?immutable=1"
            with sqlite3.connect(uri, uri=True) as conn:
                try:
                    return conn.execute("SELECT count(*) FROM t").fetchone()[0]
                except sqlite3.DatabaseError:
                    # the table not copied yet, or (immutable reads take no lock) a checkpoint
                    # caught halfway through writing pages: look again
                    return 0

        async def copied() -> bool:
            return await asyncio.to_thread(in_main_file) == 2000

        await eventually(copied, timeout=10, message="the WAL was not checkpointed")
    finally:
        await db.dispose()
    assert db.checkpointer is not None and not db.checkpointer._thread.is_alive()


def test_only_sqlite_files_get_a_checkpointer() -> None:
    assert sqlite_file("sqlite+aiosqlite:///.data/leads.db") == ".data/leads.db"
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_file("postgresql+asyncpg://u@localhost/leads") is None
