"""The aftersales service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from aftersales.api import router
from aftersales.config import Settings
from aftersales.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="aftersales",
    title="Salesflow After-sales",
    description="Phase 8: accounts, installed base, tickets, renewals and follow-up business.",
    routers=[router],
    produces=topics_produced_by("aftersales"),
    consumers=[
        ConsumerSpec(name="aftersales", topics=topics_consumed_by("aftersales"), handlers=HANDLERS)
    ],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
