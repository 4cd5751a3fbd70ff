"""The fulfillment service: ``create_app()`` for uvicorn (``--factory``)."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from fulfillment.api import routers
from fulfillment.config import Settings
from fulfillment.handlers import HANDLERS
from fulfillment.topic_status import CONSUMER, pending_sweeper
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="fulfillment",
    title="Salesflow Fulfillment",
    description="Phase 7: delivery and implementation with production and logistics.",
    routers=routers,
    produces=topics_produced_by("fulfillment"),
    consumers=[
        ConsumerSpec(name=CONSUMER, topics=topics_consumed_by("fulfillment"), handlers=HANDLERS)
    ],
    background=[pending_sweeper],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """``clock`` (aware UTC) decides what is overdue; tests inject one."""
    app = build_app(SPEC, settings or Settings())
    app.state.clock = clock
    return app
