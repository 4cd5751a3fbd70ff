"""Handoff figures: published, consumed against committed offsets, latency, lag."""

from controlling.domain.handoffs import (
    FirstRecord,
    HandoffDef,
    compute_handoff,
    first_records,
    lag,
)

DEF = HandoffDef("offers->orders", "offers", "orders", "offers.offer.v1", ("offer.accepted.v1",))


def test_first_records_dedupes_redeliveries() -> None:
    records = [("e1", 0, 5), ("e2", 1, 0), ("e1", 0, 2), ("e3", 0, 9), ("e2", 1, 4)]
    assert sorted(first_records(records), key=lambda r: r.event_id) == [
        FirstRecord("e1", 0, 2),
        FirstRecord("e2", 1, 0),
        FirstRecord("e3", 0, 9),
    ]


def test_consumed_in_flight_latency_and_lag() -> None:
    published = [FirstRecord("e1", 0, 2), FirstRecord("e2", 1, 0), FirstRecord("e3", 0, 9)]
    figures = compute_handoff(
        DEF,
        published,
        committed={0: 5, 1: -1},
        ends={0: 12, 1: 3},
        latencies_s=[1.0, 3.0],
        dead_lettered=1,
    )
    assert (figures.published, figures.consumed, figures.in_flight) == (3, 1, 2)
    assert (figures.latency_p50_s, figures.latency_p99_s) == (2.0, 2.98)
    assert figures.reacted == 2 and figures.dead_lettered == 1
    assert figures.lag == 7 + 3


def test_unknown_offsets_are_reported_as_unknown() -> None:
    figures = compute_handoff(
        DEF, [FirstRecord("e1", 0, 0)], committed=None, ends={0: 1}, latencies_s=[], dead_lettered=0
    )
    assert figures.consumed is None and figures.in_flight is None and figures.lag is None
    assert figures.latency_p50_s is None


def test_lag_counts_from_zero_without_commits() -> None:
    assert lag({}, {0: 4, 1: 0}) == 4
    assert lag({0: 6}, {0: 4}) == 0
