"""Synthetic Salesflow events for the controlling tests: valid payloads of every service with
chosen times, correlation and causation, and publishing through the real broker."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from salesflow.contracts.catalog import all_topics, event_spec
from salesflow.contracts.envelope import Envelope, new_event

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def at(hours: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, seconds=seconds)


def company(cid: str, country: str = "DE", nace: str = "C", size: str = "small") -> dict:
    return {
        "company_id": cid,
        "name": f"Company {cid}",
        "country": country,
        "nace_section": nace,
        "size_class": size,
    }


def money(amount: str, currency: str = "EUR") -> dict:
    return {"amount": amount, "currency": currency}


ADDRESS = {"street": "Hauptstr. 1", "city": "München", "country": "DE"}
CONTACT = {"name": "Erika Muster"}
NEEDS = {"need": "a lathe"}


def totals(net: str, currency: str = "EUR") -> dict:
    return {"net": money(net, currency), "tax": money("0", currency), "gross": money(net, currency)}


def priced_line(net: str, currency: str = "EUR") -> dict:
    return {
        "line_no": 1,
        "sku": "LATHE",
        "name": "Lathe",
        "quantity": "1",
        "unit": "C62",
        "kind": "goods",
        "unit_price": money(net, currency),
        "net": money(net, currency),
        "tax_rate": "0",
        "tax": money("0", currency),
    }


def universe_cells(cells: list[tuple]) -> list[dict]:
    keys = ("nace_section", "size_class", "country", "source", "count")
    return [dict(zip(keys, cell, strict=True)) for cell in cells]


class History:
    """Builds envelopes; ``events`` keeps them in the order they happened."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def emit(
        self,
        type_: str,
        data: dict[str, Any],
        when: datetime,
        *,
        cause: Envelope | None = None,
        journey: str | None = None,
    ) -> Envelope:
        spec = event_spec(type_)
        assert spec is not None, type_
        topic = all_topics()[spec.topic]
        key_field = {
            "leads.lead.v1": "lead_id",
            "leads.import.v1": "import_id",
            "leads.segment.v1": "segment_id",
            "opportunities.opportunity.v1": "opportunity_id",
            "offers.offer.v1": "offer_id",
            "orders.order.v1": "order_id",
            "logistics.status.v1": "order_id",
            "fulfillment.fulfillment.v1": "fulfillment_id",
            "aftersales.account.v1": "account_id",
        }[spec.topic]
        event = new_event(
            type_,
            data[key_field],
            data,
            source=f"/salesflow/{topic.producer}",
            cause=cause,
            correlation_id=journey if cause is None else None,
        )
        event = dataclasses.replace(event, time=when)
        self.events.append(event)
        return event

    # ---------------------------------------------------------------- one builder per service

    def imported(
        self, import_id: str, chunk: int, cells: list[tuple], when: datetime, *, journey: str
    ) -> Envelope:
        """One committed import chunk; cells as (nace, size, country, source, count)."""
        data = {"import_id": import_id, "chunk": chunk, "suspects": universe_cells(cells)}
        return self.emit("companies.imported.v1", data, when, journey=journey)

    def materialized(
        self,
        segment_id: str,
        run_id: str,
        chunk: int,
        cells: list[tuple],
        when: datetime,
        *,
        journey: str,
    ) -> Envelope:
        """One committed chunk of a segment's materialization run."""
        data = {
            "segment_id": segment_id,
            "segment_name": f"Segment {segment_id}",
            "run_id": run_id,
            "chunk": chunk,
            "prospects": universe_cells(cells),
        }
        return self.emit("prospects.materialized.v1", data, when, journey=journey)

    def lead(self, type_: str, lead: dict, version: int, when: datetime, **extra) -> Envelope:
        data = {
            "lead_id": lead["id"],
            "version": version,
            "status": extra.pop("status", "unqualified"),
            "company": lead["company"],
            "owner": extra.pop("owner", None),
            "team": extra.pop("team", None),
            "source_channel": lead["channel"],
            "score": "10",
        }
        data.update(
            {
                "lead.mql.v1": {"threshold": "50", "scoring_model_version": 1},
                "lead.assigned.v1": {"assigned_by": "routing"},
                "lead.sql.v1": {"contact": CONTACT, "needs": NEEDS, "qualified_by": "x"},
                "lead.disqualified.v1": {"reason": "no budget"},
                "lead.converted.v1": {"contact": CONTACT, "needs": NEEDS, "converted_by": "x"},
            }.get(type_, {})
        )
        data.update(extra)
        return self.emit(type_, data, when, journey=lead["journey"])

    def opportunity(
        self,
        type_: str,
        opp: dict,
        version: int,
        when: datetime,
        *,
        stage: str,
        probability: int,
        cause: Envelope | None = None,
        **extra,
    ) -> Envelope:
        data = {
            "opportunity_id": opp["id"],
            "version": version,
            "stage": stage,
            "account": opp["company"],
            "owner": opp["owner"],
            "team": opp.get("team"),
            "currency": opp["currency"],
            "amount": money(opp["amount"], opp["currency"]),
            "probability": probability,
            "source": opp["source"],
            "lead_id": opp.get("lead_id"),
            "followup_id": opp.get("followup_id"),
            "source_channel": opp.get("channel"),
        }
        data.update(
            {
                "opportunity.stage_changed.v1": {"previous_stage": "qualification", "trigger": "x"},
                "opportunity.lost.v1": {"previous_stage": "proposal", "lost_reason": "price"},
            }.get(type_, {})
        )
        data.update(extra)
        return self.emit(type_, data, when, cause=cause, journey=opp.get("journey"))

    def offer(
        self,
        type_: str,
        offer: dict,
        version: int,
        when: datetime,
        *,
        status: str,
        cause: Envelope | None = None,
        journey: str | None = None,
    ) -> Envelope:
        net = offer["net"]
        data: dict[str, Any] = {
            "offer_id": offer["id"],
            "offer_version": 1,
            "version": version,
            "status": status,
            "opportunity_id": offer["opportunity_id"],
            "owner": offer["owner"],
            "currency": "EUR",
            "totals": totals(net),
            "valid_until": "2026-12-31",
        }
        content = {"customer": offer["company"], "lines": [priced_line(net)], "terms": {}}
        data.update(
            {
                "offer.created.v1": {**content, "created_by": offer["owner"]},
                "offer.sent.v1": {"sent_by": offer["owner"]},
                "offer.accepted.v1": {
                    **content,
                    "bill_to": ADDRESS,
                    "ship_to": ADDRESS,
                    "accepted_by": "Erika",
                    "accepted_on": "2026-01-06",
                    "recorded_by": offer["owner"],
                },
                "offer.rejected.v1": {"reason": "too expensive", "recorded_by": offer["owner"]},
            }[type_]
        )
        return self.emit(type_, data, when, cause=cause, journey=journey)

    def order(
        self,
        type_: str,
        order: dict,
        version: int,
        when: datetime,
        *,
        status: str,
        cause: Envelope | None = None,
        journey: str | None = None,
    ) -> Envelope:
        net = order["net"]
        data: dict[str, Any] = {
            "order_id": order["id"],
            "order_number": f"SO-{order['id']}",
            "version": version,
            "status": status,
            "channel": order["channel"],
            "customer": order["company"],
            "owner": order.get("owner"),
            "currency": "EUR",
            "offer_id": order.get("offer_id"),
            "opportunity_id": order.get("opportunity_id"),
        }
        line = {
            "line_no": 1,
            "sku": "LATHE",
            "description": "Lathe",
            "quantity": "1",
            "unit": "C62",
            "kind": "goods",
        }
        data.update(
            {
                "order.received.v1": {
                    "lines": [priced_line(net)],
                    "totals": totals(net),
                    "terms": {},
                },
                "order.confirmed.v1": {
                    "bill_to": ADDRESS,
                    "ship_to": ADDRESS,
                    "lines": [line],
                    "totals": totals(net),
                },
                "order.completed.v1": {
                    "fulfillment_id": order.get("fulfillment_id", "U-none"),
                    "totals": totals(net),
                },
            }[type_]
        )
        return self.emit(type_, data, when, cause=cause, journey=journey)

    def fulfillment(
        self,
        type_: str,
        ful: dict,
        version: int,
        when: datetime,
        *,
        status: str,
        cause: Envelope | None = None,
        **extra,
    ) -> Envelope:
        data: dict[str, Any] = {
            "fulfillment_id": ful["id"],
            "version": version,
            "status": status,
            "order_id": ful["order_id"],
            "order_number": f"SO-{ful['order_id']}",
        }
        delivered = [{"line_no": 1, "sku": "LATHE", "quantity": "1"}]
        data.update(
            {
                "fulfillment.planned.v1": {"customer": ful["company"], "ship_to": ADDRESS},
                "shipment.delivered.v1": {
                    "shipment_id": "S1",
                    "lines": delivered,
                    "delivered_at": when.isoformat(),
                },
                "fulfillment.completed.v1": {
                    "customer": ful["company"],
                    "ship_to": ADDRESS,
                    "items": [
                        {
                            "line_no": 1,
                            "sku": "LATHE",
                            "kind": "goods",
                            "quantity": "1",
                            "unit": "C62",
                            "delivered_on": "2026-01-08",
                        }
                    ],
                    "completed_at": when.isoformat(),
                },
            }[type_]
        )
        data.update(extra)
        return self.emit(type_, data, when, cause=cause)

    def logistics(self, order_id: str, status: str, when: datetime, cause: Envelope) -> Envelope:
        data = {
            "status_event_id": f"st-{uuid.uuid4().hex[:8]}",
            "order_id": order_id,
            "order_number": f"SO-{order_id}",
            "status": status,
            "occurred_at": when.isoformat(),
        }
        return self.emit("shipment.status.v1", data, when, cause=cause)

    def onboarded(self, account_id: str, comp: dict, when: datetime, cause: Envelope) -> Envelope:
        data = {
            "account_id": account_id,
            "version": 1,
            "company": comp,
            "owner": "alice",
            "order_id": "R1",
            "order_number": "SO-R1",
            "fulfillment_id": "U1",
        }
        return self.emit("account.onboarded.v1", data, when, cause=cause)

    def followup(
        self, account_id: str, comp: dict, when: datetime, *, journey: str, previous: list[str]
    ) -> Envelope:
        data = {
            "followup_id": "FU1",
            "account_id": account_id,
            "account": comp,
            "owner": "alice",
            "team": "north",
            "kind": "upsell",
            "description": "second lathe",
            "estimated_value": money("5000.00"),
            "previous_correlation_ids": previous,
        }
        return self.emit("followup.identified.v1", data, when, journey=journey)


