"""Build a service's FastAPI app from its spec: HTTP conventions, relay, consumers, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from salesflow.api import errors
from salesflow.api.media import require_json_content_type
from salesflow.api.middleware import BodyGuard, ProblemCORSMiddleware, RequestContext
from salesflow.contracts.catalog import all_topics, dlq_topic
from salesflow.db import Database
from salesflow.leadership import JobLeadership, runs_in_every_replica
from salesflow.messaging.consumer import Consumer
from salesflow.messaging.handlers import Handler
from salesflow.messaging.kafka import ensure_topics
from salesflow.messaging.relay import Relay
from salesflow.observability import configure_logging
from salesflow.settings import ServiceSettings

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 6


@dataclass
class ConsumerSpec:
    name: str  # inbox consumer name; group id is salesflow.<name>
    topics: list[str]
    handlers: dict[str, Handler]


@dataclass
class ServiceContext:
    """What background tasks and handlers of a running service share."""

    settings: ServiceSettings
    db: Database
    relay: Relay | None = None
    consumers: list[Consumer] = field(default_factory=list)
    messaging_ready: bool = False
    jobs: JobLeadership | None = None  # leader-only background jobs (None: the spec has none)


# Background jobs run only in the replica that leads (PostgreSQL advisory lock
# ``salesflow-jobs:<service>``; SQLite: always); ``salesflow.leadership.every_replica`` marks
# the ones every replica must run.
Background = Callable[[ServiceContext], Awaitable[None]]


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    routers: list[APIRouter]
    produces: list[str]
    consumers: list[ConsumerSpec] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)
    body_limits: dict[str, int] = field(default_factory=dict)
    migrations_dir: Path | None = None
    version: str = "0.1.0"

    def topics(self, settings: ServiceSettings) -> dict[str, int]:
        catalog = all_topics()
        names = set(self.produces) | {t for c in self.consumers for t in c.topics}
        names.add(dlq_topic(self.name))
        return {
            settings.topic(n): (catalog[n].partitions if n in catalog else DEFAULT_PARTITIONS)
            for n in sorted(names)
        }


async def _start_messaging(spec: ServiceSpec, ctx: ServiceContext) -> None:
    """Create topics (retrying until the broker answers), then start relay and consumers."""
    settings = ctx.settings
    topics = spec.topics(settings)

    async def create_topics() -> None:
        await ensure_topics(settings, topics)

    backoff = 0.2
    while True:
        try:
            await create_topics()
            break
        except Exception as exc:
            log.warning("broker not reachable yet (%r); retrying in %.1fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def on_reconnect() -> Callable[[], Awaitable[None]]:
        """A relay's or consumer's connect hook: the topics were just created, so from its
        second connect on (the broker may have lost its log meanwhile)."""
        connects = 0

        async def on_connect() -> None:
            nonlocal connects
            connects += 1
            if connects > 1:
                await create_topics()

        return on_connect

    if settings.relay_enabled:
        ctx.relay = Relay(ctx.db, settings, on_connect=on_reconnect())
        ctx.relay.start()
    if settings.consumers_enabled:
        for cspec in spec.consumers:
            consumer = Consumer(
                name=cspec.name,
                db=ctx.db,
                settings=settings,
                topics=cspec.topics,
                handlers=cspec.handlers,
                on_connect=on_reconnect(),
            )
            ctx.consumers.append(consumer)
            consumer.start()
    ctx.messaging_ready = True


def freeze_startup_heap() -> None:
    """Move what start-up built (modules, models, metadata: nearly all of the heap) out of the
    garbage collector's sight, so that its full passes under load walk only what requests and
    events allocate. Once per process: objects frozen are never collected."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def build_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    configure_logging(spec.name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        freeze_startup_heap()
        ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
        app.state.ctx = ctx
        app.state.db = ctx.db
        tasks = [asyncio.create_task(_start_messaging(spec, ctx), name="messaging-start")]
        tasks += [
            asyncio.create_task(job(ctx), name=_job_name(job))
            for job in spec.background
            if runs_in_every_replica(job)
        ]
        leader_only = [j for j in spec.background if not runs_in_every_replica(j)]
        if leader_only:
            ctx.jobs = JobLeadership(
                ctx.db,
                spec.name,
                [(_job_name(j), functools.partial(j, ctx)) for j in leader_only],
            )
            ctx.jobs.start()
        try:
            yield
        finally:
            for consumer in ctx.consumers:
                await consumer.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if ctx.jobs:
                await ctx.jobs.stop()
            if ctx.relay:
                await ctx.relay.stop()
            await ctx.db.dispose()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        responses=_error_responses(),
        # no 307 to the other spelling: its absolute URL would bypass a gateway's path prefix
        redirect_slashes=False,
        # every route that takes a JSON body refuses one declared otherwise (415)
        dependencies=[Depends(require_json_content_type)],
    )
    app.state.settings = settings
    app.state.spec = spec
    errors.install(app)
    app.include_router(_ops_router(spec))
    for router in spec.routers:
        app.include_router(router)
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "If-Match",
            "X-Correlation-Id",
        ],
        expose_headers=["ETag", "X-Correlation-Id", "Location"],
    )
    app.add_middleware(BodyGuard, limit=settings.max_body_bytes, overrides=spec.body_limits)
    app.add_middleware(RequestContext, service=spec.name)
    return app


def _relay_role(relay: Relay | None) -> str:
    if relay is None:
        return "none"
    if relay.standby:
        return "standby"
    return "publisher" if relay.connected else "connecting"


def _job_name(job: Background) -> str:
    return getattr(job, "__name__", None) or type(job).__name__


def _error_responses() -> dict[int | str, dict[str, Any]]:
    problem = {
        "content": {
            errors.PROBLEM_JSON: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                    },
                    "required": ["type", "title", "status"],
                }
            }
        }
    }
    described = {
        400: "Malformed request",
        401: "Missing or invalid token",
        403: "Token lacks the role",
        404: "Not found (also for objects the caller may not see)",
        409: "Invalid state transition or conflict",
        412: "Stale If-Match",
        413: "Body too large",
        415: "Unsupported media type",
        422: "Invalid input",
        428: "If-Match required",
    }
    return {code: {"description": text, **problem} for code, text in described.items()}


def _ops_router(spec: ServiceSpec) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.name}

    @router.get("/readyz", summary="Readiness: database and broker")
    async def readyz(request: Request) -> JSONResponse:
        ctx: ServiceContext = request.app.state.ctx
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ctx.db.ping(), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"failed: {type(exc).__name__}"
        # a standby replica (another holds the publisher lock) serves requests and consumes: ready
        relay_ok = ctx.relay is None or ctx.relay.connected or ctx.relay.standby
        consumers_ok = all(c.connected for c in ctx.consumers)
        checks["broker"] = "ok" if ctx.messaging_ready and relay_ok and consumers_ok else "waiting"
        ready = all(v == "ok" for v in checks.values())
        # what this replica does among its twins (informative: a standby is ready too)
        roles = {
            "relay": _relay_role(ctx.relay),
            "jobs": ctx.jobs.role if ctx.jobs else "none",
        }
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks, "roles": roles},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
