"""Helpers of the orders service tests: example payloads, publishing upstream events, reading
what the service emitted."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from orders.config import Settings
from orders.main import SPEC, create_app
from salesflow.contracts.envelope import Envelope, new_event
from salesflow.contracts.events import common as c
from salesflow.contracts.events import fulfillment as fu
from salesflow.contracts.events.offers import OfferAccepted, OfferStatus
from salesflow.contracts.types import Money
from salesflow.testing import kafka
from salesflow.testing.helpers import bearer, running
from salesflow.testing.kafka import read_topic as read_topic
from salesflow.testing.plugin import migrate

DESK = bearer("desk", ["order_desk"])
SHOP = bearer("webshop", ["integration"])
ANALYST = bearer("ann", ["analyst"])
outbox = kafka.outbox_rows  # the events orders staged, in order


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


ADDRESS = c.Address(
    name="Muster Maschinenbau GmbH",
    street="Hauptstr. 1",
    postal_code="80331",
    city="München",
    country="DE",
)


def company(company_id: str = "co-1") -> c.CompanySnapshot:
    return c.CompanySnapshot(company_id=company_id, name=f"Company {company_id}", country="DE")


def offer_accepted(
    offer_id: str = "off-1",
    offer_version: int = 2,
    *,
    customer_id: str = "co-1",
    quantity: str = "2",
    unit_price: str = "1000.00",
    ship_to: c.Address | None = ADDRESS,
    delivery: date | None = None,
) -> OfferAccepted:
    net = Decimal(quantity) * Decimal(unit_price)
    tax = (net * Decimal("0.19")).quantize(Decimal("0.01"))
    line = c.PricedLine(
        line_no=1,
        sku="LATHE-500",
        name="Lathe 500",
        quantity=Decimal(quantity),
        unit="C62",
        kind=c.LineKind.GOODS,
        unit_price=eur(unit_price),
        net=eur(str(net)),
        tax_rate=Decimal("19"),
        tax=eur(str(tax)),
    )
    service = c.PricedLine(
        line_no=2,
        sku="INSTALL",
        name="Installation",
        quantity=Decimal("4"),
        unit="HUR",
        kind=c.LineKind.SERVICE,
        unit_price=eur("100.00"),
        net=eur("400.00"),
        tax_rate=Decimal("19"),
        tax=eur("76.00"),
    )
    total_net = net + Decimal("400.00")
    total_tax = tax + Decimal("76.00")
    return OfferAccepted(
        offer_id=offer_id,
        offer_version=offer_version,
        version=7,
        status=OfferStatus.ACCEPTED,
        opportunity_id="opp-1",
        owner="rita",
        team="north",
        currency="EUR",
        totals=c.Totals(
            net=eur(str(total_net)),
            tax=eur(str(total_tax)),
            gross=eur(str(total_net + total_tax)),
            tax_by_rate=[
                c.TaxAmount(rate=Decimal("19"), net=eur(str(total_net)), tax=eur(str(total_tax)))
            ],
        ),
        valid_until=date(2099, 12, 31),
        customer=company(customer_id),
        contact=c.Contact(name="Erika Muster"),
        lines=[line, service],
        terms=c.Terms(
            payment_terms="30 days net",
            incoterms=c.Incoterm.DAP,
            incoterms_place="München",
            requested_delivery_date=delivery,
        ),
        bill_to=ADDRESS,
        ship_to=ship_to if ship_to is not None else ADDRESS,
        customer_po_number="PO-77",
        accepted_by="Erika Muster",
        accepted_on=date(2026, 3, 2),
        recorded_by="rita",
    )


async def publish(broker: str, settings: Settings, topic: str, *events: Envelope) -> None:
    await kafka.publish(broker, settings.topic(topic), *events)


def accepted_event(payload: OfferAccepted, correlation_id: str | None = None) -> Envelope:
    return new_event(
        "offer.accepted.v1",
        payload.offer_id,
        payload,
        source="/salesflow/offers",
        correlation_id=correlation_id,
    )


def fulfilment_event(type_: str, order: dict[str, Any], version: int, **extra: Any) -> Envelope:
    """A fulfilment event of the fulfilment ``ful-<order number>`` for ``order`` (API form)."""
    fid = f"ful-{order['order_number']}"
    base: dict[str, Any] = {
        "fulfillment_id": fid,
        "version": version,
        "order_id": order["id"],
        "order_number": order["order_number"],
    }
    now = datetime.now(UTC)
    lines = [c.DeliveredLine(line_no=1, sku="LATHE-500", quantity=Decimal("2"))]
    if type_ == "fulfillment.planned.v1":
        data = fu.FulfillmentPlanned(
            **base, status=fu.FulfillmentStatus.PLANNED, customer=company(), ship_to=ADDRESS
        )
    elif type_ == "shipment.dispatched.v1":
        data = fu.ShipmentDispatched(
            **base,
            status=fu.FulfillmentStatus.IN_PROGRESS,
            shipment_id="sh-1",
            lines=lines,
            dispatched_at=now,
        )
    elif type_ == "shipment.delivered.v1":
        delivery = extra.get("order_delivery", "delivered")
        data = fu.ShipmentDelivered(
            **base,
            status=fu.FulfillmentStatus(delivery),
            shipment_id="sh-1",
            lines=lines,
            delivered_at=now,
            order_delivery=delivery,
        )
    elif type_ == "task.completed.v1":
        data = fu.TaskCompleted(
            **base,
            status=fu.FulfillmentStatus.IN_PROGRESS,
            task_id=extra.get("task_id", "task-1"),
            line_no=2,
            sku="INSTALL",
            kind="installation",
            completed_at=now,
            completed_by="tech",
        )
    else:
        data = fu.FulfillmentCompleted(
            **base,
            status=fu.FulfillmentStatus.COMPLETED,
            customer=company(),
            ship_to=ADDRESS,
            items=[
                fu.DeliveredItem(
                    line_no=1,
                    sku="LATHE-500",
                    kind=c.LineKind.GOODS,
                    quantity=Decimal("2"),
                    unit="C62",
                    delivered_on=now.date(),
                )
            ],
            completed_at=now,
        )
    return new_event(type_, fid, data, source="/salesflow/fulfillment")


def customer_body(name: str = "Acme AG", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company": {"name": name, "country": "DE", "city": "Berlin"},
        "owner": "rita",
        "team": "north",
        "bill_to": {
            "street": "Unter den Linden 1",
            "postal_code": "10117",
            "city": "Berlin",
            "country": "DE",
        },
        "ship_to": {
            "street": "Lagerweg 5",
            "postal_code": "12345",
            "city": "Berlin",
            "country": "DE",
        },
    }
    body.update(extra)
    return body


def price_body(price: str = "50.00", **extra: Any) -> dict[str, Any]:
    body = {
        "currency": "EUR",
        "name": "Widget",
        "unit": "C62",
        "kind": "goods",
        "unit_price": price,
        "tax_rate": "19",
    }
    body.update(extra)
    return body


async def seed_master_data(client: Any, customer_id: str = "cust-1", **customer: Any) -> None:
    """A customer and two priced SKUs for direct intake."""
    resp = await client.put(
        f"/customers/{customer_id}", json=customer_body(**customer), headers=DESK
    )
    assert resp.status_code == 201, resp.text
    for sku, body in (
        ("WIDGET", price_body()),
        ("SETUP", price_body("120.00", name="Setup", unit="HUR", kind="service")),
    ):
        resp = await client.put(f"/price-list/{sku}", json=body, headers=DESK)
        assert resp.status_code == 201, resp.text


@contextlib.asynccontextmanager
async def seeded_client(settings: Settings, database_url: str) -> AsyncIterator[Any]:
    """A client of the running orders app (``client.app``), with ``seed_master_data`` done."""
    await migrate(SPEC.migrations_dir, database_url)
    app = create_app(settings)
    async with running(app) as client:
        client.app = app  # type: ignore[attr-defined]
        await seed_master_data(client)
        yield client


def order_body(*lines: dict, quantity: str = "1", **extra: Any) -> dict:
    """A direct order of ``cust-1``: ``lines``, or ``quantity`` WIDGETs."""
    return {
        "customer_id": "cust-1",
        "lines": list(lines) or [{"sku": "WIDGET", "quantity": quantity}],
        **extra,
    }
