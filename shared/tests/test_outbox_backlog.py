"""The outbox backlog the relay reports (gauges every few seconds): unpublished rows and the age of
the oldest of them, whatever number of published rows the retention period keeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from probe.app import MIGRATIONS, ItemCreated, ProbeSettings
from sqlalchemy import update

from salesflow.db import Database
from salesflow.messaging import outbox
from salesflow.messaging.handlers import emit
from salesflow.messaging.tables import OutboxRow
from salesflow.testing.plugin import migrate


async def test_backlog_counts_only_unpublished_rows_and_their_oldest(
    settings_for: Callable, database_url: str
) -> None:
    await migrate(MIGRATIONS, database_url)
    settings: ProbeSettings = settings_for(ProbeSettings)
    db = Database(database_url)
    try:
        async with db.session() as session:
            assert await outbox.backlog(session) == (0, None)
        created = []
        for item_id in range(1, 5):
            async with db.session() as session, session.begin():
                data = ItemCreated(item_id=item_id, name=f"i{item_id}")
                event = emit(session, settings, "probe_item.created.v1", f"k{item_id}", data)
            created.append(event.time)
        # the two oldest were published: what is left starts at the third
        async with db.session() as session, session.begin():
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.created_at <= created[1])
                .values(published_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        async with db.session() as session:
            pending, oldest = await outbox.backlog(session)
            status = await outbox.status(session)
        assert pending == 2
        assert oldest is not None and oldest.tzinfo is not None
        assert abs((oldest - created[2]).total_seconds()) < 0.001
        assert status["rows"] == 4
        assert status["unpublished"] == 2
        assert status["oldest_unpublished"] == oldest
    finally:
        await db.dispose()
