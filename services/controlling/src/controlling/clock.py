"""The service's notion of "now" (tests replace ``app.state.clock``)."""

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import Request

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def now(request: Request) -> datetime:
    clock: Clock = getattr(request.app.state, "clock", utcnow)
    return clock()
