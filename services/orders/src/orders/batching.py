"""Group commit for direct intake (setting ``intake_group_commit``).

Requests that arrive while a batch is being written queue up; the next batch takes them all
(up to ``intake_batch_max``) into ONE transaction: one counter bump for the whole batch, one
commit (and fsync) instead of one per order, one wake-up of the relay. Each order is still
validated on its own, sees the open order value of the orders before it in the batch, and gets
its own answer only after the batch has committed.

``Idempotency-Key`` keeps the platform's semantics (``salesflow.api.idempotency``; same table and
request fingerprint): the key's row is written, completed, in the batch transaction itself, so a
retry gets exactly the stored answer; same key with another body ⇒ 422; a twin in the same batch
or still running elsewhere ⇒ 409. If a batch fails as a whole (e.g. a twin committed the same key
on another replica first), every request of it is retried in a batch of its own, so one request
never sinks the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.config import Settings
from orders.direct import DirectOrder, draft_of, load_master_data
from orders.intake import OrderDraft, take_in
from orders.views import order_detail
from salesflow.api.errors import Problem
from salesflow.api.idempotency import HEADER, answer_from_store, checked_key, fingerprint
from salesflow.db import Database
from salesflow.leadership import every_replica
from salesflow.messaging.tables import IdempotencyRow
from salesflow.service import ServiceContext

log = logging.getLogger(__name__)
_KEYS = IdempotencyRow.__table__
# built once (bound parameters, expanded to the IN lists): run for every batch. Two IN lists
# and the exact (principal, key) pairs picked out of the answer.
_STORED_KEYS = select(*_KEYS.c).where(
    _KEYS.c.principal.in_(bindparam("principals", expanding=True)),
    _KEYS.c.key.in_(bindparam("keys", expanding=True)),
)

Outcome = Response | BaseException


@dataclass
class _Job:
    principal: str
    key: str | None
    digest: str | None
    route: str
    order: DirectOrder
    future: asyncio.Future[Response]


def _in_progress() -> Problem:
    return Problem(409, f"a request with this {HEADER} is in progress")


class IntakeBatcher:
    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.clock = clock
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.batches = 0
        self.orders = 0

    async def submit(
        self, request: Request, principal: str, payload: BaseModel, order: DirectOrder
    ) -> Response:
        key = checked_key(request)
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        digest = fingerprint(request, payload) if key else None
        await self._queue.put(_Job(principal, key, digest, request.url.path, order, future))
        return await future

    @every_replica  # every replica takes orders over HTTP, so each needs its batcher
    async def run(self, ctx: ServiceContext) -> None:
        """Background task of the service: write batches until cancelled."""
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < self.settings.intake_batch_max and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                await self._settle(ctx.db, jobs)
            except asyncio.CancelledError:
                for job in jobs:
                    _resolve(job, Problem(503, "the service is shutting down; retry"))
                raise
            except Exception as exc:
                log.warning("intake batch of %d failed (%r); one by one", len(jobs), exc)
                for job in jobs:
                    try:
                        await self._settle(ctx.db, [job])
                    except IntegrityError:
                        _resolve(
                            job, _in_progress() if job.key else Problem(409, "conflict; retry")
                        )
                    except Exception as alone:
                        _resolve(job, alone)

    async def _settle(self, db: Database, jobs: list[_Job]) -> None:
        """One transaction for ``jobs``; answers are handed out only after the commit."""
        outcomes: list[tuple[_Job, Outcome]] = []
        now = self.clock()
        async with db.session() as session, session.begin():
            rows = await _stored_keys(session, [j for j in jobs if j.key])
            master = await load_master_data(session, [j.order for j in jobs])
            claimed: dict[tuple[str, str], str | None] = {}  # key -> request digest
            live: list[tuple[_Job, OrderDraft]] = []
            for job in jobs:
                if job.key:
                    ident = (job.principal, job.key)
                    stored = rows.get(ident)
                    early = _answer_from_store(stored, job, now) if stored else None
                    if early is None and ident in claimed:  # a twin in this very batch
                        early = (
                            _in_progress()
                            if claimed[ident] == job.digest
                            else Problem(422, f"{HEADER} was already used with a different request")
                        )
                    if early is not None:
                        outcomes.append((job, early))
                        continue
                    claimed[ident] = job.digest
                try:
                    live.append((job, draft_of(job.order, master)))
                except Problem as problem:  # nothing written for it; its key stays free
                    outcomes.append((job, problem))
            orders = await take_in(
                session, self.settings, [d for _, d in live], now, known=master.customers
            )
            answers: list[tuple[_Job, str]] = []
            for (job, draft), order in zip(live, orders, strict=True):
                # serialised once, by pydantic-core: the answer and the stored idempotent copy
                body = order_detail(order, draft.history, draft).model_dump_json()
                answers.append((job, body))
                outcomes.append((job, Response(body, 201, media_type="application/json")))
            await _store(session, rows, [(j, b) for j, b in answers if j.key], now)
        self.batches += 1
        self.orders += len(live)
        for job, outcome in outcomes:
            _resolve(job, outcome)


async def _stored_keys(session: AsyncSession, jobs: list[_Job]) -> dict[tuple[str, str], Row]:
    """The stored rows of the jobs' keys, as plain rows (read-only: no ORM objects)."""
    if not jobs:
        return {}
    wanted = {(j.principal, j.key or "") for j in jobs}
    params = {"principals": sorted({p for p, _ in wanted}), "keys": sorted({k for _, k in wanted})}
    rows = await session.execute(_STORED_KEYS, params)
    return {(r.principal, r.key): r for r in rows if (r.principal, r.key) in wanted}


def _answer_from_store(row: Row, job: _Job, now: datetime) -> Outcome | None:
    """The stored answer, a refusal, or None for a stale reservation we may take over."""
    return answer_from_store(row, job.digest, now)


async def _store(
    session: AsyncSession,
    rows: dict[tuple[str, str], Row],
    answers: list[tuple[_Job, str]],
    now: datetime,
) -> None:
    """Keep each keyed answer, completed, in this transaction: new keys in one INSERT (a twin
    committed meanwhile ⇒ IntegrityError ⇒ the batch is retried one by one), stale
    reservations taken over by an UPDATE."""
    fresh: list[dict[str, object]] = []
    for job, body in answers:
        done = {"status_code": 201, "response_body": body, "completed_at": now}
        if (job.principal, job.key) in rows:
            taken = await session.execute(
                update(_KEYS)
                .where(
                    _KEYS.c.principal == job.principal,
                    _KEYS.c.key == job.key,
                    _KEYS.c.completed_at.is_(None),
                )
                .values(**done)
            )
            if taken.rowcount != 1:  # a twin took the stale reservation over first: it wins
                raise _in_progress()  # (the batch is retried one by one)
            continue
        fresh.append(
            {
                "principal": job.principal,
                "key": job.key or "",
                "route": job.route,
                "request_hash": job.digest or "",
                "created_at": now,
                **done,
            }
        )
    if fresh:
        await session.execute(insert(_KEYS), fresh)


def _resolve(job: _Job, outcome: Outcome) -> None:
    if job.future.done():  # the client went away; the order stands all the same
        return
    if isinstance(outcome, BaseException):
        job.future.set_exception(outcome)
    else:
        job.future.set_result(outcome)
