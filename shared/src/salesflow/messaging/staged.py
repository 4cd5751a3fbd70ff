"""Rows staged in a session and written at commit, one multi-row INSERT per table.

The ORM inserts rows one by one (to learn each id); outbox and inbox rows need no id back, so
they are gathered and written just before the transaction commits. Inside a savepoint they go
through the ORM instead, so that rolling the savepoint back takes them with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.messaging.tables import PlatformBase

_STAGED = "salesflow_staged_rows"


def stage(session: AsyncSession, model: type[PlatformBase], values: dict[str, Any]) -> None:
    sync = session.sync_session
    if sync.in_nested_transaction():
        session.add(model(**values))
        return
    sync.info.setdefault(_STAGED, {}).setdefault(model, []).append(values)


@sa_event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    staged = session.info.pop(_STAGED, None)
    for model, rows in (staged or {}).items():
        # Core executemany on the session's connection: the ORM's bulk path costs per row
        session.connection().execute(insert(model.__table__), rows)


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_STAGED, None)
