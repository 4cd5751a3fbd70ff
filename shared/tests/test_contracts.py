"""The published event contract: catalog completeness, envelope round trips, evolution rules,
malformed records, and the committed AsyncAPI document."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from salesflow.asyncapi import PUBLISHERS, build_document, render_yaml
from salesflow.contracts import Envelope, MalformedEvent, new_event
from salesflow.contracts.catalog import all_events, all_topics
from salesflow.contracts.events import KEY_FIELDS, consumed_types
from salesflow.contracts.events import aftersales as af
from salesflow.contracts.events import common as c
from salesflow.contracts.events import fulfillment as fu
from salesflow.contracts.events import leads as le
from salesflow.contracts.events import logistics as lo
from salesflow.contracts.events import offers as of
from salesflow.contracts.events import opportunities as op
from salesflow.contracts.events import orders as od
from salesflow.contracts.types import Money

REPO_ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_FILE = REPO_ROOT / "docs" / "asyncapi.yaml"

# The catalog table of DESIGN.md §2, written out: topic -> event types (v1) and consumers.
CATALOG: dict[str, list[str]] = {
    "leads.lead.v1": [
        "lead.created",
        "lead.scored",
        "lead.mql",
        "lead.assigned",
        "lead.sql",
        "lead.disqualified",
        "lead.converted",
    ],
    # Added by issue 9 (suspects and prospects for the funnel), additive to DESIGN.md's table.
    "leads.import.v1": ["companies.imported"],
    "leads.segment.v1": ["prospects.materialized"],
    "opportunities.opportunity.v1": [
        "opportunity.opened",
        "opportunity.stage_changed",
        # additive to DESIGN.md's table: a change in place (owner, amount …) without a move
        "opportunity.updated",
        "opportunity.won",
        "opportunity.lost",
    ],
    "offers.offer.v1": [
        "offer.created",
        "offer.approval_requested",
        "offer.approved",
        "offer.sent",
        "offer.revised",
        "offer.accepted",
        "offer.rejected",
        "offer.expired",
    ],
    "orders.order.v1": [
        "order.received",
        "order.confirmed",
        "order.rejected",
        "order.cancelled",
        "order.completed",
    ],
    "logistics.status.v1": ["shipment.status"],
    "fulfillment.fulfillment.v1": [
        "fulfillment.planned",
        "shipment.dispatched",
        "shipment.delivered",
        "task.completed",
        "fulfillment.completed",
    ],
    "aftersales.account.v1": [
        "account.onboarded",
        "ticket.opened",
        "ticket.resolved",
        "followup.identified",
    ],
}
# DESIGN.md's consumers, plus what the issues add: controlling reads every topic (issue 9),
# leads reads account.onboarded (issues 3 and 9).
CONSUMERS: dict[str, set[str]] = {
    "leads.lead.v1": {"opportunities", "controlling"},
    "leads.import.v1": {"controlling"},
    "leads.segment.v1": {"controlling"},
    "opportunities.opportunity.v1": {"offers", "controlling"},
    "offers.offer.v1": {"opportunities", "orders", "controlling"},
    "orders.order.v1": {"fulfillment", "logistics", "aftersales", "controlling"},
    "logistics.status.v1": {"fulfillment", "controlling"},
    "fulfillment.fulfillment.v1": {"orders", "aftersales", "controlling"},
    "aftersales.account.v1": {"opportunities", "leads", "controlling"},
}
ALL_TYPES = [f"{name}.v1" for names in CATALOG.values() for name in names]
# Event types whose producer has no aggregate version to carry.
UNVERSIONED = {
    "shipment.status.v1",
    "followup.identified.v1",
    "companies.imported.v1",
    "prospects.materialized.v1",
}

# --- example instances ------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


COMPANY = c.CompanySnapshot(
    company_id="co-1",
    name="Muster Maschinenbau GmbH",
    country="DE",
    region="DE21",
    postal_code="80331",
    city="München",
    nace="28.41",
    nace_section="C",
    employees=120,
    size_class=c.SizeClass.MEDIUM,
    duns="123456789",
    vat_id="DE123456789",
    website="https://muster.example",
)
CONTACT = c.Contact(name="Erika Muster", email="erika@muster.example", phone="+4989123", role="CFO")
NEEDS = c.NeedsAnalysis(
    budget=eur("50000.00"), authority="CFO signs", need="replace lathe", timeline="Q2"
)
ADDRESS = c.Address(
    name="Muster Maschinenbau GmbH",
    street="Hauptstr. 1",
    postal_code="80331",
    city="München",
    country="DE",
)
LINES = [
    c.PricedLine(
        line_no=1,
        sku="LATHE-500",
        name="Lathe 500",
        quantity=Decimal("2"),
        unit="C62",
        kind=c.LineKind.GOODS,
        options=[c.SelectedOption(code="voltage", value="400V")],
        unit_price=eur("10000.00"),
        discount_percent=Decimal("10"),
        net=eur("18000.00"),
        tax_rate=Decimal("19"),
        tax=eur("3420.00"),
    ),
    c.PricedLine(
        line_no=2,
        sku="INSTALL",
        name="Installation",
        quantity=Decimal("7.5"),
        unit="HUR",
        kind=c.LineKind.SERVICE,
        unit_price=eur("120.00"),
        net=eur("900.00"),
        tax_rate=Decimal("19"),
        tax=eur("171.00"),
    ),
]
TOTALS = c.Totals(
    net=eur("18900.00"),
    tax=eur("3591.00"),
    gross=eur("22491.00"),
    tax_by_rate=[c.TaxAmount(rate=Decimal("19"), net=eur("18900.00"), tax=eur("3591.00"))],
)
TERMS = c.Terms(
    payment_terms="30 days net",
    payment_days=30,
    incoterms=c.Incoterm.DAP,
    incoterms_place="München",
    requested_delivery_date=date(2026, 4, 15),
)
DELIVERED = [
    c.DeliveredLine(
        line_no=1, sku="LATHE-500", quantity=Decimal("2"), serial_numbers=["SN-1", "SN-2"]
    )
]

LEAD = dict(
    lead_id="lead-1",
    version=3,
    status=le.LeadStatus.UNQUALIFIED,
    company=COMPANY,
    owner="alice",
    team="south",
    source_channel="whitepaper_download",
    source_campaign="spring-2026",
    score=Decimal("42.5"),
)
OPP = dict(
    opportunity_id="opp-1",
    version=2,
    stage=op.OpportunityStage.QUALIFICATION,
    account=COMPANY,
    contact=CONTACT,
    owner="alice",
    team="south",
    currency="EUR",
    amount=eur("50000.00"),
    probability=20,
    expected_close_date=date(2026, 6, 30),
    source=op.OpportunitySource.LEAD,
    lead_id="lead-1",
    source_channel="whitepaper_download",
    needs=NEEDS,
)
OFFER = dict(
    offer_id="off-1",
    offer_version=1,
    version=4,
    status=of.OfferStatus.SENT,
    opportunity_id="opp-1",
    owner="alice",
    team="south",
    currency="EUR",
    totals=TOTALS,
    valid_until=date(2026, 4, 1),
)
OFFER_DOC = dict(OFFER, customer=COMPANY, contact=CONTACT, lines=LINES, terms=TERMS)
ORDER = dict(
    order_id="ord-1",
    order_number="SO-2026-000123",
    version=2,
    status=od.OrderStatus.CONFIRMED,
    channel=od.OrderChannel.OFFER,
    customer=COMPANY,
    owner="alice",
    team="south",
    currency="EUR",
    offer_id="off-1",
    offer_version=2,
    opportunity_id="opp-1",
)
FUL = dict(
    fulfillment_id="ful-1",
    version=5,
    status=fu.FulfillmentStatus.IN_PROGRESS,
    order_id="ord-1",
    order_number="SO-2026-000123",
)
TICKET = dict(
    ticket_id="t-1",
    version=1,
    account_id="acc-1",
    status=af.TicketStatus.OPEN,
    severity="P2",
    owner="alice",
    asset_id="as-1",
    serial_number="SN-1",
    opened_at=NOW,
)

EXAMPLES: dict[str, BaseModel] = {
    "lead.created.v1": le.LeadCreated(**LEAD, touchpoint_id="tp-1", touchpoint_kind="download"),
    "lead.scored.v1": le.LeadScored(
        **LEAD,
        previous_score=Decimal("30"),
        fit_score=Decimal("25"),
        engagement_score=Decimal("17.5"),
        scoring_model_version=2,
        trigger="touchpoint",
        touchpoint_id="tp-2",
    ),
    "lead.mql.v1": le.LeadMql(**LEAD, threshold=Decimal("40"), scoring_model_version=2),
    "lead.assigned.v1": le.LeadAssigned(**LEAD, assigned_by="routing", routing_rule="DE-south"),
    "lead.sql.v1": le.LeadSql(
        **LEAD, contact=CONTACT, needs=NEEDS, first_contact_at=NOW, qualified_by="alice"
    ),
    "lead.disqualified.v1": le.LeadDisqualified(**LEAD, reason="no budget", recycled=True),
    "lead.converted.v1": le.LeadConverted(
        **LEAD,
        contact=CONTACT,
        needs=NEEDS,
        converted_by="alice",
        expected_amount=eur("50000"),
        expected_close_date=date(2026, 6, 30),
    ),
    "companies.imported.v1": le.CompaniesImported(
        import_id="imp-1",
        chunk=1,
        suspects=[
            le.UniverseCell(
                nace_section="C", size_class="small", country="DE", source="dnb", count=7
            )
        ],
        rows_updated=2,
        rows_rejected=1,
    ),
    "prospects.materialized.v1": le.ProspectsMaterialized(
        segment_id="seg-1",
        segment_name="Machinery DACH",
        run_id="run-1",
        chunk=1,
        prospects=[
            le.UniverseCell(
                nace_section="C", size_class="small", country="AT", source="dnb", count=3
            )
        ],
    ),
    "opportunity.opened.v1": op.OpportunityOpened(**OPP),
    "opportunity.stage_changed.v1": op.OpportunityStageChanged(
        **OPP, previous_stage="needs_analysis", trigger="offer.sent.v1", offer_id="off-1"
    ),
    "opportunity.updated.v1": op.OpportunityUpdated(**OPP, changed_by="carol"),
    "opportunity.won.v1": op.OpportunityWon(
        **{**OPP, "amount": eur("18900.00")}, offer_id="off-1", offer_version=2
    ),
    "opportunity.lost.v1": op.OpportunityLost(
        **OPP, previous_stage="proposal", lost_reason="price", offer_id="off-1"
    ),
    "offer.created.v1": of.OfferCreated(**OFFER_DOC, created_by="alice"),
    "offer.approval_requested.v1": of.OfferApprovalRequested(
        **OFFER,
        requested_by="alice",
        reasons=["line 1: discount 10% > 5% allowed for sales_rep"],
        max_discount_percent=Decimal("10"),
    ),
    "offer.approved.v1": of.OfferApproved(**OFFER, approved_by="bob", comment="ok"),
    "offer.sent.v1": of.OfferSent(**OFFER, sent_by="alice", recipient=CONTACT),
    "offer.revised.v1": of.OfferRevised(
        **{**OFFER_DOC, "offer_version": 2},
        previous_offer_version=1,
        changes=["line 1 discount 5% -> 10%"],
        revised_by="alice",
    ),
    "offer.accepted.v1": of.OfferAccepted(
        **{**OFFER_DOC, "offer_version": 2, "status": of.OfferStatus.ACCEPTED},
        bill_to=ADDRESS,
        ship_to=ADDRESS,
        customer_po_number="PO-778",
        accepted_by="Erika Muster",
        accepted_on=TODAY,
        recorded_by="alice",
    ),
    "offer.rejected.v1": of.OfferRejected(**OFFER, reason="too expensive", recorded_by="alice"),
    "offer.expired.v1": of.OfferExpired(**OFFER),
    "order.received.v1": od.OrderReceived(
        **ORDER, bill_to=ADDRESS, ship_to=ADDRESS, lines=LINES, totals=TOTALS, terms=TERMS
    ),
    "order.confirmed.v1": od.OrderConfirmed(
        **ORDER,
        bill_to=ADDRESS,
        ship_to=ADDRESS,
        delivery_contact=CONTACT,
        lines=[
            od.OrderLine(
                line_no=1,
                sku="LATHE-500",
                description="Lathe 500, 400V",
                quantity=Decimal("2"),
                unit="C62",
                kind="goods",
            ),
            od.OrderLine(
                line_no=2,
                sku="INSTALL",
                description="Installation",
                quantity=Decimal("7.5"),
                unit="HUR",
                kind="service",
            ),
        ],
        requested_delivery_date=date(2026, 4, 15),
        incoterms="DAP",
        incoterms_place="München",
        customer_po_number="PO-778",
        totals=TOTALS,
    ),
    "order.rejected.v1": od.OrderRejected(
        **ORDER,
        reasons=[od.RejectionReason(code="credit_limit_exceeded", message="open value too high")],
    ),
    "order.cancelled.v1": od.OrderCancelled(**ORDER, reason="customer request", cancelled_by="c"),
    "order.completed.v1": od.OrderCompleted(**ORDER, fulfillment_id="ful-1", totals=TOTALS),
    "shipment.status.v1": lo.ShipmentStatusReported(
        status_event_id="lse-1",
        shipment_id="shp-1",
        order_id="ord-1",
        order_number="SO-2026-000123",
        status=lo.ShipmentStatus.DELIVERED,
        occurred_at=NOW,
        carrier="DHL",
        tracking_number="JD0001",
        proof_of_delivery=c.ProofOfDelivery(signed_by="Hr. Meier", received_at=TODAY),
        lines=DELIVERED,
    ),
    "fulfillment.planned.v1": fu.FulfillmentPlanned(
        **FUL,
        customer=COMPANY,
        owner="alice",
        ship_to=ADDRESS,
        shipments=[
            fu.PlannedShipment(
                shipment_id="shp-1",
                lines=[fu.ShipmentLine(line_no=1, sku="LATHE-500", quantity=Decimal("2"))],
                planned_date=date(2026, 4, 14),
            )
        ],
        tasks=[fu.PlannedTask(task_id="task-1", line_no=2, sku="INSTALL", kind="installation")],
    ),
    "shipment.dispatched.v1": fu.ShipmentDispatched(
        **FUL,
        shipment_id="shp-1",
        carrier="DHL",
        tracking_number="JD0001",
        lines=DELIVERED,
        dispatched_at=NOW,
        status_event_id="lse-0",
    ),
    "shipment.delivered.v1": fu.ShipmentDelivered(
        **FUL,
        shipment_id="shp-1",
        lines=DELIVERED,
        delivered_at=NOW,
        order_delivery="delivered",
        status_event_id="lse-1",
    ),
    "task.completed.v1": fu.TaskCompleted(
        **FUL,
        task_id="task-1",
        line_no=2,
        sku="INSTALL",
        kind="installation",
        completed_at=NOW,
        completed_by="tech-1",
    ),
    "fulfillment.completed.v1": fu.FulfillmentCompleted(
        **{**FUL, "status": fu.FulfillmentStatus.COMPLETED},
        customer=COMPANY,
        owner="alice",
        ship_to=ADDRESS,
        items=[
            fu.DeliveredItem(
                line_no=1,
                sku="LATHE-500",
                kind="goods",
                quantity=Decimal("2"),
                unit="C62",
                serial_numbers=["SN-1", "SN-2"],
                delivered_on=TODAY,
            ),
            fu.DeliveredItem(
                line_no=2,
                sku="INSTALL",
                kind="service",
                quantity=Decimal("7.5"),
                unit="HUR",
                delivered_on=TODAY,
            ),
        ],
        completed_at=NOW,
    ),
    "account.onboarded.v1": af.AccountOnboarded(
        account_id="acc-1",
        version=1,
        company=COMPANY,
        owner="alice",
        order_id="ord-1",
        order_number="SO-2026-000123",
        fulfillment_id="ful-1",
        installed_base=[
            af.Asset(
                asset_id="as-1",
                sku="LATHE-500",
                serial_number="SN-1",
                quantity=Decimal("1"),
                order_id="ord-1",
                delivered_on=TODAY,
                warranty_end=date(2028, 3, 1),
            )
        ],
    ),
    "ticket.opened.v1": af.TicketOpened(
        **TICKET,
        channel="phone",
        summary="Spindle noise",
        opened_by="sam",
        first_response_due=NOW + timedelta(hours=4),
        resolution_due=NOW + timedelta(days=2),
        warranty="in_warranty",
    ),
    "ticket.resolved.v1": af.TicketResolved(
        **{**TICKET, "version": 3, "status": af.TicketStatus.RESOLVED},
        resolution="bearing replaced",
        resolved_by="sam",
        resolved_at=NOW + timedelta(days=1),
        business_minutes_to_resolve=480,
    ),
    "followup.identified.v1": af.FollowupIdentified(
        followup_id="fu-1",
        account_id="acc-1",
        account=COMPANY,
        contact=CONTACT,
        owner="alice",
        kind=af.FollowupKind.RENEWAL,
        description="Service contract renewal",
        estimated_value=eur("4800.00"),
        due_date=date(2028, 3, 1),
        asset_ids=["as-1"],
        previous_correlation_ids=["corr-1"],
    ),
}


def roundtrip(envelope: Envelope) -> Envelope:
    """What a consumer sees: the record's headers and value parsed back."""
    return Envelope.from_record(envelope.headers(), envelope.value())


