"""Media types on a real service app (built by ``build_app`` as every service's is): a JSON body
must be declared JSON (415 otherwise, nothing written) on routes that take one, while routes
that read other bodies themselves are untouched; refused CORS preflights are problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import APIRouter, Request
from probe.app import MIGRATIONS, SPEC, ProbeSettings
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from test_messaging import count

from salesflow.api.middleware import ProblemCORSMiddleware
from salesflow.messaging.tables import OutboxRow
from salesflow.service import ServiceSpec, build_app
from salesflow.testing.helpers import bearer, running
from salesflow.testing.plugin import migrate

ADMIN = bearer("root", ["admin"])
ITEM = b'{"name": "x"}'

# routes beside the probe's JSON ``POST /items``: one that streams its body itself (as the
# leads CSV import does) and one whose JSON body is optional
extra = APIRouter()


@extra.post("/upload", openapi_extra={"requestBody": {"content": {"text/csv": {}}}})
async def upload(request: Request) -> dict:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"bytes": size, "type": request.headers.get("content-type")}


class Note(BaseModel):
    text: str = ""


@extra.post("/nudge")
async def nudge(body: Note | None = None) -> dict:
    return {"text": body.text if body else None}


@pytest.fixture
async def client(settings_for: Callable, database_url: str) -> AsyncIterator:
    await migrate(MIGRATIONS, database_url)
    spec = ServiceSpec(**{**SPEC.__dict__, "routers": [*SPEC.routers, extra]})
    app = build_app(spec, settings_for(ProbeSettings))
    async with running(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def _nothing_written(client) -> None:
    assert (await client.get("/received", headers=ADMIN)).json()["items"] == 0
    assert await count(client.app.state.db, OutboxRow) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/jsonx",
        "text/json",
        None,
    ],
)
async def test_json_route_refuses_a_body_not_declared_json(client, content_type) -> None:
    headers = dict(ADMIN)
    if content_type is not None:
        headers["content-type"] = content_type
    resp = await client.post("/items", content=ITEM, headers=headers)
    assert resp.status_code == 415, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == 415 and problem["title"] == "Unsupported Media Type"
    assert "application/json" in problem["detail"]
    if content_type is not None:
        assert content_type.split(";")[0] in problem["detail"]
    await _nothing_written(client)


async def test_streamed_body_not_declared_json_gets_415(client) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield ITEM[:5]
        yield ITEM[5:]

    resp = await client.post(
        "/items", content=chunks(), headers={**ADMIN, "content-type": "text/plain"}
    )
    assert resp.status_code == 415, resp.text
    await _nothing_written(client)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        "application/merge-patch+json",
    ],
)
async def test_json_route_takes_json_declared_either_way(client, content_type) -> None:
    resp = await client.post(
        "/items", content=ITEM, headers={**ADMIN, "content-type": content_type}
    )
    assert resp.status_code == 201, resp.text


async def test_routes_reading_other_bodies_are_untouched(client) -> None:
    csv = b"name,country\nACME,DE\n"
    for content_type in ("text/csv", "text/plain", None):
        headers = {"content-type": content_type} if content_type else {}
        resp = await client.post("/upload", content=csv, headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"bytes": len(csv), "type": content_type}


async def test_optional_json_body_may_be_left_out_but_not_mistyped(client) -> None:
    assert (await client.post("/nudge")).json() == {"text": None}
    resp = await client.post("/nudge", headers={"content-type": "text/plain"})
    assert resp.status_code == 200  # no body: nothing to declare
    resp = await client.post("/nudge", json={"text": "hi"})
    assert resp.json() == {"text": "hi"}
    resp = await client.post("/nudge", content=b'{"text": "hi"}')
    assert resp.status_code == 415


async def test_the_check_adds_nothing_to_the_openapi_document(client) -> None:
    operation = client.app.openapi()["paths"]["/items"]["post"]
    assert "parameters" not in operation
    assert "415" in operation["responses"]


PREFLIGHT = {
    "Origin": "http://localhost:3000",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
}


async def test_allowed_preflight_is_answered_as_starlette_does(client) -> None:
    resp = await client.options("/items", headers=PREFLIGHT)
    assert resp.status_code == 200
    assert resp.text == "OK"
    assert resp.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in resp.headers["access-control-allow-methods"]
    # the same answer, header for header, as Starlette's own middleware with the same settings
    [cors] = [m for m in client.app.user_middleware if m.cls is ProblemCORSMiddleware]
    plain = CORSMiddleware(client.app, *cors.args, **cors.kwargs)
    reference = plain.preflight_response(Headers(PREFLIGHT))
    assert reference.status_code == resp.status_code
    assert reference.body == resp.content
    ours = {k: v for k, v in resp.headers.items() if k != "x-correlation-id"}
    assert dict(reference.headers.items()) == ours


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"Origin": "https://evil.example"}, ["origin 'https://evil.example'"]),
        ({"Access-Control-Request-Method": "TRACE"}, ["method 'TRACE'"]),
        ({"Access-Control-Request-Headers": "authorization,x-secret"}, ["x-secret"]),
        (
            {"Origin": "https://evil.example", "Access-Control-Request-Method": "CONNECT"},
            ["origin 'https://evil.example'", "method 'CONNECT'"],
        ),
    ],
    ids=["origin", "method", "header", "origin-and-method"],
)
async def test_refused_preflight_is_problem_json_naming_what_was_refused(
    client, change: dict, named: list[str]
) -> None:
    resp = await client.options("/items", headers={**PREFLIGHT, **change})
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
    if "Origin" in change:  # an allowed origin is named back as Starlette does, refused or not
        assert "access-control-allow-origin" not in resp.headers
    problem = resp.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert problem["detail"].startswith("CORS preflight refused: ")
    for what in named:
        assert what in problem["detail"], problem["detail"]
    assert resp.headers["content-length"] == str(len(resp.content))
