"""ASGI middleware: body size limit (413), correlation id, request metrics."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesflow import observability as obs
from salesflow.api.errors import PROBLEM_JSON

CORRELATION_HEADER = "x-correlation-id"


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse bodies over ``limit`` bytes (per-path overrides for bulk uploads)."""

    def __init__(self, app: ASGIApp, limit: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.limit)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_problem(send, 400, "Bad Request", "invalid Content-Length")
                    return
                if declared > limit:
                    await _send_problem(
                        send, 413, "Content Too Large", f"body exceeds {limit} bytes"
                    )
                    return
        received = 0
        overflow = False
        answered = False

        async def guarded_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # the app may turn our exception into an error of its own (e.g. 400 for a body it
            # could not parse): whatever it answers, the client gets the 413
            nonlocal answered
            if overflow:
                if not answered:
                    answered = True
                    await _send_problem(
                        send, 413, "Content Too Large", f"body exceeds {limit} bytes"
                    )
                return
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except _TooLarge:
            pass
        if overflow and not answered:
            await _send_problem(send, 413, "Content Too Large", f"body exceeds {limit} bytes")


class RequestContext:
    """Correlation id (from ``X-Correlation-Id`` or new) in logs and responses; latency metric."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = None
        for name, value in scope.get("headers", ()):
            if name == CORRELATION_HEADER.encode():
                cid = value.decode("latin-1")[:100]
        cid = cid or str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = cid
        token = obs.correlation_id_var.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[Any] = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER.encode(), cid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            obs.HTTP_LATENCY.labels(self.service, scope["method"], label, str(status)).observe(
                time.perf_counter() - started
            )
            obs.correlation_id_var.reset(token)