def make(type_: str) -> Envelope:
    topic = all_events()[type_].topic
    payload = EXAMPLES[type_]
    subject = getattr(payload, KEY_FIELDS[topic])
    return new_event(type_, subject, payload, source=f"/salesflow/{all_topics()[topic].producer}")


def walk(value: Any):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# --- catalog ----------------------------------------------------------------------------------


def test_every_catalog_event_type_is_registered_on_its_topic() -> None:
    events = all_events()
    for topic, names in CATALOG.items():
        for name in names:
            spec = events.get(f"{name}.v1")
            assert spec is not None, f"{name}.v1 is not registered"
            assert spec.topic == topic
            assert spec.name == name
    published = [t for t, spec in events.items() if spec.topic in published_topics()]
    assert sorted(published) == sorted(ALL_TYPES), "registered types differ from DESIGN.md"


def published_topics() -> dict:
    """The catalog without topics that tests register for themselves (the probe service)."""
    return {n: t for n, t in all_topics().items() if t.producer in PUBLISHERS}


def test_topics_producers_and_consumers() -> None:
    topics = published_topics()
    assert set(topics) == set(CATALOG)
    for name, spec in topics.items():
        assert spec.producer == name.split(".")[0]
        assert spec.partitions >= 1
        assert set(spec.consumers) == CONSUMERS[name], name
        assert spec.external == (name == "logistics.status.v1")
        for consumer in spec.consumers:
            types = consumed_types(name, consumer)
            assert types and set(types) <= {f"{n}.v1" for n in CATALOG[name]}
    assert consumed_types("leads.lead.v1", "opportunities") == ("lead.converted.v1",)
    assert consumed_types("offers.offer.v1", "orders") == ("offer.accepted.v1",)
    assert consumed_types("aftersales.account.v1", "opportunities") == ("followup.identified.v1",)
    assert len(consumed_types("leads.lead.v1", "controlling")) == len(CATALOG["leads.lead.v1"])
    assert consumed_types("leads.lead.v1", "orders") == ()


