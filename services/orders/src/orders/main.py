"""The orders service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from orders.api import router
from orders.config import Settings
from orders.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="orders",
    title="Salesflow Orders",
    description="Phases 5–6: order intake from accepted offers and direct channels; the order feed.",
    routers=[router],
    produces=topics_produced_by("orders"),
    consumers=[ConsumerSpec(name="orders", topics=topics_consumed_by("orders"), handlers=HANDLERS)],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
