"""Folding an aggregate's events: the same facts whatever order they arrived in."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from controlling.domain.projections import (
    Fact,
    fold_fulfillment,
    fold_lead,
    fold_offer,
    fold_opportunity,
    fold_order,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMPANY = {"company_id": "c1", "name": "Acme", "country": "DE", "nace_section": "C"}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def lead_event(type_: str, version: int, hours: float, **data) -> Fact:
    body = {
        "lead_id": "L1",
        "version": version,
        "status": "unqualified",
        "company": COMPANY,
        "source_channel": "webinar",
        "owner": None,
        "team": None,
    }
    body.update(data)
    return Fact(id=f"e{version}", type=type_, time=at(hours), data=body, correlation_id="j1")


LEAD_HISTORY = [
    lead_event("lead.created.v1", 1, 0),
    lead_event("lead.mql.v1", 2, 1, status="mql"),
    lead_event("lead.assigned.v1", 3, 2, status="mql", owner="alice", team="north"),
    lead_event("lead.assigned.v1", 4, 3, status="mql", owner="bob", team="north"),
    lead_event(
        "lead.sql.v1",
        5,
        7,
        status="sql",
        owner="bob",
        team="north",
        first_contact_at=at(5).isoformat(),
    ),
    lead_event("lead.converted.v1", 6, 8, status="converted", owner="bob", team="north"),
]


def test_lead_fold_reads_stages_owner_and_assignment() -> None:
    lead = fold_lead("L1", LEAD_HISTORY)
    assert lead is not None
    assert (lead.version, lead.status, lead.owner, lead.team) == (6, "converted", "bob", "north")
    assert lead.company.country == "DE" and lead.company.nace_section == "C"
    assert lead.created_at == at(0) and lead.mql_at == at(1) and lead.sql_at == at(7)
    assert lead.first_contact_at == at(5)
    assert lead.assigned_at == at(3)  # the reassignment to bob, not alice's routing
    assert lead.converted_at == at(8) and lead.closed_at == at(8)
    assert lead.correlation_id == "j1"


def test_lead_fold_is_the_same_for_every_arrival_order() -> None:
    expected = fold_lead("L1", LEAD_HISTORY)
    for order in itertools.islice(itertools.permutations(LEAD_HISTORY), 0, 720, 7):
        assert fold_lead("L1", list(order)) == expected


def test_lead_fold_of_partial_history_keeps_what_is_known() -> None:
    lead = fold_lead("L1", LEAD_HISTORY[4:5])  # the SQL event arrived first
    assert lead is not None
    assert lead.sql_at == at(7) and lead.created_at is None and lead.closed_at is None
    assert fold_lead("L1", []) is None


def test_opportunity_fold_amount_probability_and_close() -> None:
    base = {
        "opportunity_id": "O1",
        "account": COMPANY,
        "owner": "bob",
        "team": "north",
        "currency": "EUR",
        "source": "lead",
        "lead_id": "L1",
        "source_channel": "webinar",
    }
    facts = [
        Fact(
            "o1",
            "opportunity.opened.v1",
            at(9),
            {**base, "version": 1, "stage": "qualification", "probability": 10},
            "j1",
        ),
        Fact(
            "o2",
            "opportunity.stage_changed.v1",
            at(10),
            {
                **base,
                "version": 2,
                "stage": "proposal",
                "probability": 40,
                "amount": {"amount": "1000.00", "currency": "EUR"},
            },
            "j1",
        ),
        Fact(
            "o3",
            "opportunity.won.v1",
            at(20),
            {
                **base,
                "version": 3,
                "stage": "won",
                "probability": 100,
                "amount": {"amount": "950.00", "currency": "EUR"},
            },
            "j1",
        ),
    ]
    opp = fold_opportunity("O1", reversed(facts))
    assert opp is not None
    assert (opp.stage, opp.probability, opp.amount, opp.amount_currency) == (
        "won",
        100,
        Decimal("950.00"),
        "EUR",
    )
    assert opp.opened_at == at(9) and opp.won_at == at(20) and opp.closed_at == at(20)
    assert opp.lead_id == "L1" and opp.company.company_id == "c1"
    still_open = fold_opportunity("O1", facts[:2])
    assert still_open is not None and still_open.closed_at is None


def test_offer_order_and_fulfillment_folds() -> None:
    offer = fold_offer(
        "F1",
        [
            Fact(
                "f2",
                "offer.sent.v1",
                at(12),
                {"version": 2, "opportunity_id": "O1", "status": "sent", "owner": "bob"},
            ),
            Fact(
                "f1",
                "offer.created.v1",
                at(11),
                {
                    "version": 1,
                    "opportunity_id": "O1",
                    "status": "draft",
                    "customer": COMPANY,
                    "totals": {"net": {"amount": "950.00", "currency": "EUR"}},
                },
            ),
            Fact(
                "f3",
                "offer.sent.v1",
                at(14),
                {"version": 4, "opportunity_id": "O1", "status": "sent", "owner": "bob"},
            ),
        ],
    )
    assert offer is not None
    assert offer.first_sent_at == at(12) and offer.created_at == at(11)
    assert offer.company.company_id == "c1"  # from offer.created, the only one with a customer
    assert offer.net_amount == Decimal("950.00") and offer.status == "sent"

    order = fold_order(
        "R1",
        [
            Fact(
                "r2",
                "order.confirmed.v1",
                at(22),
                {"version": 2, "status": "confirmed", "offer_id": "F1", "customer": COMPANY},
            ),
            Fact(
                "r1",
                "order.received.v1",
                at(21),
                {"version": 1, "status": "received", "offer_id": "F1", "customer": COMPANY},
            ),
        ],
    )
    assert order is not None
    assert (order.received_at, order.confirmed_at, order.offer_id) == (at(21), at(22), "F1")

    fulfillment = fold_fulfillment(
        "U1",
        [
            Fact("u1", "fulfillment.planned.v1", at(23), {"version": 1, "order_id": "R1"}),
            Fact(
                "u2",
                "shipment.delivered.v1",
                at(30),
                {"version": 2, "order_id": "R1", "order_delivery": "partially_delivered"},
            ),
            Fact(
                "u3",
                "shipment.delivered.v1",
                at(40),
                {"version": 3, "order_id": "R1", "order_delivery": "delivered"},
            ),
            Fact("u4", "fulfillment.completed.v1", at(41), {"version": 4, "order_id": "R1"}),
        ],
    )
    assert fulfillment is not None
    assert fulfillment.delivered_at == at(40) and fulfillment.completed_at == at(41)
