"""A journey's stage timeline and causation-based handoff latencies."""

from datetime import UTC, datetime, timedelta

from controlling.domain.journey import Step, handoff_latencies, in_journey_order, stage_timeline

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def step(eid, type_, service, minutes, cause=None, **data) -> Step:
    return Step(eid, type_, service, T0 + timedelta(minutes=minutes), cause, data)


STEPS = [
    step("a", "lead.created.v1", "leads", 0),
    step("b", "lead.mql.v1", "leads", 10),
    step("c", "lead.sql.v1", "leads", 30),
    step("d", "lead.converted.v1", "leads", 40),
    step("e", "opportunity.opened.v1", "opportunities", 41, cause="d"),
    step("f", "offer.created.v1", "offers", 50),
    step("g", "offer.sent.v1", "offers", 60),
    step("h", "opportunity.stage_changed.v1", "opportunities", 60.5, cause="g"),
    step("i", "offer.sent.v1", "offers", 70),  # a revision sent again: no new stage
    step("j", "offer.accepted.v1", "offers", 90),
    step("k", "order.received.v1", "orders", 90.25, cause="j"),
    step("l", "order.confirmed.v1", "orders", 90.5, cause="j"),
    step("m", "shipment.delivered.v1", "fulfillment", 200, order_delivery="partially_delivered"),
    step("n", "shipment.delivered.v1", "fulfillment", 300, order_delivery="delivered"),
]


def test_stage_timeline() -> None:
    spans = stage_timeline(in_journey_order(list(reversed(STEPS))))
    assert [(s.stage, s.duration_s) for s in spans] == [
        ("leads", 600.0),
        ("mql", 1200.0),
        ("sql", 660.0),
        ("opportunities", 1140.0),
        ("offers_sent", 1830.0),
        ("orders", 12570.0),
        ("delivered", None),
    ]
    assert spans[-1].left_at is None and spans[4].event_id == "g"


def test_handoff_latencies_mark_the_first_reaction() -> None:
    latencies = handoff_latencies(STEPS, {s.event_id: s for s in STEPS})
    assert set(latencies) == {"e", "h", "k", "l"}
    assert latencies["e"].latency_s == 60.0
    assert (latencies["e"].from_service, latencies["e"].to_service) == ("leads", "opportunities")
    assert latencies["h"].latency_s == 30.0
    assert latencies["k"].first_reaction and latencies["k"].latency_s == 15.0
    assert not latencies["l"].first_reaction and latencies["l"].latency_s == 30.0
