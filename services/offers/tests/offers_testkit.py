"""Test kit of the offers service: a harness that plays the opportunities service, seeds the
catalog, creates offers and reads our outbox; tokens of the cast; a topic reader."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlmodel import select

from offers.clock import FixedClock
from offers.config import Settings
from offers.tables import OpportunityRow
from salesflow.contracts.catalog import event_spec
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.contracts.events.common import CompanySnapshot, Contact
from salesflow.messaging.tables import OutboxRow
from salesflow.testing.helpers import bearer, eventually
from salesflow.testing.kafka import read_topic as read_topic

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = bearer("root", ["admin"])
CATALOG = bearer("carla", ["sales_manager"], team="ops")
ALICE = bearer("alice", ["sales_rep"], team="south")  # owns the opportunities below
BEN = bearer("ben", ["sales_rep"], team="south")  # another rep of the same team
MARIA = bearer("maria", ["sales_manager"], team="south")  # alice's manager
NORBERT = bearer("norbert", ["sales_manager"], team="north")  # another team's manager
ANALYST = bearer("ana", ["analyst"])
OPP_TOPIC = "opportunities.opportunity.v1"
OFFER_TOPIC = "offers.offer.v1"

ACME = CompanySnapshot(
    company_id="co-acme",
    name="Acme Maschinenbau GmbH",
    country="DE",
    postal_code="80331",
    city="München",
    size_class="medium",
    vat_id="DE999999999",
)
SHIP_TO = {
    "name": "Acme Werk 2",
    "street": "Werkstraße 5",
    "postal_code": "85748",
    "city": "Garching",
    "country": "DE",
}


class Harness:
    def __init__(
        self,
        app: Any,
        client: httpx.AsyncClient,
        settings: Settings,
        clock: FixedClock,
        broker: str,
    ) -> None:
        self.app = app
        self.client = client
        self.settings = settings
        self.clock = clock
        self.broker = broker
        self._producer: AIOKafkaProducer | None = None

    # --- playing the opportunities service ---------------------------------------------------

    async def publish_opportunity(
        self,
        type_: str = "opportunity.opened.v1",
        *,
        opportunity_id: str | None = None,
        version: int = 1,
        stage: str = "proposal",
        owner: str = "alice",
        team: str | None = "south",
        currency: str = "EUR",
        correlation_id: str | None = None,
        **extra: Any,
    ) -> Envelope:
        opportunity_id = opportunity_id or f"opp-{uuid.uuid4().hex[:8]}"
        data: dict[str, Any] = {
            "opportunity_id": opportunity_id,
            "version": version,
            "stage": stage,
            "account": ACME,
            "contact": Contact(name="Erika Muster", email="erika@acme.example", role="CFO"),
            "owner": owner,
            "team": team,
            "currency": currency,
            "probability": 40,
            "source": "manual",
            **extra,
        }
        event = new_event(
            type_,
            opportunity_id,
            data,
            source="/salesflow/opportunities",
            correlation_id=correlation_id,
        )
        if self._producer is None:
            self._producer = AIOKafkaProducer(bootstrap_servers=self.broker, acks="all")
            await self._producer.start()
        await self._producer.send_and_wait(
            self.settings.topic(OPP_TOPIC),
            event.value(),
            key=event.key.encode(),
            headers=event.headers(),
        )
        return event

    async def opportunity(self, opportunity_id: str) -> OpportunityRow | None:
        async with self.app.state.db.session() as session:
            return await session.get(OpportunityRow, opportunity_id)

    async def wait_for_opportunity(self, opportunity_id: str, version: int = 1) -> OpportunityRow:
        async def arrived() -> OpportunityRow | None:
            row = await self.opportunity(opportunity_id)
            return row if row is not None and row.version >= version else None

        return await eventually(arrived, message=f"opportunity {opportunity_id} v{version}")

    async def open_opportunity(self, **kw: Any) -> tuple[str, Envelope]:
        event = await self.publish_opportunity(**kw)
        await self.wait_for_opportunity(event.subject, kw.get("version", 1))
        return event.subject, event

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    # --- catalog ------------------------------------------------------------------------------

    async def seed_catalog(self) -> dict[str, Any]:
        """A lathe with options and rules, installation hours with slab tiers, a service
        contract, a starter bundle; a EUR list price book and a customer price book for Acme."""
        products = [
            {
                "sku": "LATHE-500",
                "name": "Lathe 500",
                "description": "CNC lathe, 500 mm swing",
                "unit": "C62",
                "kind": "goods",
                "options": [
                    {
                        "code": "voltage",
                        "name": "Voltage",
                        "values": ["230V", "400V", "480V"],
                        "required": True,
                    },
                    {"code": "plug", "name": "Plug", "values": ["EU", "US"]},
                    {
                        "code": "cooling",
                        "name": "Cooling",
                        "values": ["air", "water"],
                        "default": "air",
                    },
                    {"code": "engraving", "name": "Engraving"},
                ],
                "rules": [
                    {
                        "kind": "requires",
                        "when": {"option": "voltage", "value": "480V"},
                        "then": {"option": "plug", "value": "US"},
                    },
                    {
                        "kind": "excludes",
                        "when": {"option": "cooling", "value": "water"},
                        "then": {"option": "voltage", "value": "230V"},
                        "name": "no-water-230V",
                    },
                ],
            },
            {
                "sku": "INSTALL-H",
                "name": "Installation hour",
                "unit": "HUR",
                "kind": "service",
                "requires_skus": [],
            },
            {
                "sku": "MANUAL",
                "name": "Operating manual (print)",
                "unit": "C62",
                "kind": "goods",
                "tax_category": "reduced",
            },
            {
                "sku": "STARTER-KIT",
                "name": "Lathe starter kit",
                "unit": "C62",
                "kind": "goods",
                "components": [
                    {"sku": "MANUAL", "quantity": "1"},
                    {"sku": "INSTALL-H", "quantity": "4"},
                ],
            },
        ]
        for product in products:
            resp = await self.client.post("/products", json=product, headers=CATALOG)
            assert resp.status_code == 201, resp.text
        list_book = {
            "name": "EUR list 2026",
            "currency": "EUR",
            "valid_from": "2026-01-01",
            "entries": [
                {
                    "sku": "LATHE-500",
                    "unit_price": "10000.00",
                    "tiers": [{"min_quantity": "5", "unit_price": "9500.00"}],
                },
                {
                    "sku": "LATHE-500",
                    "option_code": "voltage",
                    "option_value": "480V",
                    "unit_price": "300.00",
                },
                {
                    "sku": "LATHE-500",
                    "option_code": "cooling",
                    "option_value": "water",
                    "unit_price": "250.00",
                },
                {
                    "sku": "INSTALL-H",
                    "unit_price": "120.00",
                    "mode": "slab",
                    "tiers": [
                        {"min_quantity": "10", "unit_price": "100.00"},
                        {"min_quantity": "50", "unit_price": "90.00"},
                    ],
                },
                {"sku": "MANUAL", "unit_price": "49.90"},
                {"sku": "STARTER-KIT", "unit_price": "499.00"},
            ],
        }
        resp = await self.client.post("/price-books", json=list_book, headers=CATALOG)
        assert resp.status_code == 201, resp.text
        book = resp.json()
        acme_book = {
            "name": "Acme frame contract",
            "currency": "EUR",
            "customer_id": ACME.company_id,
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
            "entries": [{"sku": "MANUAL", "unit_price": "39.90"}],
        }
        resp = await self.client.post("/price-books", json=acme_book, headers=CATALOG)
        assert resp.status_code == 201, resp.text
        return {"list_book": book, "acme_book": resp.json()}

    # --- offers -------------------------------------------------------------------------------

    def offer_body(self, opportunity_id: str, **overrides: Any) -> dict[str, Any]:
        body = {
            "opportunity_id": opportunity_id,
            "lines": [
                {
                    "sku": "LATHE-500",
                    "quantity": "2",
                    "options": [
                        {"code": "voltage", "value": "400V"},
                        {"code": "engraving", "value": "ACME-01"},
                    ],
                },
                {"sku": "INSTALL-H", "quantity": "16"},
                {"sku": "MANUAL", "quantity": "2"},
            ],
            "terms": {
                "payment_terms": "30 days net",
                "payment_days": 30,
                "incoterms": "DAP",
                "incoterms_place": "Garching",
            },
            "valid_until": "2026-04-01",
            "notes": "Delivery in 6 weeks after order.",
            "ship_to": SHIP_TO,
        }
        body.update(overrides)
        return body

    async def create_offer(self, opportunity_id: str, headers=ALICE, **overrides: Any) -> dict:
        resp = await self.client.post(
            "/offers", json=self.offer_body(opportunity_id, **overrides), headers=headers
        )
        assert resp.status_code == 201, resp.text
        return resp.json()

    async def outbox(self, offer_id: str | None = None) -> list[dict[str, Any]]:
        """Our staged events in order: [{type, subject, headers, data}], each payload checked
        against its published contract model."""
        async with self.app.state.db.session() as session:
            rows = (await session.exec(select(OutboxRow).order_by(OutboxRow.id))).all()
        events = [
            {"type": r.type, "subject": r.key, "headers": r.headers, "data": json.loads(r.payload)}
            for r in rows
        ]
        for e in events:
            spec = event_spec(e["type"])
            assert spec is not None, e["type"]
            spec.payload.model_validate(e["data"])
        return [e for e in events if offer_id is None or e["subject"] == offer_id]

    async def types(self, offer_id: str) -> list[str]:
        return [e["type"] for e in await self.outbox(offer_id)]


def money(value: str) -> Decimal:
    return Decimal(value)


def day(text: str) -> date:
    return date.fromisoformat(text)
