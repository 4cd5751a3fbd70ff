"""The leads service: ``create_app()`` for uvicorn (``--factory``)."""

from pathlib import Path

from fastapi import FastAPI

from leads.api import ROUTERS
from leads.api.companies import IMPORT_PATH
from leads.background import rescore_periodically
from leads.config import Settings
from leads.handlers import HANDLERS
from salesflow.contracts.catalog import topics_consumed_by, topics_produced_by
from salesflow.service import ConsumerSpec, ServiceSpec, build_app

MAX_IMPORT_BYTES = 8 * 1024**3  # a CSV of ~50 million companies

SPEC = ServiceSpec(
    name="leads",
    title="Salesflow Leads",
    description=(
        "Phases 1–3: company universe, segments, lead generation, scoring, routing, qualification."
    ),
    routers=ROUTERS,
    produces=topics_produced_by("leads"),
    consumers=[ConsumerSpec(name="leads", topics=topics_consumed_by("leads"), handlers=HANDLERS)],
    background=[rescore_periodically],
    body_limits={IMPORT_PATH: MAX_IMPORT_BYTES},
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(SPEC, settings or Settings())
