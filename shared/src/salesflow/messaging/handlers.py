"""What an event handler gets: the session of its unit of work, the event, and ``emit``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.contracts.catalog import event_spec
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.messaging import outbox
from salesflow.settings import ServiceSettings


class PermanentError(Exception):
    """Retrying cannot help (e.g. the event contradicts our state): dead-letter it at once."""


@dataclass
class HandlerContext:
    session: AsyncSession
    event: Envelope
    settings: ServiceSettings
    emitted: list[Envelope] = field(default_factory=list)

    def payload(self) -> Any:
        return self.event.payload()

    def emit(self, type_: str, subject: str, data: BaseModel | dict[str, Any]) -> Envelope:
        """Stage a follow-up event in this unit of work, caused by the incoming one."""
        return emit(self.session, self.settings, type_, subject, data, cause=self.event)


Handler = Callable[[HandlerContext], Awaitable[None]]


def emit(
    session: AsyncSession,
    settings: ServiceSettings,
    type_: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    *,
    cause: Envelope | None = None,
    correlation_id: str | None = None,
) -> Envelope:
    """Build an event and add it to the outbox of ``session``'s transaction."""
    spec = event_spec(type_)
    if spec is None:
        raise ValueError(f"{type_!r} is not in the event catalog")
    event = new_event(
        type_,
        subject,
        data,
        source=settings.source,
        cause=cause,
        correlation_id=correlation_id,
    )
    outbox.add(session, event, topic=spec.topic)
    return event
