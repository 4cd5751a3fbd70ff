"""Helpers for the aftersales service tests: upstream events, a settable clock, the outbox,
and reading a topic of the real broker."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from aftersales.accounts import record_delivery, record_order
from aftersales.config import Settings
from aftersales.main import SPEC, create_app
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.db import Database
from salesflow.messaging.outbox import headers_of
from salesflow.testing import kafka
from salesflow.testing.helpers import running
from salesflow.testing.kafka import read_topic as read_topic
from salesflow.testing.plugin import migrate


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


COMPANY = {
    "company_id": "co-1",
    "name": "Muster Maschinenbau GmbH",
    "country": "DE",
    "city": "München",
    "nace": "28.41",
    "nace_section": "C",
}
SHIP_TO = {"street": "Hauptstr. 1", "city": "München", "country": "DE"}


def fulfillment_completed(
    *,
    order_id: str = "ord-1",
    fulfillment_id: str = "ful-1",
    company: dict | None = None,
    owner: str | None = "alice",
    team: str | None = "south",
    delivered_on: date = date(2026, 3, 2),
    items: list[dict] | None = None,
    cause: Envelope | None = None,
) -> Envelope:
    items = items or [
        {
            "line_no": 1,
            "sku": "LATHE-500",
            "description": "Lathe 500",
            "kind": "goods",
            "quantity": "2",
            "unit": "C62",
            "serial_numbers": ["SN-1", "SN-2"],
            "delivered_on": delivered_on.isoformat(),
        },
        {
            "line_no": 2,
            "sku": "SVC-CARE-12",
            "kind": "service",
            "quantity": "1",
            "unit": "C62",
            "delivered_on": delivered_on.isoformat(),
        },
    ]
    data = {
        "fulfillment_id": fulfillment_id,
        "version": 7,
        "status": "completed",
        "order_id": order_id,
        "order_number": f"SO-{order_id}",
        "customer": company or COMPANY,
        "owner": owner,
        "team": team,
        "ship_to": SHIP_TO,
        "items": items,
        "completed_at": datetime.combine(delivered_on, datetime.min.time(), UTC).isoformat(),
    }
    return new_event(
        "fulfillment.completed.v1",
        fulfillment_id,
        data,
        source="/salesflow/fulfillment",
        cause=cause,
    )


def order_event(
    type_: str,
    *,
    order_id: str = "ord-1",
    version: int = 1,
    status: str = "received",
    company: dict | None = None,
    net: str = "30000.00",
    correlation_id: str | None = None,
) -> Envelope:
    money = {"amount": net, "currency": "EUR"}
    zero = {"amount": "0.00", "currency": "EUR"}
    data: dict[str, Any] = {
        "order_id": order_id,
        "order_number": f"SO-{order_id}",
        "version": version,
        "status": status,
        "channel": "offer",
        "customer": company or COMPANY,
        "currency": "EUR",
        "owner": "alice",
        "totals": {"net": money, "tax": zero, "gross": money},
    }
    if type_ == "order.received.v1":
        data["lines"] = [
            {
                "line_no": 1,
                "sku": "LATHE-500",
                "name": "Lathe 500",
                "quantity": "2",
                "unit": "C62",
                "kind": "goods",
                "unit_price": {"amount": "14400.00", "currency": "EUR"},
                "net": {"amount": "28800.00", "currency": "EUR"},
                "tax_rate": "19",
                "tax": zero,
            },
            {
                "line_no": 2,
                "sku": "SVC-CARE-12",
                "name": "Care contract",
                "quantity": "1",
                "unit": "C62",
                "kind": "service",
                "unit_price": {"amount": "1200.00", "currency": "EUR"},
                "net": {"amount": "1200.00", "currency": "EUR"},
                "tax_rate": "19",
                "tax": zero,
            },
        ]
        data["terms"] = {}
    elif type_ == "order.confirmed.v1":
        line = {"line_no": 1, "sku": "LATHE-500", "description": "Lathe", "quantity": "2"}
        data.update(
            bill_to=SHIP_TO, ship_to=SHIP_TO, lines=[{**line, "unit": "C62", "kind": "goods"}]
        )
    elif type_ == "order.completed.v1":
        data["fulfillment_id"] = "ful-x"
    elif type_ == "order.cancelled.v1":
        data.update(reason="changed mind", cancelled_by="alice")
    return new_event(
        type_, order_id, data, source="/salesflow/orders", correlation_id=correlation_id
    )


def settings(settings_for: Callable[..., Any], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "warranty_months": {"LATHE-*": 36},
        "contract_months": {"SVC-CARE-*": 12},
    }
    values.update(overrides)
    return settings_for(Settings, **values)


@contextlib.asynccontextmanager
async def service(
    cfg: Settings, clock: Clock | None = None
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    await migrate(SPEC.migrations_dir, cfg.database_url)
    app = create_app(cfg, clock=clock)
    async with running(app) as client:
        yield app, client


async def seed(db: Database, cfg: Settings, *events: Envelope, now: datetime) -> None:
    """Feed upstream events straight to the handlers' units of work (no broker needed)."""
    for event in events:
        async with db.session() as session, session.begin():
            if event.type == "fulfillment.completed.v1":
                await record_delivery(session, cfg, event, now)
            else:
                await record_order(session, cfg, event, now)


async def publish(cfg: Settings, topic: str, *events: Envelope) -> None:
    await kafka.publish(cfg.kafka_bootstrap_servers, cfg.topic(topic), *events)


async def outbox(db: Database, type_: str) -> list[Envelope]:
    return [
        Envelope.from_record(headers_of(r), r.payload.encode())
        for r in await kafka.outbox_rows(db, type_)
    ]


def problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    return json.loads(resp.text)
