"""The offers service: ``create_app()`` for uvicorn (``--factory``)."""

import dataclasses
from pathlib import Path

from fastapi import FastAPI

from offers.api import ROUTERS
from offers.clock import Clock
from offers.config import Settings
from offers.expiry import expiry_task
from offers.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="offers",
    title="Salesflow Offers",
    description="Phases 4–5: CPQ catalog and pricing, offers, approvals, negotiation and acceptance.",
    routers=ROUTERS,
    produces=topics_produced_by("offers"),
    consumers=[ConsumerSpec(name="offers", topics=topics_consumed_by("offers"), handlers=HANDLERS)],
    background=[expiry_task()],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """``clock`` lets tests move time for validity and expiry."""
    settings = settings or Settings()
    clock = clock or Clock(settings.business_timezone)
    spec = dataclasses.replace(SPEC, background=[expiry_task(clock)])
    app = build_app(spec, settings)
    app.state.clock = clock
    return app