async def publish(
    bootstrap: str, prefix: str, events: Iterable[Envelope], *, topic_of=None
) -> list[RecordMetadata]:
    """Publish through the real broker, in the given order; returns where each record landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        placed = []
        for event in events:
            topic = event_spec(event.type).topic if topic_of is None else topic_of(event)
            placed.append(
                await producer.send_and_wait(
                    f"{prefix}{topic}",
                    event.value(),
                    key=event.subject.encode(),
                    headers=event.headers(),
                )
            )
        return placed
    finally:
        await asyncio.wait_for(producer.stop(), 10)


async def publish_raw(
    bootstrap: str, topic: str, value: bytes, headers: list[tuple[str, bytes]], key: bytes
) -> RecordMetadata:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        return await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await asyncio.wait_for(producer.stop(), 10)


def sales_history() -> tuple[History, dict[str, Envelope]]:
    """The synthetic history of the service tests (hours after T0; every figure the tests
    expect is derived by hand from these times in the test module's docstring)."""
    h = History()
    ev: dict[str, Envelope] = {}
    c1 = company("c1", "DE", "C", "small")
    c2 = company("c2", "DE", "C", "medium")
    c3 = company("c3", "AT", "J", "large")
    c4 = company("c4", "AT", "J", "large")
    c5 = company("c5", "AT", "J", "micro")
    c6 = company("c6", "DE", "C", "small")
    north = {"owner": "alice", "team": "north"}
    south = {"owner": "bob", "team": "south"}

    # J1: lead L1 -> O1 -> F1 -> R1 -> U1 -> account A1, through every service
    l1 = {"id": "L1", "company": c1, "channel": "webinar", "journey": "J1"}
    h.lead("lead.created.v1", l1, 1, at(0))
    h.lead("lead.mql.v1", l1, 2, at(2), status="mql")
    h.lead("lead.assigned.v1", l1, 3, at(3), status="mql", **north)
    h.lead("lead.sql.v1", l1, 4, at(7), status="sql", first_contact_at=at(5).isoformat(), **north)
    ev["conv1"] = h.lead("lead.converted.v1", l1, 5, at(8), status="converted", **north)
    o1 = {
        "id": "O1",
        "company": c1,
        "currency": "EUR",
        "amount": "10000.00",
        "source": "lead",
        "lead_id": "L1",
        "channel": "webinar",
        "journey": "J1",
        **north,
    }
    h.opportunity(
        "opportunity.opened.v1",
        o1,
        1,
        at(8, 30),
        stage="qualification",
        probability=20,
        cause=ev["conv1"],
    )
    f1 = {"id": "F1", "opportunity_id": "O1", "owner": "alice", "company": c1, "net": "9500.00"}
    h.offer("offer.created.v1", f1, 1, at(10), status="draft", journey="J1")
    ev["f1_sent"] = h.offer("offer.sent.v1", f1, 2, at(12), status="sent", journey="J1")
    h.opportunity(
        "opportunity.stage_changed.v1",
        o1,
        2,
        at(12, 10),
        stage="proposal",
        probability=50,
        cause=ev["f1_sent"],
    )
    ev["f1_acc"] = h.offer("offer.accepted.v1", f1, 3, at(39), status="accepted", journey="J1")
    h.opportunity(
        "opportunity.won.v1",
        {**o1, "amount": "9500.00"},
        3,
        at(39, 20),
        stage="won",
        probability=100,
        cause=ev["f1_acc"],
        offer_id="F1",
        offer_version=1,
    )
    r1 = {
        "id": "R1",
        "company": c1,
        "channel": "offer",
        "net": "9500.00",
        "owner": "alice",
        "offer_id": "F1",
        "opportunity_id": "O1",
        "fulfillment_id": "U1",
    }
    h.order("order.received.v1", r1, 1, at(39, 45), status="received", cause=ev["f1_acc"])
    ev["r1_conf"] = h.order(
        "order.confirmed.v1", r1, 2, at(39, 60), status="confirmed", cause=ev["f1_acc"]
    )
    u1 = {"id": "U1", "order_id": "R1", "company": c1}
    h.fulfillment(
        "fulfillment.planned.v1", u1, 1, at(39, 70), status="planned", cause=ev["r1_conf"]
    )
    ev["status"] = h.logistics("R1", "delivered", at(60), cause=ev["r1_conf"])
    h.fulfillment(
        "shipment.delivered.v1",
        u1,
        2,
        at(60, 2),
        status="delivered",
        cause=ev["status"],
        order_delivery="delivered",
    )
    ev["u1_done"] = h.emit(
        "fulfillment.completed.v1",
        {
            "fulfillment_id": "U1",
            "version": 3,
            "status": "completed",
            "order_id": "R1",
            "order_number": "SO-R1",
            "customer": c1,
            "ship_to": ADDRESS,
            "items": [
                {
                    "line_no": 1,
                    "sku": "LATHE",
                    "kind": "goods",
                    "quantity": "1",
                    "unit": "C62",
                    "delivered_on": "2026-01-07",
                }
            ],
            "completed_at": at(61).isoformat(),
        },
        at(61),
        journey="J1",
    )
    h.order("order.completed.v1", r1, 3, at(61, 3), status="completed", cause=ev["u1_done"])
    h.onboarded("A1", c1, at(61, 4), cause=ev["u1_done"])

    # J2: the account's follow-up -> O3 -> F3, rejected and lost
    ev["followup"] = h.followup("A1", c1, at(100), journey="J2", previous=["J1"])
    o3 = {
        "id": "O3",
        "company": c1,
        "currency": "EUR",
        "amount": "5000.00",
        "source": "followup",
        "followup_id": "FU1",
        "account_id": "A1",
        **north,
    }
    h.opportunity(
        "opportunity.opened.v1",
        o3,
        1,
        at(100, 60),
        stage="qualification",
        probability=40,
        cause=ev["followup"],
    )
    f3 = {"id": "F3", "opportunity_id": "O3", "owner": "alice", "company": c1, "net": "5000.00"}
    h.offer("offer.created.v1", f3, 1, at(105), status="draft", journey="J2")
    ev["f3_sent"] = h.offer("offer.sent.v1", f3, 2, at(110), status="sent", journey="J2")
    h.opportunity(
        "opportunity.stage_changed.v1",
        o3,
        2,
        at(110, 10),
        stage="proposal",
        probability=60,
        cause=ev["f3_sent"],
    )
    ev["f3_rej"] = h.offer("offer.rejected.v1", f3, 3, at(120), status="rejected", journey="J2")
    ev["o3_lost"] = h.opportunity(
        "opportunity.lost.v1", o3, 3, at(120, 5), stage="lost", probability=0, cause=ev["f3_rej"]
    )

    # lead L2 -> O2 -> F2 sent, still open
    l2 = {"id": "L2", "company": c2, "channel": "webinar", "journey": "JL2"}
    h.lead("lead.created.v1", l2, 1, at(1))
    h.lead("lead.mql.v1", l2, 2, at(5), status="mql")
    h.lead("lead.assigned.v1", l2, 3, at(6), status="mql", **north)
    h.lead("lead.sql.v1", l2, 4, at(16), status="sql", first_contact_at=at(10).isoformat(), **north)
    ev["conv2"] = h.lead("lead.converted.v1", l2, 5, at(17), status="converted", **north)
    o2 = {
        "id": "O2",
        "company": c2,
        "currency": "EUR",
        "amount": "20000.00",
        "source": "lead",
        "lead_id": "L2",
        "channel": "webinar",
        **north,
    }
    h.opportunity(
        "opportunity.opened.v1",
        o2,
        1,
        at(17, 90),
        stage="qualification",
        probability=30,
        cause=ev["conv2"],
    )
    f2 = {"id": "F2", "opportunity_id": "O2", "owner": "alice", "company": c2, "net": "20000.00"}
    h.offer("offer.created.v1", f2, 1, at(20), status="draft", journey="JL2")
    ev["f2_sent"] = h.offer("offer.sent.v1", f2, 2, at(30), status="sent", journey="JL2")
    h.opportunity(
        "opportunity.stage_changed.v1",
        o2,
        2,
        at(30, 10),
        stage="proposal",
        probability=50,
        cause=ev["f2_sent"],
    )

    # leads L3 (disqualified), L4 (never worked), L5 (late, open)
    l3 = {"id": "L3", "company": c3, "channel": "trade_fair", "journey": "JL3"}
    h.lead("lead.created.v1", l3, 1, at(2))
    h.lead("lead.mql.v1", l3, 2, at(8), status="mql")
    h.lead("lead.assigned.v1", l3, 3, at(9), status="mql", **south)
    h.lead("lead.disqualified.v1", l3, 4, at(30), status="disqualified", **south)
    l4 = {"id": "L4", "company": c5, "channel": "trade_fair", "journey": "JL4"}
    h.lead("lead.created.v1", l4, 1, at(3))
    l5 = {"id": "L5", "company": c6, "channel": "webinar", "journey": "JL5"}
    h.lead("lead.created.v1", l5, 1, at(200))
    h.lead("lead.mql.v1", l5, 2, at(204), status="mql")
    h.lead("lead.assigned.v1", l5, 3, at(205), status="mql", **south)

    # O4: opened by hand for an existing customer, in USD, open
    o4 = {
        "id": "O4",
        "company": c4,
        "currency": "USD",
        "amount": "3000.00",
        "source": "manual",
        "journey": "JO4",
        **south,
    }
    h.opportunity("opportunity.opened.v1", o4, 1, at(50), stage="qualification", probability=50)

    # the company universe: imports (suspects) and segment materializations (prospects);
    # I1's chunk 2 is published a second time under a new id (counted once, at its first time)
    i1c1 = [("C", "small", "DE", "dnb", 40), ("C", "medium", "DE", "dnb", 30)]
    i1c1.append(("J", "large", "AT", "dnb", 20))
    ev["i1c1"] = h.imported("I1", 1, i1c1, at(-50), journey="IMP1")
    i1c2 = [("C", "small", "DE", "dnb", 10), ("J", "micro", "AT", "dnb", 15)]
    i1c2.append((None, None, "DE", "dnb", 5))
    ev["i1c2"] = h.imported("I1", 2, i1c2, at(-49), journey="IMP1")
    ev["i1c2_again"] = h.imported("I1", 2, i1c2, at(50), journey="IMP1")
    i2c1 = [("C", "small", "DE", "manual", 4), ("J", "large", "AT", "manual", 6)]
    i2c1.append(("J", "micro", "AT", "manual", 10))
    ev["i2c1"] = h.imported("I2", 1, i2c1, at(10), journey="IMP2")
    s1c1 = [("C", "small", "DE", "dnb", 20), ("C", "medium", "DE", "dnb", 10)]
    ev["s1c1"] = h.materialized("S1", "RUN1", 1, s1c1, at(-40), journey="SEG1")
    s1c2 = [("C", "small", "DE", "dnb", 5)]
    ev["s1c2"] = h.materialized("S1", "RUN1", 2, s1c2, at(-39), journey="SEG1")
    s2c1 = [("J", "large", "AT", "dnb", 8), ("J", "micro", "AT", "dnb", 2)]
    s2c1.append(("J", "large", "AT", "manual", 3))
    ev["s2c1"] = h.materialized("S2", "RUN2", 1, s2c1, at(20), journey="SEG2")

    # J3: a direct order of c1 after R1 was delivered: repeat business
    r2 = {"id": "R2", "company": c1, "channel": "order_desk", "net": "4000.00", "owner": "alice"}
    h.order("order.received.v1", r2, 1, at(149), status="received", journey="J3")
    ev["r2_conf"] = h.order("order.confirmed.v1", r2, 2, at(150), status="confirmed", journey="J3")
    return h, ev
