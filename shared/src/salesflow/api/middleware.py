"""ASGI middleware: body size limit (413) and NUL characters (422), CORS with refused preflights
as problem+json (400), correlation id, request metrics."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesflow import observability as obs
from salesflow.api.errors import PROBLEM_JSON, problem_response

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


class _Refused(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


# ``\u0000`` in JSON text: a backslash that is not itself escaped (an even run of backslashes
# before it), then u0000
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NUL_DETAIL = "text must not contain NUL (U+0000) characters"


def _nul_refusal() -> _Refused:
    return _Refused(422, "Unprocessable Entity", _NUL_DETAIL)  # as every other 422 is titled


class BodyGuard:
    """Refuse bodies over ``limit`` bytes (413; per-path overrides for bulk uploads), and NUL
    characters in JSON bodies, query strings and paths (422): PostgreSQL cannot store U+0000 in
    text, so it would otherwise fail only where a value is written — as a 500, and only there."""

    def __init__(self, app: ASGIApp, limit: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
            await _send_refusal(send, _nul_refusal())
            return
        limit = self.overrides.get(scope["path"], self.limit)
        json_body = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_problem(send, 400, "Bad Request", "invalid Content-Length")
                    return
                if declared > limit:
                    await _send_refusal(send, _too_large(limit))
                    return
            elif name == b"content-type":
                json_body = b"json" in value.lower()
        received = 0
        tail = b""  # the end of the previous chunk: an escape may span two
        refused: _Refused | None = None
        answered = False

        async def guarded_receive() -> Message:
            nonlocal received, refused, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    refused = _too_large(limit)
                    raise refused
                if json_body and chunk:
                    text = tail + chunk if tail else chunk
                    if b"u0000" in text and _NUL_ESCAPE.search(text):
                        refused = _nul_refusal()
                        raise refused
                    tail = text[-64:]
            return message

        async def guarded_send(message: Message) -> None:
            # the app may turn our exception into an error of its own (e.g. 400 for a body it
            # could not parse): whatever it answers, the client gets our refusal
            nonlocal answered
            if refused is not None:
                if not answered:
                    answered = True
                    await _send_refusal(send, refused)
                return
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except _Refused:
            pass
        if refused is not None and not answered:
            await _send_refusal(send, refused)


def _too_large(limit: int) -> _Refused:
    return _Refused(413, "Content Too Large", f"body exceeds {limit} bytes")


async def _send_refusal(send: Send, refused: _Refused) -> None:
    await _send_problem(send, refused.status, refused.title, refused.detail)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, but a refused preflight is a problem document (400) naming what was
    refused, like every other error of the platform, instead of ``text/plain`` "Disallowed CORS
    origin". Allowed preflights and simple requests are Starlette's, unchanged."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        # keep the CORS headers Starlette set (Vary, Allow-Methods …); body and its type are ours
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-type", "content-length")
        }
        return problem_response(
            400,
            "CORS preflight refused: " + "; ".join(self._refusals(request_headers)),
            headers=headers,
        )

    def _refusals(self, request_headers: Headers) -> list[str]:
        """What Starlette's check refused, one phrase each (the same tests, in its order)."""
        refusals: list[str] = []
        origin = request_headers["origin"]
        if not self.is_allowed_origin(origin=origin):
            refusals.append(f"origin {origin[:200]!r} is not allowed")
        method = request_headers["access-control-request-method"]
        if method not in self.allow_methods:
            allowed = ", ".join(self.allow_methods)
            refusals.append(f"method {method[:40]!r} is not allowed (allowed: {allowed})")
        requested = request_headers.get("access-control-request-headers")
        if requested is not None and not self.allow_all_headers:
            names = [h.strip() for h in requested.lower().split(",")]
            refused = [h for h in names if h not in self.allow_headers]
            if refused:
                listed = ", ".join(refused)[:200]
                refusals.append(f"request header(s) {listed} not allowed")
        if (
            request_headers.get("access-control-request-private-network") is not None
            and not self.allow_private_network
        ):
            refusals.append("private network access is not allowed")
        return refusals or ["not allowed"]


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
