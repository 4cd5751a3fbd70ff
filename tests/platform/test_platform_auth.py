"""Every route of every service except health, readiness, metrics and docs requires a token
(401 problem+json without one, or with a bad one) and the right role (403 without it)."""

from __future__ import annotations

import re
import time

import httpx
import jwt
import pytest

from salesflow import registry
from salesflow.settings import DEV_JWT_SECRET
from salesflow.testing.helpers import bearer

OPEN = {"/healthz", "/readyz", "/metrics"}


def _routes(service: str) -> list[tuple[str, str]]:
    """Every operation the service documents (its OpenAPI is what clients see)."""
    app = registry.load(service).create_app()
    found = []
    for path, operations in app.openapi()["paths"].items():
        if path in OPEN:
            continue
        for method in operations:
            found.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return found


def _client(service: str) -> httpx.AsyncClient:
    # no lifespan: auth is decided before a route touches the database or the broker
    app = registry.load(service).create_app()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


@pytest.mark.parametrize("service", registry.SERVICES)
async def test_every_route_needs_a_token_and_a_role(service: str) -> None:
    routes = _routes(service)
    assert routes, f"{service} has no routes"
    no_roles = bearer("nobody", roles=["not_a_role"])
    async with _client(service) as client:
        for method, path in routes:
            resp = await client.request(method, path)
            assert resp.status_code == 401, (method, path, resp.status_code)
            assert resp.headers["content-type"] == "application/problem+json"
            assert resp.headers["www-authenticate"].startswith("Bearer")
            resp = await client.request(method, path, headers=no_roles)
            assert resp.status_code == 403, (method, path, resp.status_code, resp.text)
            assert resp.json()["status"] == 403


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode(
            {"sub": "a", "roles": ["admin"], "aud": "salesflow", "exp": int(time.time()) - 60},
            DEV_JWT_SECRET,
            algorithm="HS256",
        ),
        jwt.encode(
            {"sub": "a", "roles": ["admin"], "aud": "salesflow", "exp": int(time.time()) + 60},
            "another-secret-of-sufficient-length-123",
            algorithm="HS256",
        ),
        jwt.encode(
            {"sub": "a", "roles": ["admin"], "aud": "elsewhere", "exp": int(time.time()) + 60},
            DEV_JWT_SECRET,
            algorithm="HS256",
        ),
        jwt.encode(
            {"sub": "a", "roles": "admin", "aud": "salesflow", "exp": int(time.time()) + 60},
            DEV_JWT_SECRET,
            algorithm="HS256",
        ),
        jwt.encode(
            {"roles": ["admin"], "aud": "salesflow", "exp": int(time.time()) + 60},
            DEV_JWT_SECRET,
            algorithm="HS256",
        ),
    ],
    ids=["garbage", "expired", "wrong-key", "wrong-audience", "roles-not-a-list", "no-subject"],
)
async def test_bad_tokens_get_401(token: str) -> None:
    async with _client("controlling") as client:
        resp = await client.get("/journeys/x", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["detail"]


async def test_open_endpoints_need_no_token() -> None:
    async with _client("leads") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/docs")).status_code == 200
