"""The orders service: ``create_app()`` for uvicorn (``--factory``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from orders.api import routers
from orders.batching import IntakeBatcher
from orders.config import Settings
from orders.handlers import Clock, make_handlers, utcnow
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def make_spec(clock: Clock = utcnow, batcher: IntakeBatcher | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="orders",
        title="Salesflow Orders",
        description="Phases 5–6: order intake from accepted offers and direct channels; "
        "the order feed for production and logistics (`order.confirmed`).",
        routers=routers,
        produces=topics_produced_by("orders"),
        consumers=[
            ConsumerSpec(
                name="orders", topics=topics_consumed_by("orders"), handlers=make_handlers(clock)
            )
        ],
        background=[batcher.run] if batcher else [],
        migrations_dir=MIGRATIONS,
    )


SPEC = make_spec()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """``clock`` (tests) fixes what the service takes as now: order dates, number years."""
    settings = settings or Settings()
    now = clock or utcnow
    batcher = IntakeBatcher(settings, now) if settings.intake_group_commit else None
    spec = SPEC if clock is None and batcher is None else make_spec(now, batcher)
    app = build_app(spec, settings)
    app.state.clock = now
    app.state.intake = batcher
    return app
