"""The controlling service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from controlling.api import ROUTERS
from controlling.clock import utcnow
from controlling.config import Settings
from controlling.handlers import HANDLERS
from controlling.metrics import refresh_handoff_metrics
from controlling.records import run_record_index
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="controlling",
    title="Salesflow Controlling",
    description="Funnel, lead controlling, journey trace and handoff observability, from events only.",
    routers=ROUTERS,
    produces=topics_produced_by("controlling"),
    consumers=[
        ConsumerSpec(
            name="controlling", topics=topics_consumed_by("controlling"), handlers=HANDLERS
        )
    ],
    # The record index (every record of every topic and DLQ, with offsets) runs beside the
    # platform consumer: see controlling.records for why DLQs are not read by the latter.
    background=[run_record_index, refresh_handoff_metrics],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    app = build_app(SPEC, settings or Settings())
    app.state.clock = utcnow
    return app
