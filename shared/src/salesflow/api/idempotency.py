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
from pydantic import BaseModel
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from salesflow.api.errors import Problem
from salesflow.db import Database
from salesflow.messaging.tables import IdempotencyRow
from salesflow.upserts import PerDialect

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
# ``openapi_extra`` of a route that honours the header: clients see it in the OpenAPI document
DECLARED = {
    "parameters": [
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            "description": "A retry with the same key and body gets the first answer; the same "
            "key with another body is 422, while the first request runs 409.",
        }
    ]
}
STALE_AFTER = timedelta(seconds=60)  # a reservation left by a crashed request is taken over

Create = Callable[[AsyncSession], Awaitable[tuple[int, Any]]]
KEYS = IdempotencyRow.__table__

# built once (every keyed request runs them)
_THIS_KEY = (KEYS.c.principal == bindparam("p"), KEYS.c.key == bindparam("k"))
_RESERVE = PerDialect(lambda insert: insert(KEYS).on_conflict_do_nothing())
_STORED = select(KEYS).where(*_THIS_KEY)
_COMPLETE = update(KEYS).where(*_THIS_KEY)
_TAKE_OVER = update(KEYS).where(*_THIS_KEY)


def encode(body: Any) -> Any:
    """What ``jsonable_encoder`` makes of it; a model's JSON dump is that already, at a fraction
    of the cost (the encoder would walk the dumped dict once more)."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(body)


def fingerprint(request: Request, payload: Any) -> str:
    canonical = json.dumps(encode(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


def checked_key(request: Request) -> str | None:
    """The request's key; None without one; 400 for an empty one or one that is too long."""
    key = request.headers.get(HEADER)
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise Problem(400, f"{HEADER} must have 1 to {MAX_KEY_LENGTH} characters")
    return key


async def run_idempotent(
    db: Database, request: Request, principal: str, payload: Any, create: Create
) -> JSONResponse:
    """Run ``create(session)`` in one transaction; with a key, store its answer in that same
    transaction so a retry gets exactly what the first call got."""
    key = checked_key(request)
    if key is None:
        async with db.session() as session, session.begin():
            status, body = await create(session)
        return JSONResponse(encode(body), status_code=status)
    digest = fingerprint(request, payload)
    stored = await _reserve(db, principal, key, request.url.path, digest)
    if stored is not None:
        return stored
    try:
        async with db.session() as session, session.begin():
            status, body = await create(session)
            encoded = encode(body)
            stored = await session.execute(
                _COMPLETE,
                {
                    "p": principal,
                    "k": key,
                    "status_code": status,
                    "response_body": json.dumps(encoded),
                    "completed_at": datetime.now(UTC),
                },
            )
            if stored.rowcount != 1:  # reservation taken over as stale meanwhile: that one wins
                raise Problem(409, f"a request with this {HEADER} is in progress")
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


def answer_from_store(row: Any, digest: str, now: datetime) -> JSONResponse | Problem | None:
    """What a request finds under its key: the stored answer (replayed), a refusal (another
    body: 422; still in progress: 409), or None: a crashed request's reservation to take over."""
    if row.request_hash != digest:
        return Problem(422, f"{HEADER} was already used with a different request")
    if row.completed_at is not None:
        return JSONResponse(
            json.loads(row.response_body or "null"),
            status_code=row.status_code or 200,
            headers={"Idempotent-Replayed": "true"},
        )
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    if now - created < STALE_AFTER:
        return Problem(409, f"a request with this {HEADER} is in progress")
    return None


async def _reserve(
    db: Database, principal: str, key: str, route: str, digest: str
) -> JSONResponse | None:
    """Reserve the key (None), or answer from what an earlier request with it left."""
    now = datetime.now(UTC)
    reservation = {
        "principal": principal,
        "key": key,
        "route": route,
        "request_hash": digest,
        "created_at": now,
    }
    this_key = {"p": principal, "k": key}
    try:
        async with db.session() as session, session.begin():
            if (await session.execute(_RESERVE.of(db), reservation)).rowcount == 1:
                return None
            row = (await session.execute(_STORED, this_key)).one_or_none()
            if row is None:  # the holder gave it up between our two statements
                raise Problem(409, f"a request with this {HEADER} is in progress")
            answer = answer_from_store(row, digest, now)
            if isinstance(answer, Problem):
                raise answer
            if answer is not None:
                return answer
            # take the crashed request's reservation over
            await session.execute(_TAKE_OVER, {**this_key, "created_at": now})
            return None
    except IntegrityError:  # a concurrent twin reserved it first
        raise Problem(409, f"a request with this {HEADER} is in progress") from None
