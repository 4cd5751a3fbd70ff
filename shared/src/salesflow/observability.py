"""Prometheus metrics (one set per process, labelled by service) and JSON logs."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_LATENCY = Histogram(
    "salesflow_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge("salesflow_outbox_backlog", "Unpublished outbox rows", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "salesflow_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_PUBLISHED = Counter(
    "salesflow_outbox_published_total", "Outbox rows published to Kafka", ["service"]
)
OUTBOX_PUBLISH_DELAY = Histogram(
    "salesflow_outbox_publish_delay_seconds",
    "From outbox commit to broker acknowledgement",
    ["service"],
    buckets=_LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "salesflow_consumer_lag", "Records behind the partition end", ["consumer", "topic", "partition"]
)
HANDLER_LATENCY = Histogram(
    "salesflow_handler_duration_seconds",
    "Event handler latency",
    ["consumer", "event_type"],
    buckets=_LATENCY_BUCKETS,
)
EVENTS_CONSUMED = Counter(
    "salesflow_events_consumed_total",
    "Events consumed, by outcome (handled, duplicate, unhandled, dead_lettered)",
    ["consumer", "event_type", "outcome"],
)
DLQ_EVENTS = Counter(
    "salesflow_dlq_events_total", "Events sent to the dead-letter topic", ["consumer"]
)
HANDOFF_LATENCY = Histogram(
    "salesflow_handoff_latency_seconds",
    "From the event's ce_time to the consumer's commit",
    ["consumer", "event_type"],
    buckets=_LATENCY_BUCKETS,
)


@lru_cache(maxsize=4096)
def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, remembered: hot paths (per event) skip the label lookup."""
    return metric.labels(*labels)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = correlation_id_var.get()
        if cid:
            entry["correlation_id"] = cid
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