def test_payloads_carry_key_and_version() -> None:
    for type_, spec in all_events().items():
        if spec.topic not in published_topics():
            continue
        fields = spec.payload.model_fields
        assert KEY_FIELDS[spec.topic] in fields, f"{type_} lacks its key field"
        if type_ not in UNVERSIONED:
            assert fields["version"].annotation is int, f"{type_} lacks version: int"


def test_every_catalog_type_has_an_example() -> None:
    assert sorted(EXAMPLES) == sorted(ALL_TYPES)
    for type_, example in EXAMPLES.items():
        assert isinstance(example, all_events()[type_].payload)


# --- envelope round trip ----------------------------------------------------------------------


@pytest.mark.parametrize("type_", ALL_TYPES)
def test_payload_round_trips_through_the_envelope(type_: str) -> None:
    sent = make(type_)
    received = roundtrip(sent)
    assert received.id == sent.id
    assert received.type == type_
    assert received.subject == sent.subject
    assert received.correlation_id == sent.correlation_id
    assert received.time == sent.time
    assert received.payload() == EXAMPLES[type_]
    headers = dict(sent.headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/json"


def test_cause_passes_correlation_and_trace() -> None:
    cause = roundtrip(make("offer.accepted.v1"))
    effect = new_event(
        "order.received.v1",
        "ord-1",
        EXAMPLES["order.received.v1"],
        source="/salesflow/orders",
        cause=cause,
    )
    received = roundtrip(effect)
    assert received.correlation_id == cause.correlation_id
    assert received.causation_id == cause.id
    assert received.traceparent.split("-")[1] == cause.traceparent.split("-")[1]


@pytest.mark.parametrize("type_", ALL_TYPES)
def test_json_carries_no_floats_and_money_as_strings(type_: str) -> None:
    data = json.loads(make(type_).value())
    for node in walk(data):
        assert not isinstance(node, float), f"{type_} serialises a float: {node!r}"
        if isinstance(node, dict) and set(node) == {"amount", "currency"}:
            assert isinstance(node["amount"], str)


def test_money_amount_is_a_decimal_string() -> None:
    data = json.loads(make("offer.accepted.v1").value())
    assert data["totals"]["gross"] == {"amount": "22491.00", "currency": "EUR"}
    assert data["lines"][1]["quantity"] == "7.5"
    assert of.OfferAccepted.model_validate(data).totals.gross.amount == Decimal("22491.00")


# --- evolution rules --------------------------------------------------------------------------


@pytest.mark.parametrize("type_", ALL_TYPES)
def test_unknown_fields_are_ignored(type_: str) -> None:
    sent = make(type_)
    data = dict(sent.data, added_in_a_later_release={"x": 1})
    for key, value in data.items():  # a nested value object grows a field too
        if isinstance(value, dict) and "amount" not in value:
            data[key] = dict(value, also_new="y")
            break
    received = Envelope.from_record(sent.headers(), json.dumps(data).encode())
    assert received.payload() == EXAMPLES[type_]


@pytest.mark.parametrize("type_", ALL_TYPES)
def test_missing_required_fields_raise(type_: str) -> None:
    sent = make(type_)
    model = all_events()[type_].payload
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    assert required
    for name in required:
        data = {k: v for k, v in sent.data.items() if k != name}
        with pytest.raises(ValidationError):
            model.model_validate(data)
        record = Envelope.from_record(sent.headers(), json.dumps(data).encode())
        with pytest.raises(MalformedEvent):
            record.payload()


def test_invalid_values_raise() -> None:
    data = make("order.confirmed.v1").data
    bad_lines = [dict(data["lines"][0], quantity="-1")]
    with pytest.raises(ValidationError):
        od.OrderConfirmed.model_validate(dict(data, lines=bad_lines))
    with pytest.raises(ValidationError):
        od.OrderConfirmed.model_validate(dict(data, incoterms="XYZ"))
    with pytest.raises(ValidationError):
        od.OrderConfirmed.model_validate(dict(data, lines=[]))
    status = make("shipment.status.v1").data
    with pytest.raises(ValidationError):
        lo.ShipmentStatusReported.model_validate(dict(status, occurred_at="2026-03-02T09:30:00"))
    with pytest.raises(ValidationError):
        lo.ShipmentStatusReported.model_validate(dict(status, status="lost_in_space"))


def test_timestamps_are_normalised_to_utc() -> None:
    data = make("shipment.status.v1").data
    cet = datetime(2026, 3, 2, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    parsed = lo.ShipmentStatusReported.model_validate(dict(data, occurred_at=cet.isoformat()))
    assert parsed.occurred_at == NOW and parsed.occurred_at.utcoffset() == timedelta(0)


def test_new_event_rejects_wrong_payload_and_unknown_type() -> None:
    with pytest.raises(TypeError):
        new_event("order.confirmed.v1", "ord-1", EXAMPLES["order.received.v1"], source="/x")
    with pytest.raises(ValueError):
        new_event("order.shipped.v1", "ord-1", {}, source="/x")


# --- malformed records ------------------------------------------------------------------------


def test_missing_headers_are_malformed() -> None:
    sent = make("lead.created.v1")
    for header in ("ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time"):
        headers = [(k, v) for k, v in sent.headers() if k != header]
        with pytest.raises(MalformedEvent, match=header):
            Envelope.from_record(headers, sent.value())
    with pytest.raises(MalformedEvent):
        Envelope.from_record(None, sent.value())


@pytest.mark.parametrize("value", [b"{not json", b"", None, b"[1, 2]", b"\xff\xfe"])
def test_bad_json_is_malformed(value: bytes | None) -> None:
    with pytest.raises(MalformedEvent):
        Envelope.from_record(make("lead.created.v1").headers(), value)


def test_naive_or_bad_ce_time_is_malformed() -> None:
    sent = make("lead.created.v1")
    for bad in (b"2026-03-02T09:30:00", b"yesterday"):
        headers = [(k, bad if k == "ce_time" else v) for k, v in sent.headers()]
        with pytest.raises(MalformedEvent, match="ce_time"):
            Envelope.from_record(headers, sent.value())


def test_unknown_type_and_wrong_specversion_are_malformed() -> None:
    sent = make("lead.created.v1")
    headers = [(k, b"lead.teleported.v1" if k == "ce_type" else v) for k, v in sent.headers()]
    with pytest.raises(MalformedEvent, match="unknown event type"):
        Envelope.from_record(headers, sent.value()).payload()
    headers = [(k, b"0.3" if k == "ce_specversion" else v) for k, v in sent.headers()]
    with pytest.raises(MalformedEvent):
        Envelope.from_record(headers, sent.value())


# --- AsyncAPI ---------------------------------------------------------------------------------


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_document_covers_the_catalog() -> None:
    doc = build_document()
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["servers"]) == {"production", "local"}
    assert set(doc["channels"]) == set(CATALOG)
    assert sorted(doc["components"]["messages"]) == sorted(ALL_TYPES)
    for topic, names in CATALOG.items():
        channel = doc["channels"][topic]
        assert channel["address"] == topic
        assert sorted(channel["messages"]) == sorted(f"{n}.v1" for n in names)
        producer = all_topics()[topic].producer
        assert doc["operations"][f"{producer}.send.{topic}"]["action"] == "send"
        for consumer in CONSUMERS[topic]:
            assert doc["operations"][f"{consumer}.receive.{topic}"]["action"] == "receive"
    headers = doc["components"]["schemas"]["CloudEventsHeaders"]["properties"]
    for header in (
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_subject",
        "ce_time",
        "ce_specversion",
        "ce_correlationid",
        "ce_causationid",
        "traceparent",
        "content-type",
    ):
        assert header in headers


def test_asyncapi_references_resolve() -> None:
    doc = build_document()
    refs = [node["$ref"] for node in walk(doc) if isinstance(node, dict) and "$ref" in node]
    assert refs
    for ref in refs:
        resolve(doc, ref)
    assert "$defs" not in json.dumps(doc)


def test_asyncapi_payload_schemas_accept_the_examples() -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    doc = build_document()
    for type_ in ALL_TYPES:
        ref = doc["components"]["messages"][type_]["payload"]["$ref"]
        schema = {"$ref": ref, "components": {"schemas": doc["components"]["schemas"]}}
        validator = jsonschema_rs.Draft202012Validator(schema)
        errors = [e.message for e in validator.iter_errors(make(type_).data)]
        assert not errors, f"{type_}: {errors[:3]}"


def test_asyncapi_yaml_is_deterministic() -> None:
    assert render_yaml() == render_yaml()


def test_committed_asyncapi_document_is_current() -> None:
    committed = ASYNCAPI_FILE.read_text(encoding="utf-8") if ASYNCAPI_FILE.exists() else ""
    assert committed == render_yaml(), (
        f"{ASYNCAPI_FILE.relative_to(REPO_ROOT)} is out of date with the event contracts: "
        "run `salesflow asyncapi` and commit the result"
    )


def test_decimals_travel_in_plain_notation() -> None:
    """A quantity typed as 1e3 or a normalized price must not reach production as "1E+3"."""
    line = c.PricedLine(
        line_no=1,
        sku="WIDGET",
        name="Widget",
        quantity=Decimal("1E+3"),
        unit="C62",
        kind="goods",
        unit_price=Money(amount=Decimal("1.85E+5"), currency="EUR"),
        discount_percent=Decimal("1E+1"),
        net=Money(amount=Decimal("100.00"), currency="EUR"),
        tax_rate=Decimal("19"),
        tax=Money(amount=Decimal("1E-7"), currency="EUR"),
    )
    dumped = line.model_dump(mode="json")
    assert dumped["quantity"] == "1000" and dumped["discount_percent"] == "10"
    assert dumped["unit_price"]["amount"] == "185000" and dumped["net"]["amount"] == "100.00"
    assert dumped["tax"]["amount"] == "0.0000001"
    assert "E+" not in line.model_dump_json() and "E-" not in line.model_dump_json()
    assert c.PricedLine.model_validate(dumped) == line  # the same values come back
    scored = le.LeadScored.model_validate(
        {**EXAMPLES["lead.scored.v1"].model_dump(), "score": Decimal("5E+1")}
    )
    assert scored.model_dump(mode="json")["score"] == "50"
