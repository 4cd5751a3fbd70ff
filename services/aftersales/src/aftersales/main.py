"""The aftersales service: ``create_app()`` for uvicorn (``--factory``)."""

from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI

from aftersales.api import routers
from aftersales.background import background_tasks
from aftersales.clock import Clock, system_clock
from aftersales.config import Settings
from aftersales.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="aftersales",
    title="Salesflow After-sales",
    description="Phase 8: accounts, installed base, tickets with SLAs, renewals and follow-up "
    "business.",
    routers=routers,
    produces=topics_produced_by("aftersales"),
    consumers=[
        ConsumerSpec(name="aftersales", topics=topics_consumed_by("aftersales"), handlers=HANDLERS)
    ],
    background=background_tasks(system_clock),
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """``clock`` replaces the system clock for the API and the background scans (tests)."""
    clock = clock or system_clock
    spec = SPEC if clock is system_clock else replace(SPEC, background=background_tasks(clock))
    app = build_app(spec, settings or Settings())
    app.state.clock = clock
    return app
