"""HTTP conventions on a real service app: problem+json for bad input, nothing written;
idempotency keys; CORS; correlation ids; metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from probe.app import MIGRATIONS, SPEC, ProbeItem, ProbeSettings, create_app
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert
from test_messaging import count

from salesflow.api.idempotency import STALE_AFTER, fingerprint, run_idempotent
from salesflow.auth import Principal, require
from salesflow.messaging.tables import IdempotencyRow, OutboxRow
from salesflow.service import ServiceSpec, build_app
from salesflow.testing.helpers import bearer, running
from salesflow.testing.plugin import migrate, test_db_kind

ADMIN = bearer("root", ["admin"])


@pytest.fixture
async def client(settings_for: Callable, database_url: str):
    await migrate(MIGRATIONS, database_url)
    app = create_app(settings_for(ProbeSettings, max_body_bytes=2048))
    async with running(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"name": "x"', {"content-type": "application/json"}, 400),
        (b'{"name": 5}', {"content-type": "application/json"}, 422),
        (b'{"name": "x", "admin": true}', {"content-type": "application/json"}, 422),
        (b"{}", {"content-type": "application/json"}, 422),
        (b"name=x", {"content-type": "application/x-www-form-urlencoded"}, 415),
        (b'{"name": "' + b"x" * 5000 + b'"}', {"content-type": "application/json"}, 413),
        (
            b'{"name": "x", "seq": 1180591620717411303424}',
            {"content-type": "application/json"},
            422,
        ),
    ],
    ids=[
        "malformed-json",
        "wrong-type",
        "unknown-field",
        "missing-field",
        "not-json",
        "too-large",
        "number-beyond-64-bits",
    ],
)
async def test_bad_input_gets_problem_json_and_writes_nothing(
    client, body: bytes, headers: dict, status: int
) -> None:
    resp = await client.post("/items", content=body, headers={**ADMIN, **headers})
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == status and problem["title"]
    assert (await client.get("/received", headers=ADMIN)).json()["items"] == 0
    assert await count(client.app.state.db, OutboxRow) == 0


async def test_chunked_body_over_the_limit_gets_413(client) -> None:
    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    resp = await client.post(
        "/items", content=chunks(), headers={**ADMIN, "content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/problem+json"


async def test_unknown_route_and_method(client) -> None:
    resp = await client.get("/nowhere", headers=ADMIN)
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    resp = await client.delete("/items", headers=ADMIN)
    assert resp.status_code == 405
    assert resp.headers["allow"] == "POST"
    # the other spelling is no route either: a redirect's absolute URL would skip a gateway
    resp = await client.get("/received/", headers=ADMIN)
    assert resp.status_code == 404 and "GET /received/" in resp.json()["detail"]


async def test_correlation_id_is_echoed_and_metrics_count_requests(client) -> None:
    resp = await client.get("/received", headers={**ADMIN, "X-Correlation-Id": "journey-42"})
    assert resp.headers["x-correlation-id"] == "journey-42"
    assert resp.headers.get("x-correlation-id")
    metrics = (await client.get("/metrics")).text
    assert (
        'salesflow_http_request_duration_seconds_count{method="GET",route="/received",service="probe",status="200"}'
        in metrics
    )


async def test_cors_allows_configured_origin_only(client) -> None:
    preflight = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,idempotency-key",
    }
    resp = await client.options("/items", headers=preflight)
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "http://localhost:3000"
    resp = await client.options("/items", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in resp.headers


async def test_idempotency_key_semantics(settings_for: Callable, database_url: str) -> None:
    await migrate(MIGRATIONS, database_url)
    spec = ServiceSpec(**{**SPEC.__dict__, "routers": [*SPEC.routers, router]})
    app = build_app(spec, settings_for(ProbeSettings))
    async with running(app) as client:
        key = {**ADMIN, "Idempotency-Key": "k-1"}
        first, twin = await asyncio.gather(
            client.post("/things", json={"name": "a"}, headers=key),
            _later(client.post("/things", json={"name": "a"}, headers=key)),
        )
        assert first.status_code == 201
        if test_db_kind() == "postgresql":
            assert twin.status_code == 409  # same key still in progress
        else:  # SQLite units of work take turns: the twin waits and gets the stored answer
            assert twin.status_code == 201
            assert twin.headers["idempotent-replayed"] == "true"
        again = await client.post("/things", json={"name": "a"}, headers=key)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        other = await client.post("/things", json={"name": "b"}, headers=key)
        assert other.status_code == 422
        assert (await client.get("/received", headers=ADMIN)).json()["items"] == 1
        # another principal may use the same key for its own request
        mine = await client.post(
            "/things",
            json={"name": "b"},
            headers={**bearer("other", ["admin"]), "Idempotency-Key": "k-1"},
        )
        assert mine.status_code == 201
        assert (await client.get("/received", headers=ADMIN)).json()["items"] == 2
        # an empty key or one over 200 characters is refused, nothing written
        for bad in ("", "k" * 201):
            refused = await client.post(
                "/things", json={"name": "c"}, headers={**ADMIN, "Idempotency-Key": bad}
            )
            assert refused.status_code == 400, refused.text
            assert "1 to 200 characters" in refused.json()["detail"]
        assert (await client.get("/received", headers=ADMIN)).json()["items"] == 2


async def test_idempotency_reservations_in_progress_and_left_by_a_crash(
    settings_for: Callable, database_url: str
) -> None:
    """A reservation still fresh answers 409; one left by a crashed request (older than
    STALE_AFTER) is taken over by the same request, refused (422) for another body."""
    await migrate(MIGRATIONS, database_url)
    spec = ServiceSpec(**{**SPEC.__dict__, "routers": [*SPEC.routers, router]})
    app = build_app(spec, settings_for(ProbeSettings))
    async with running(app) as client:
        body = {"name": "a"}
        path = "/things"

        async def reserve(key: str, age: timedelta, name: str = "a") -> None:
            digest = fingerprint(_Stub(path), ThingIn(name=name))
            async with app.state.db.session() as session, session.begin():
                await session.execute(
                    insert(IdempotencyRow.__table__).values(
                        principal="root",
                        key=key,
                        route=path,
                        request_hash=digest,
                        created_at=datetime.now(UTC) - age,
                    )
                )

        await reserve("fresh", timedelta(seconds=1))
        busy = await client.post(path, json=body, headers={**ADMIN, "Idempotency-Key": "fresh"})
        assert busy.status_code == 409, busy.text
        assert busy.headers["content-type"] == "application/problem+json"

        await reserve("crashed", STALE_AFTER + timedelta(seconds=5))
        other = await client.post(
            path, json={"name": "b"}, headers={**ADMIN, "Idempotency-Key": "crashed"}
        )
        assert other.status_code == 422, other.text
        taken = await client.post(path, json=body, headers={**ADMIN, "Idempotency-Key": "crashed"})
        assert taken.status_code == 201, taken.text
        replay = await client.post(path, json=body, headers={**ADMIN, "Idempotency-Key": "crashed"})
        assert replay.json() == taken.json()
        assert replay.headers["idempotent-replayed"] == "true"
        assert (await client.get("/received", headers=ADMIN)).json()["items"] == 1


class _Stub:
    """The two request attributes the fingerprint reads."""

    method = "POST"

    def __init__(self, path: str) -> None:
        self.url = type("Url", (), {"path": path})()


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


router = APIRouter()


@router.post("/things", status_code=201)
async def create_thing(
    body: ThingIn, request: Request, principal: Principal = Depends(require("admin"))
) -> JSONResponse:
    async def work(session):
        await asyncio.sleep(0.2)  # long enough for a concurrent twin to arrive
        item = ProbeItem(name=body.name, key="k")
        session.add(item)
        await session.flush()
        return 201, {"id": item.id, "name": body.name}

    return await run_idempotent(request.app.state.db, request, principal.sub, body, work)


async def _later(coro):
    await asyncio.sleep(0.05)
    return await coro


async def test_text_the_database_cannot_store_is_refused_not_a_500(client) -> None:
    """PostgreSQL text cannot hold NUL: refused up front on either database, alike."""
    refused = [
        await client.post("/items", json={"name": "nul\u0000byte"}, headers=ADMIN),
        await client.post(
            "/items",
            content=b'{"name": "three \\\\\\u0000 backslashes"}',  # \\ then \u0000
            headers={**ADMIN, "content-type": "application/json"},
        ),
        await client.get("/received?x=%00", headers=ADMIN),
    ]

    async def split_escape():  # the escape spans two chunks of the body
        yield b'{"name": "ab\\u00'
        yield b'00"}'

    refused.append(
        await client.post(
            "/items", content=split_escape(), headers={**ADMIN, "content-type": "application/json"}
        )
    )
    for resp in refused:
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert "NUL" in resp.json()["detail"] and resp.json()["title"] == "Unprocessable Entity"
    assert (await client.get("/received", headers=ADMIN)).json()["items"] == 0

    # an escaped backslash followed by "u0000" is plain text
    ok = await client.post(
        "/items",
        content=b'{"name": "path C:\\\\u0000"}',
        headers={**ADMIN, "content-type": "application/json"},
    )
    assert ok.status_code == 201, ok.text
