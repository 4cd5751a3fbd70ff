"""RFC 9457 problem details for every error the HTTP layer can produce."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or HTTPStatus(status).phrase)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.type = type_
        self.headers = headers
        self.extensions = extensions


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title or HTTPStatus(status).phrase}
    body["status"] = status
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def not_found(what: str = "resource") -> Problem:
    return Problem(404, f"{what} not found")


def conflict(detail: str, **ext: Any) -> Problem:
    return Problem(409, detail, **ext)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        errors.append({"loc": loc, "msg": err.get("msg", ""), "type": err.get("type", "")})
    return errors


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Methods documented for ``path`` across every route that matches it (the router's own
    Allow header names only the first matching route). A documented path without parameters
    that equals ``path`` is the resource itself: templates that also match it (``/segments/
    preview`` against ``/segments/{id}``) do not add their methods."""
    table = getattr(app.state, "allow_table", None)
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            static = "{" not in template
            ops = sorted(m.upper() for m in operations)
            table.append((re.compile(f"^{pattern}$"), static, ops))
        app.state.allow_table = table
    exact = [ops for pattern, static, ops in table if static and pattern.match(path)]
    if exact:
        return sorted({m for ops in exact for m in ops})
    methods: set[str] = set()
    for pattern, _static, ops in table:
        if pattern.match(path):
            methods.update(ops)
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            title=exc.title,
            type_=exc.type,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extensions,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        if exc.status_code == 405:
            allowed = allowed_methods(request.app, request.url.path)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} not allowed here; allowed: {headers['Allow']}"
        return problem_response(exc.status_code, detail, instance=request.url.path, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(
                400, "request body is not valid JSON", instance=request.url.path, errors=errors
            )
        return problem_response(
            422, "request failed validation", instance=request.url.path, errors=errors
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # SQLSTATE class 22 (data exception: a NUL character in text, a number out of range …)
        # is input the database cannot store: the transaction is rolled back, nothing written
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if isinstance(state, str) and state.startswith("22"):
            return problem_response(
                422,
                "a value cannot be stored (e.g. a NUL character or a number out of range)",
                instance=request.url.path,
            )
        log.exception("database error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal error", instance=request.url.path)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's driver refuses an integer beyond 64 bits, datetime arithmetic one beyond the
        # calendar: input too large to store or compute with (PostgreSQL's counterpart is a
        # class-22 error above). The transaction is rolled back, nothing written.
        log.warning("value out of range on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            422, "a value is out of the range that can be stored", instance=request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal error", instance=request.url.path)
