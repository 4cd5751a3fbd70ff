"""Builders and probes shared by the fulfillment service tests (real broker, real database)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlmodel import select

from fulfillment.config import Settings
from fulfillment.main import SPEC, create_app
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.contracts.events.logistics import ShipmentStatusReported
from salesflow.contracts.events.orders import OrderCancelled, OrderConfirmed
from salesflow.db import Database
from salesflow.messaging.tables import InboxRow, OutboxRow
from salesflow.testing import kafka
from salesflow.testing.helpers import bearer, eventually
from salesflow.testing.kafka import publish as publish
from salesflow.testing.kafka import read_topic as read_topic
from salesflow.testing.plugin import migrate

ADMIN = bearer("root", ["admin"])
WMS = bearer("wms", ["logistics_system"])
TECH = bearer("tech", ["service_agent"])
ORDERS = "orders.order.v1"
STATUS = "logistics.status.v1"
FULFILLMENT = "fulfillment.fulfillment.v1"
outbox = kafka.outbox_rows  # the events fulfillment staged, in order
NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=2)  # status events happen in the recent past

ADDRESS = {"name": "Muster GmbH", "street": "Werkstr. 1", "city": "München", "country": "DE"}
COMPANY = {"company_id": "cmp-1", "name": "Muster GmbH", "country": "DE"}
TOTALS = {
    "net": {"amount": "1000.00", "currency": "EUR"},
    "tax": {"amount": "190.00", "currency": "EUR"},
    "gross": {"amount": "1190.00", "currency": "EUR"},
}


async def start_app(settings_for: Any, database_url: str, **overrides: Any):
    await migrate(SPEC.migrations_dir, database_url)
    clock = overrides.pop("clock", None)
    settings = settings_for(Settings, **overrides)
    return settings, create_app(settings, clock=clock)


def goods(line_no: int, sku: str, qty: str, when: date | None = None, unit: str = "C62") -> dict:
    return {
        "line_no": line_no,
        "sku": sku,
        "description": f"{sku} machine",
        "quantity": qty,
        "unit": unit,
        "kind": "goods",
        "requested_delivery_date": when,
    }


def service(line_no: int, sku: str, description: str, qty: str = "8") -> dict:
    return {
        "line_no": line_no,
        "sku": sku,
        "description": description,
        "quantity": qty,
        "unit": "HUR",
        "kind": "service",
    }


def order(
    lines: list[dict],
    *,
    requested: date | None = None,
    owner: str = "alice",
    team: str = "south",
    version: int = 2,
) -> OrderConfirmed:
    n = uuid.uuid4().hex[:8]
    return OrderConfirmed.model_validate(
        {
            "order_id": f"ord-{n}",
            "order_number": f"SO-{n}",
            "version": version,
            "status": "confirmed",
            "channel": "offer",
            "customer": COMPANY,
            "owner": owner,
            "team": team,
            "currency": "EUR",
            "bill_to": ADDRESS,
            "ship_to": ADDRESS,
            "lines": lines,
            "requested_delivery_date": requested,
            "totals": TOTALS,
        }
    )


def confirmed(o: OrderConfirmed) -> Envelope:
    return new_event("order.confirmed.v1", o.order_id, o, source="/salesflow/orders")


def cancelled(o: OrderConfirmed, version: int = 3) -> Envelope:
    data = OrderCancelled.model_validate(
        {
            **o.model_dump(mode="json"),
            "version": version,
            "status": "cancelled",
            "reason": "customer request",
            "cancelled_by": "desk-1",
        }
    )
    return new_event("order.cancelled.v1", o.order_id, data, source="/salesflow/orders")


def status(o: OrderConfirmed, state: str, minute: int, lines: list | None = None, **kw) -> Envelope:
    data = ShipmentStatusReported.model_validate(
        {
            "status_event_id": kw.pop("status_event_id", None) or str(uuid.uuid4()),
            "order_id": o.order_id,
            "order_number": o.order_number,
            "status": state,
            "occurred_at": T0 + timedelta(minutes=minute),
            "lines": lines or [],
            **kw,
        }
    )
    return new_event("shipment.status.v1", o.order_id, data, source="/logistics/test")


def line(line_no: int, sku: str, qty: str, *serials: str) -> dict:
    return {"line_no": line_no, "sku": sku, "quantity": qty, "serial_numbers": list(serials)}


def body(state: str, minute: int, lines: list | None = None, **kw) -> dict:
    """A webhook body."""
    return {
        "status_event_id": kw.pop("status_event_id", None) or str(uuid.uuid4()),
        "status": state,
        "occurred_at": (T0 + timedelta(minutes=minute)).isoformat(),
        "lines": lines or [],
        **kw,
    }


async def processed(db: Database, *events: Envelope, timeout: float = 20) -> None:
    """Wait until fulfillment's consumer has settled these events (handled or dead-lettered)."""
    wanted = {e.id for e in events}

    async def done() -> bool:
        async with db.session() as session:
            rows = await session.exec(
                select(InboxRow.event_id).where(InboxRow.event_id.in_(wanted))
            )
            return set(rows.all()) == wanted

    await eventually(done, timeout=timeout, message="events not processed")


async def plan_of(client: httpx.AsyncClient, order_id: str, timeout: float = 20) -> dict:
    """The plan of an order, once it exists (detail with shipments, tasks, timeline)."""

    async def found() -> dict | None:
        page = (await client.get("/fulfillments", params={"order": order_id}, headers=ADMIN)).json()
        return page["items"][0] if page["items"] else None

    summary = await eventually(found, timeout=timeout, message=f"no plan for {order_id}")
    return await detail(client, summary["id"])


async def detail(client: httpx.AsyncClient, fulfillment_id: str) -> dict:
    resp = await client.get(f"/fulfillments/{fulfillment_id}", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


def payloads(rows: list[OutboxRow]) -> list[dict]:
    import json

    return [json.loads(r.payload) for r in rows]


def qty(value: str) -> Decimal:
    return Decimal(value)
