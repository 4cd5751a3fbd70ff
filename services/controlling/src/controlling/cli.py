"""``salesflow controlling rebuild``: replay every topic into fresh read models.

The read models are a pure function of the events, so emptying them and reading every topic
from the beginning with a fresh consumer group gives the same figures. Run it with the
controlling service stopped (it empties the service's tables), or into another database with
``--database-url`` (e.g. to check the figures). When the service starts again its own consumer
group resumes where it stopped; what the rebuild read already is skipped by the inbox, which the
rebuild filled under the service's consumer name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import delete, func, update
from sqlmodel import select

from controlling.config import Settings
from controlling.domain.funnel import Filters, compute_funnel
from controlling.handlers import HANDLERS
from controlling.main import SPEC
from controlling.offsets import committed_offsets, listed_end_offsets, partition_ends
from controlling.readmodels import load_funnel_data
from controlling.records import RecordIndexer
from controlling.tables import READ_MODELS, JourneyEvent
from salesflow.contracts.catalog import all_topics, dlq_topic, topics_consumed_by
from salesflow.db import Database
from salesflow.messaging.consumer import Consumer
from salesflow.messaging.tables import DeadLetterRow, InboxRow, OutboxRow
from salesflow.migrations import upgrade

CONSUMER = "controlling"  # the service's inbox name: the rebuilt inbox serves the service


class RebuildTimeout(RuntimeError):
    pass


@dataclass(frozen=True)
class RebuildReport:
    group_id: str
    events: int
    records: int
    seconds: float
    stage_counts: dict[str, int | None]


async def empty_read_models(db: Database) -> int:
    """Delete every read model row, the consumer's inbox and dead letters; returns the outbox
    high-water id (dead letters the rebuild parks again are not published twice)."""
    async with db.session() as session, session.begin():
        for model in READ_MODELS:
            await session.execute(delete(model))
        await session.execute(delete(InboxRow).where(InboxRow.consumer == CONSUMER))
        await session.execute(delete(DeadLetterRow).where(DeadLetterRow.consumer == CONSUMER))
        last = (await session.exec(select(func.max(OutboxRow.id)))).one()
    return last or 0


async def _caught_up(settings: Settings, group_id: str, indexer: RecordIndexer) -> bool:
    """The index has read to every partition end it saw, and the platform consumer's group has
    committed up to those ends on every topic it reads."""
    if await indexer.behind() != 0:
        return False
    topics = {t: all_topics()[t].partitions for t in topics_consumed_by(CONSUMER)}
    ends = partition_ends(
        await listed_end_offsets(settings, topics),
        {k: v for k, v in indexer.highwater.items() if k[0] in topics},
    )
    committed = (await committed_offsets(settings, [group_id], topics)).get(group_id)
    if committed is None:
        return False
    return all(max(committed.get(tp, -1), 0) >= end for tp, end in ends.items())


async def rebuild_read_models(
    settings: Settings,
    *,
    group_id: str | None = None,
    idle_s: float = 2.0,
    timeout_s: float = 600.0,
    progress: Callable[[str], None] = lambda _: None,
) -> RebuildReport:
    started = time.monotonic()
    assert SPEC.migrations_dir is not None
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, settings.database_url)
    db = Database(settings.database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    group = group_id or settings.topic(f"salesflow.{CONSUMER}.rebuild.{stamp}")
    try:
        outbox_before = await empty_read_models(db)
        progress(f"read models emptied; replaying with consumer group {group}")
        consumer = Consumer(
            name=CONSUMER,
            db=db,
            settings=settings,
            topics=topics_consumed_by(CONSUMER),
            handlers=HANDLERS,
        )
        consumer.group_id = group  # fresh group: every topic from the beginning
        indexer = RecordIndexer(db, settings, group_id=f"{group}.records")
        consumer.start()
        indexer.start()
        try:
            await _wait(settings, group, consumer, indexer, idle_s, timeout_s, started)
        finally:
            await consumer.stop()
            await indexer.stop()
        async with db.session() as session, session.begin():
            # dead letters parked again were published by the run that parked them first
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id > outbox_before)
                .where(OutboxRow.topic == dlq_topic(CONSUMER))
                .where(OutboxRow.published_at.is_(None))
                .values(published_at=datetime.now(UTC))
            )
        async with db.session() as session:
            events = (await session.exec(select(func.count()).select_from(JourneyEvent))).one()
            funnel = compute_funnel(
                await load_funnel_data(session), Filters(), now=datetime.now(UTC)
            )
        return RebuildReport(
            group_id=group,
            events=events,
            records=indexer.indexed,
            seconds=round(time.monotonic() - started, 2),
            stage_counts={s.stage: s.count for s in funnel.stages},
        )
    finally:
        await db.dispose()


async def _wait(
    settings: Settings,
    group: str,
    consumer: Consumer,
    indexer: RecordIndexer,
    idle_s: float,
    timeout_s: float,
    started: float,
) -> None:
    """Until caught up and nothing new arrived for ``idle_s``."""
    last_seen: tuple[int, int] = (-1, -1)
    quiet_since = time.monotonic()
    while True:
        if time.monotonic() - started > timeout_s:
            raise RebuildTimeout(f"not caught up after {timeout_s:.0f} s")
        seen = (sum(consumer.counts.values()), indexer.indexed)
        if seen != last_seen:
            last_seen, quiet_since = seen, time.monotonic()
        elif time.monotonic() - quiet_since >= idle_s and await _caught_up(
            settings, group, indexer
        ):
            return
        await asyncio.sleep(0.25)


def rebuild(
    database_url: Annotated[
        str | None,
        typer.Option(help="Database to rebuild into (default: the service's own; stop it first)"),
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Consumer group id (default: a fresh, timestamped one)")
    ] = None,
    idle: Annotated[
        float, typer.Option(help="Seconds without new records before the replay counts as done")
    ] = 2.0,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds")] = 600.0,
) -> None:
    """Replay every topic from the beginning with a fresh consumer group into emptied read
    models of the controlling service (same events, same figures)."""
    settings = Settings(**({"database_url": database_url} if database_url else {}))
    try:
        report = asyncio.run(
            rebuild_read_models(
                settings, group_id=group, idle_s=idle, timeout_s=timeout, progress=typer.echo
            )
        )
    except RebuildTimeout as exc:
        typer.echo(f"rebuild failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"rebuilt from {report.events} events ({report.records} records indexed) "
        f"in {report.seconds} s with group {report.group_id}"
    )
    for stage, count in report.stage_counts.items():
        typer.echo(f"  {stage:<16} {'—' if count is None else count}")


app = typer.Typer(help="Controlling read models.", no_args_is_help=True)
app.command()(rebuild)
