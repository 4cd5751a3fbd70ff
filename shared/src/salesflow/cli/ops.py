"""Operations commands: token, migrate, serve, outbox, dlq, asyncapi, broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from salesflow import registry
from salesflow.roles import ROLES

if TYPE_CHECKING:
    from salesflow.db import Database

console = Console()
err = Console(stderr=True)

ServiceArg = Annotated[str, typer.Argument(help=f"one of: {', '.join(registry.SERVICES)}")]
ServiceOpt = Annotated[
    str, typer.Option("--service", "-s", help=f"one of: {', '.join(registry.SERVICES)}")
]


def _module(name: str) -> registry.ServiceModule:
    try:
        return registry.load(name)
    except KeyError as exc:
        err.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(2) from None


def _parse_since(value: str) -> datetime:
    try:
        since = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def token(
    sub: Annotated[str, typer.Option(help="subject (user or system id)")],
    roles: Annotated[str, typer.Option(help=f"comma-separated, of: {', '.join(ROLES)}")],
    team: Annotated[str | None, typer.Option(help="team, for managers and reps")] = None,
    ttl: Annotated[int, typer.Option(help="lifetime in seconds")] = 8 * 3600,
) -> None:
    """Print a signed dev token (HS256 with SALESFLOW_JWT_SECRET)."""
    if not sub.strip() or len(sub) > 128:
        raise typer.BadParameter("must be 1 to 128 characters", param_hint="--sub")
    if ttl <= 0:
        raise typer.BadParameter("must be a positive number of seconds", param_hint="--ttl")
    wanted = [r.strip() for r in roles.split(",") if r.strip()]
    unknown = sorted(set(wanted) - set(ROLES))
    if unknown:
        raise typer.BadParameter(f"unknown roles {unknown}; known: {', '.join(ROLES)}")
    from salesflow.auth import issue_token
    from salesflow.settings import ServiceSettings

    typer.echo(issue_token(ServiceSettings(), sub=sub, roles=wanted, team=team, ttl_s=ttl))


def migrate(service: ServiceArg) -> None:
    """Run a service's migrations up to head (``all`` for every service)."""
    from salesflow.migrations import upgrade

    names = registry.SERVICES if service == "all" else (service,)
    for name in names:
        module = _module(name)
        settings = module.settings_cls()
        assert module.spec.migrations_dir is not None
        upgrade(module.spec.migrations_dir, settings.database_url)
        console.print(f"{name}: migrated [dim]{settings.database_url}[/dim]")


def serve(
    service: ServiceArg,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="default: the service's dev port")] = None,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = False,
) -> None:
    """Run one service with uvicorn."""
    import uvicorn

    module = _module(service)
    if migrate_first:
        migrate(service)
    uvicorn.run(
        module.factory,
        factory=True,
        host=host,
        port=port or registry.PORTS[service],
        log_level="warning",
        timeout_graceful_shutdown=15,
    )


outbox_app = typer.Typer(help="Inspect and replay a service's outbox.", no_args_is_help=True)
dlq_app = typer.Typer(help="List and replay a service's dead letters.", no_args_is_help=True)


def _db(service: str) -> Database:
    from salesflow.db import Database

    return Database(_module(service).settings_cls().database_url)


@outbox_app.command("status")
def outbox_status(service: ServiceOpt) -> None:
    """Rows, unpublished backlog and its age."""

    async def run() -> dict:
        from salesflow.messaging import outbox

        db = _db(service)
        try:
            async with db.session() as session:
                return await outbox.status(session)
        finally:
            await db.dispose()

    stats = asyncio.run(run())
    table = Table(title=f"{service} outbox")
    for key in stats:
        table.add_column(key)
    table.add_row(*(str(v) if v is not None else "—" for v in stats.values()))
    console.print(table)


@outbox_app.command("replay")
def outbox_replay(
    service: ServiceOpt,
    since: Annotated[str, typer.Option(help="ISO 8601 time; events created since then")],
) -> None:
    """Publish again every event created since a time (after a broker lost its log). Consumers'
    inboxes absorb the duplicates."""
    when = _parse_since(since)

    async def run() -> int:
        from salesflow.messaging import outbox

        db = _db(service)
        try:
            async with db.session() as session, session.begin():
                return await outbox.replay_since(session, when)
        finally:
            await db.dispose()

    count = asyncio.run(run())
    console.print(f"{service}: {count} event(s) queued for publishing again (relay sends them)")


@dlq_app.command("list")
def dlq_list(
    service: ServiceOpt,
    all_: Annotated[bool, typer.Option("--all", help="include replayed ones")] = False,
) -> None:
    """Dead-lettered events with their error."""

    async def run() -> list:
        from salesflow.messaging import dlq

        db = _db(service)
        try:
            async with db.session() as session:
                return await dlq.list_dead(session, include_replayed=all_)
        finally:
            await db.dispose()

    rows = asyncio.run(run())
    table = Table(title=f"{service} dead letters ({len(rows)})")
    for col in ("id", "consumer", "event", "type", "from", "attempts", "failed at", "error"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            str(row.id),
            row.consumer,
            row.event_id,
            row.event_type,
            f"{row.topic}[{row.partition}]@{row.offset}",
            str(row.attempts),
            row.failed_at.isoformat(timespec="seconds"),
            row.error[:120] + (" (replayed)" if row.replayed_at else ""),
        )
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(
    service: ServiceOpt,
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="dead letter id (repeatable)")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead letter not yet replayed")] = False,
) -> None:
    """Deliver dead letters again to the consumer that parked them."""
    if not ids and not all_:
        raise typer.BadParameter("name dead letters with --id, or pass --all")

    async def run() -> tuple[int, list[str]]:
        from salesflow.messaging import dlq

        db = _db(service)
        done, problems = 0, []
        try:
            async with db.session() as session, session.begin():
                dead = await dlq.list_dead(session)
                known = {row.id for row in dead}
                problems += [f"no dead letter {i}" for i in sorted(set(ids or []) - known)]
                for row in dead:
                    if all_ or row.id in (ids or []):
                        try:
                            await dlq.replay(session, row)
                            done += 1
                        except dlq.NotReplayable as exc:
                            problems.append(str(exc))
        finally:
            await db.dispose()
        return done, problems

    done, problems = asyncio.run(run())
    for problem in problems:
        err.print(f"[yellow]{problem}[/yellow]")
    console.print(f"{service}: {done} dead letter(s) queued for redelivery")
    if problems and not done:
        raise typer.Exit(1)


def asyncapi(
    path: Annotated[Path, typer.Option(help="output file")] = Path("docs/asyncapi.yaml"),
    check: Annotated[bool, typer.Option(help="fail if the file is out of date")] = False,
) -> None:
    """Write the AsyncAPI 3 document of every topic and payload."""
    from salesflow import asyncapi as doc

    if check:
        if not doc.is_current(path):
            err.print(f"{path} is out of date: run `salesflow asyncapi`")
            raise typer.Exit(1)
        console.print(f"{path} is current")
        return
    console.print(f"wrote {doc.write(path)}")


def register(app: typer.Typer) -> None:
    from salesflow.broker import broker_command

    app.command()(token)
    app.command()(migrate)
    app.command()(serve)
    app.command()(asyncapi)
    app.command("broker")(broker_command)
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(dlq_app, name="dlq")
