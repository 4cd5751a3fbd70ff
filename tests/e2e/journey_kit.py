"""Small helpers for the end-to-end journeys: tokens per role, polling the public APIs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from salesflow.stack import DevStack
from salesflow.testing.helpers import bearer

ADMIN = bearer("ops", ["admin"])
ORDER_DESK = bearer("olga", ["order_desk"])
ANALYST = bearer("ana", ["analyst"])
AGENT = bearer("sam", ["service_agent"])
MARKETING = bearer("mia", ["marketing"])
REP = bearer("alice", ["sales_rep"], team="north")
MANAGER = bearer("bob", ["sales_manager"], team="north")


class Platform:
    """HTTP clients for every service of a running stack."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.clients = {
            name: httpx.AsyncClient(base_url=stack.url(name), timeout=30) for name in stack.procs
        }

    def __getattr__(self, name: str) -> httpx.AsyncClient:
        try:
            return self.clients[name]
        except KeyError:
            raise AttributeError(name) from None

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    )
    return resp.json()


async def until(probe, *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``probe`` (an async function) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")
