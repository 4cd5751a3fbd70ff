"""The opportunities service: ``create_app()`` for uvicorn (``--factory``)."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from opportunities.api import router
from opportunities.config import Settings
from opportunities.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="opportunities",
    title="Salesflow Opportunities",
    description="Pipeline from qualified lead (or existing customer) to won or lost.",
    routers=[router],
    produces=topics_produced_by("opportunities"),
    consumers=[
        ConsumerSpec(
            name="opportunities", topics=topics_consumed_by("opportunities"), handlers=HANDLERS
        )
    ],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """``clock`` lets tests move time for time-based rules (stale deals) instead of sleeping."""
    app = build_app(SPEC, settings or Settings())
    app.state.clock = clock or _utcnow
    return app
