"""``Idempotency-Key`` for creating POSTs (Stripe semantics): same key and body ⇒ the stored
response; same key, other body ⇒ 422; the same key still in progress ⇒ 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.api.errors import Problem
from salesflow.db import Database
from salesflow.messaging.tables import IdempotencyRow

HEADER = "Idempotency-Key"
STALE_AFTER = timedelta(seconds=60)  # a reservation left by a crashed request is taken over

Create = Callable[[AsyncSession], Awaitable[tuple[int, Any]]]


def fingerprint(request: Request, payload: Any) -> str:
    canonical = json.dumps(jsonable_encoder(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


async def run_idempotent(
    db: Database, request: Request, principal: str, payload: Any, create: Create
) -> JSONResponse:
    """Run ``create(session)`` in one transaction; with a key, store its answer in that same
    transaction so a retry gets exactly what the first call got."""
    key = request.headers.get(HEADER)
    if not key:
        async with db.session() as session, session.begin():
            status, body = await create(session)
        return JSONResponse(jsonable_encoder(body), status_code=status)
    if len(key) > 200:
        raise Problem(400, f"{HEADER} is longer than 200 characters")
    digest = fingerprint(request, payload)
    stored = await _reserve(db, principal, key, request.url.path, digest)
    if stored is not None:
        return stored
    try:
        async with db.session() as session, session.begin():
            status, body = await create(session)
            encoded = jsonable_encoder(body)
            row = await session.get(IdempotencyRow, (principal, key))
            if row is None:  # reservation taken over as stale meanwhile: let that one win
                raise Problem(409, f"a request with this {HEADER} is in progress")
            row.status_code = status
            row.response_body = json.dumps(encoded)
            row.completed_at = datetime.now(UTC)
            session.add(row)
    except BaseException:
        async with db.session() as session, session.begin():
            await session.execute(
                delete(IdempotencyRow).where(
                    IdempotencyRow.principal == principal,
                    IdempotencyRow.key == key,
                    IdempotencyRow.completed_at.is_(None),
                )
            )
        raise
    return JSONResponse(encoded, status_code=status)


async def _reserve(
    db: Database, principal: str, key: str, route: str, digest: str
) -> JSONResponse | None:
    now = datetime.now(UTC)
    try:
        async with db.session() as session, session.begin():
            row = await session.get(IdempotencyRow, (principal, key))
            if row is not None:
                if row.request_hash != digest:
                    raise Problem(422, f"{HEADER} was already used with a different request")
                if row.completed_at is not None:
                    return JSONResponse(
                        json.loads(row.response_body or "null"),
                        status_code=row.status_code or 200,
                        headers={"Idempotent-Replayed": "true"},
                    )
                created = (
                    row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
                )
                if now - created < STALE_AFTER:
                    raise Problem(409, f"a request with this {HEADER} is in progress")
                row.created_at = now
                session.add(row)
                return None
            session.add(
                IdempotencyRow(
                    principal=principal, key=key, route=route, request_hash=digest, created_at=now
                )
            )
    except IntegrityError:  # a concurrent twin reserved it first
        raise Problem(409, f"a request with this {HEADER} is in progress") from None
    return None
