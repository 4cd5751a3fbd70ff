"""The controlling service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from controlling.api import router
from controlling.config import Settings
from controlling.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="controlling",
    title="Salesflow Controlling",
    description="Funnel, lead controlling, journey trace and handoff observability, from events only.",
    routers=[router],
    produces=topics_produced_by("controlling"),
    consumers=[
        ConsumerSpec(
            name="controlling", topics=topics_consumed_by("controlling"), handlers=HANDLERS
        )
    ],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
