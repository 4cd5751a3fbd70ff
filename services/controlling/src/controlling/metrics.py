"""Handoff figures as Prometheus gauges (labelled by handoff), refreshed in the background and
on every GET /handoffs. A figure that could not be measured is removed, not faked."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import Gauge

from controlling.domain.handoffs import HandoffFigures
from controlling.handoffs import measure_handoffs
from controlling.records import RecordIndexer
from salesflow.leadership import every_replica
from salesflow.service import ServiceContext

log = logging.getLogger(__name__)

_LABELS = ["handoff"]
GAUGES: dict[str, tuple[Gauge, Callable[[HandoffFigures], float | int | None]]] = {
    "published": (
        Gauge("salesflow_handoff_published_events", "Distinct events published", _LABELS),
        lambda f: f.published,
    ),
    "consumed": (
        Gauge(
            "salesflow_handoff_consumed_events",
            "Distinct events below the consumer group's committed offset",
            _LABELS,
        ),
        lambda f: f.consumed,
    ),
    "in_flight": (
        Gauge("salesflow_handoff_in_flight_events", "Published, not yet consumed", _LABELS),
        lambda f: f.in_flight,
    ),
    "latency_p50": (
        Gauge(
            "salesflow_handoff_reaction_latency_p50_seconds",
            "Median from an event's ce_time to the consumer's first event caused by it",
            _LABELS,
        ),
        lambda f: f.latency_p50_s,
    ),
    "latency_p99": (
        Gauge(
            "salesflow_handoff_reaction_latency_p99_seconds",
            "p99 from an event's ce_time to the consumer's first event caused by it",
            _LABELS,
        ),
        lambda f: f.latency_p99_s,
    ),
    "dead_lettered": (
        Gauge("salesflow_handoff_dead_lettered_events", "Distinct events dead-lettered", _LABELS),
        lambda f: f.dead_lettered,
    ),
    "lag": (
        Gauge(
            "salesflow_handoff_consumer_lag_records",
            "Records between the consumer group's committed offset and the partition ends",
            _LABELS,
        ),
        lambda f: f.lag,
    ),
}


def publish(figures: list[HandoffFigures]) -> None:
    for gauge, value_of in GAUGES.values():
        for f in figures:
            value = value_of(f)
            if value is None:
                with contextlib.suppress(KeyError):
                    gauge.remove(f.handoff.name)
            else:
                gauge.labels(f.handoff.name).set(value)


def indexer_of(ctx: ServiceContext) -> RecordIndexer | None:
    return next((c for c in ctx.consumers if isinstance(c, RecordIndexer)), None)


@every_replica  # the gauges of this process
async def refresh_handoff_metrics(ctx: ServiceContext) -> None:
    """Background job: keep the gauges fresh for scrapers that never call /handoffs."""
    interval = getattr(ctx.settings, "handoff_metrics_interval_s", 15.0)
    while True:
        await asyncio.sleep(interval)
        try:
            report = await measure_handoffs(
                ctx.db, ctx.settings, indexer=indexer_of(ctx), now=datetime.now(UTC)
            )
            publish(report.figures)
        except Exception as exc:
            log.warning("handoff metrics not refreshed: %r", exc)
