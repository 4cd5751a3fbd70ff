"""Small async helpers for tests: polling, running an app with its lifespan, ports, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from salesflow.auth import issue_token
from salesflow.settings import DEV_JWT_SECRET

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_block(ports: list[int], step: int = 10) -> int:
    """An offset that makes every one of ``ports`` free (for a second platform beside ``make run``)."""
    import random

    for _ in range(100):
        offset = random.randrange(1000, 20000, step)
        if all(_is_free(p + offset) for p in ports):
            return offset
    raise RuntimeError("no free block of ports")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str = "condition not met",
) -> T:
    """Poll ``probe`` until it returns a truthy value; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{message} within {timeout}s (last value: {last!r})")


def bearer(
    sub: str = "alice",
    roles: list[str] | None = None,
    team: str | None = None,
    secret: str = DEV_JWT_SECRET,
) -> dict[str, str]:
    token = issue_token(sub=sub, roles=roles or ["admin"], team=team, secret=secret)
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def running(app: FastAPI, *, ready_timeout: float = 30.0) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan (relay, consumers) and yield a client bound to it in-process;
    returns once the service reports ready (database and broker)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually(ready, timeout=ready_timeout, message="service not ready")
            yield client
