"""The leads service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from leads.api import router
from leads.config import Settings
from leads.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

SPEC = ServiceSpec(
    name="leads",
    title="Salesflow Leads",
    description="Phases 1–3: company universe, segments, lead generation, scoring, routing, qualification.",
    routers=[router],
    produces=topics_produced_by("leads"),
    consumers=[ConsumerSpec(name="leads", topics=topics_consumed_by("leads"), handlers=HANDLERS)],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
