"""The fulfillment service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from fulfillment.api import router
from fulfillment.config import Settings
from fulfillment.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="fulfillment",
    title="Salesflow Fulfillment",
    description="Phase 7: delivery and implementation with production and logistics.",
    routers=[router],
    produces=topics_produced_by("fulfillment"),
    consumers=[
        ConsumerSpec(
            name="fulfillment", topics=topics_consumed_by("fulfillment"), handlers=HANDLERS
        )
    ],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
