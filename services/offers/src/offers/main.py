"""The offers service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from offers.api import router
from offers.config import Settings
from offers.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="offers",
    title="Salesflow Offers",
    description="Phases 4–5: CPQ catalog and pricing, offers, approvals, negotiation and acceptance.",
    routers=[router],
    produces=topics_produced_by("offers"),
    consumers=[ConsumerSpec(name="offers", topics=topics_consumed_by("offers"), handlers=HANDLERS)],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
