"""Pure parts of the benchmark report: percentiles, ratios, RSS, handoff latencies from events,
the startup line of ``salesflow dev``, the table rows."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds `bench`

from bench import report
from bench.startup import LINE
from bench.stats import fmt_ratio, percentile, ratio, rss_mb
from bench.system import EventLog, Seen, parse, producer_of
from salesflow.contracts.catalog import all_topics


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_ratio_and_its_format() -> None:
    assert ratio(10, 4) == 2.5
    assert ratio(None, 4) is None and ratio(1, 0) is None and ratio(1, None) is None
    assert fmt_ratio(2.5) == "2.50×"
    assert fmt_ratio(1234.0) == "1,234×"
    assert fmt_ratio(0.00027) == "0.00027×"
    assert fmt_ratio(None) == ""


def test_rss_of_this_process_and_of_a_gone_one(tmp_path: Path) -> None:
    mine = rss_mb(os.getpid())
    assert mine is not None and mine > 1
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "status").write_text("Name:\tx\nVmRSS:\t  20480 kB\n")
    assert rss_mb(42, tmp_path) == 20.0
    assert rss_mb(43, tmp_path) is None


def test_event_headers_are_parsed() -> None:
    headers = [
        ("ce_id", b"e1"),
        ("ce_type", b"order.confirmed.v1"),
        ("ce_source", b"/salesflow/orders"),
        ("ce_time", b"2026-01-01T00:00:00.250000+00:00"),
        ("ce_causationid", b"c0"),
        ("ce_correlationid", b"j1"),
        ("ce_subject", b"ord-1"),
    ]
    seen = parse("orders.order.v1", headers)
    assert seen is not None
    assert (seen.producer, seen.cause, seen.correlation, seen.subject) == (
        "orders",
        "c0",
        "j1",
        "ord-1",
    )
    assert seen.time == datetime(2026, 1, 1, 0, 0, 0, 250000, tzinfo=UTC).timestamp()
    assert parse("t", [("ce_type", b"x")]) is None
    assert producer_of("/logistics/simulator") == "logistics"


def _event(id_: str, type_: str, producer: str, at: float, cause: str | None = None, **kw) -> Seen:
    topic = kw.pop("topic", f"{producer}.x")
    return Seen(id_, type_, producer, at, cause, kw.get("correlation"), kw.get("subject"), topic)


def test_handoff_latency_is_first_reaction_of_the_consumer_within_the_window() -> None:
    log = EventLog("unused:9092")
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    accepted = _event(
        "a1", "offer.accepted.v1", "offers", t0, topic="offers.offer.v1", subject="of1"
    )
    log._add(accepted)
    # orders reacts twice (the first counts), opportunities once; controlling never counts
    log._add(_event("o2", "order.confirmed.v1", "orders", t0 + 0.030, cause="a1"))
    log._add(_event("o1", "order.received.v1", "orders", t0 + 0.010, cause="a1"))
    log._add(_event("p1", "opportunity.won.v1", "opportunities", t0 + 0.020, cause="a1"))
    # an accepted offer before the window is not counted
    log._add(_event("a0", "offer.accepted.v1", "offers", t0 - 10, topic="offers.offer.v1"))
    log._add(_event("o0", "order.received.v1", "orders", t0 - 9, cause="a0"))
    redelivered = _event("a1", "offer.accepted.v1", "offers", t0 + 5, topic="offers.offer.v1")
    log._add(redelivered)
    figures = log.handoffs(t0 - 1, t0 + 1)
    assert figures["offers->orders"] == {
        "published": 1,
        "reacted": 1,
        "p50_ms": 10.0,
        "p99_ms": 10.0,
        "relay_p50_ms": None,  # no record timestamp in this test
        "consumer_p50_ms": None,
    }
    assert figures["offers->opportunities"]["p99_ms"] == 20.0
    assert list(figures)[:1] == ["offers->orders"]  # the flow's order first
    assert log.accepted == {"of1": ""}


def test_flow_completion_is_recorded_once_per_journey() -> None:
    log = EventLog("unused:9092")
    t0 = 1_000.0
    log._add(_event("f1", "fulfillment.completed.v1", "fulfillment", t0, correlation="j1"))
    log._add(_event("f2", "fulfillment.completed.v1", "fulfillment", t0 + 1, correlation="j1"))
    assert log.completed == {"j1": t0}


def test_startup_line_of_salesflow_dev_is_understood() -> None:
    said = LINE.search("all seven services ready in 8.7s (broker 0.1s, migrations 2.3s while …)")
    assert said is not None
    assert (said["total"], said["broker"], said["mig"]) == ("8.7", "0.1", "2.3")
    plain = LINE.search("all seven services ready in 11.0s")
    assert plain is not None and plain["broker"] is None


def test_every_figure_gets_a_row_with_its_target_and_reference() -> None:
    results = {
        "references/embedded": {"raw_kafka_msgs_per_s": 10_000, "raw_kafka_rtt_p50_ms": 2.0},
        "hop/embedded": {"events_per_s": 5_000, "hop_p50_ms": 4.0},
        "system/references": {"raw_kafka_rtt_p99_ms": 5.0, "raw_sqlite_commits_per_s": 20_000},
        "system/flows": {"flows_per_s": 10.0, "deliveries_per_flow": 40.0},
        "system/handoffs": {
            "offers->orders": {"published": 3, "reacted": 3, "p50_ms": 4.0, "p99_ms": 10.0},
            "orders->aftersales": {"published": 3, "reacted": 0, "p50_ms": None, "p99_ms": None},
        },
        "system/memory_mb": {"leads": {"idle": 90.0, "peak_under_load": 95.5}},
        "system/startup": {"dev_ready_s": 9.5},
        "offers": {"error": "RuntimeError: boom"},
        "leads": {"import_rows_per_s": 60_000, "raw_sqlite_indexed_rows_per_s": 120_000},
        "orders": {"orders_per_s": 300.0, "reference": {"requests_per_s": 400.0}},
    }
    rows = {(r.bench, r.figure): r for r in report.rows(results)}
    hop = rows[("hop/embedded", "events_per_s")]
    assert (hop.target, hop.ratio) == ("≥ 5,000", "0.50×")
    assert rows[("hop/embedded", "hop_p50_ms")].ratio == "2.00×"
    assert rows[("system/flows", "flows_per_s")].target.startswith("≥ 200")
    # the hop's 5,000 deliveries/s over 40 per flow: 125 flows/s with no work but the handoffs
    ceiling = rows[("system/flows", "flows_per_s ceiling, handoffs alone")]
    assert (ceiling.value, ceiling.ratio) == ("125", "0.08×")
    assert rows[("system/handoffs", "offers->orders p99 ms")].ratio == "2.00×"
    assert rows[("system/handoffs", "offers->orders p99 ms")].target == "≤ 50"
    assert rows[("system/handoffs", "orders->aftersales")].value == "–"
    assert rows[("system/startup", "dev_ready_s")].target == "≤ 10"
    assert rows[("offers", "error")].value == "RuntimeError: boom"
    imported = rows[("leads", "import_rows_per_s")]
    assert (imported.target, imported.ratio) == ("≥ 100,000", "0.50×")
    assert imported.reference == "sqlite3 alone, same rows and indexes: 120,000 rows/s"
    intake = rows[("orders", "orders_per_s")]
    assert (intake.target, intake.ratio) == ("≥ 1,000", "0.75×")
    assert intake.reference == "plain FastAPI + SQLModel insert: 400 requests/s"
    assert report.table(results, 1.0).row_count == len(rows)


def test_traffic_counts_each_event_once_with_every_reader_of_its_topic() -> None:
    log = EventLog("unused:9092")
    t0 = 10.0
    log._add(_event("a1", "offer.accepted.v1", "offers", t0, topic="offers.offer.v1"))
    log._add(_event("a1", "offer.accepted.v1", "offers", t0 + 1, topic="offers.offer.v1"))
    log._add(_event("o1", "order.confirmed.v1", "orders", t0 + 0.5, topic="orders.order.v1"))
    log._add(_event("o0", "order.confirmed.v1", "orders", t0 - 1, topic="orders.order.v1"))
    offers_readers = len(all_topics()["offers.offer.v1"].consumers)
    orders_readers = len(all_topics()["orders.order.v1"].consumers)
    assert log.traffic(t0, t0 + 2) == (2, offers_readers + orders_readers)


def test_the_window_is_half_open() -> None:
    log = EventLog("unused:9092")
    t0 = 50.0
    log._add(_event("a1", "offer.accepted.v1", "offers", t0, topic="offers.offer.v1"))
    log._add(_event("o1", "order.received.v1", "orders", t0 + 0.001, cause="a1"))
    assert "offers->orders" not in log.handoffs(t0 - 1, t0)
    assert "offers->orders" in log.handoffs(t0, t0 + 1)


def test_handoff_splits_at_the_record_timestamp() -> None:
    log = EventLog("unused:9092")
    t0 = 100.0
    log._add(
        Seen(
            "a1", "offer.accepted.v1", "offers", t0, None, "j", "of1", "offers.offer.v1", t0 + 0.004
        )
    )
    log._add(_event("o1", "order.received.v1", "orders", t0 + 0.010, cause="a1"))
    figures = log.handoffs(t0, t0 + 1)["offers->orders"]
    assert (figures["relay_p50_ms"], figures["consumer_p50_ms"]) == (4.0, 6.0)


def test_record_timestamp_is_taken_from_the_record() -> None:
    headers = [("ce_id", b"e1"), ("ce_time", b"2026-01-01T00:00:00+00:00")]
    assert parse("t", headers, 1_700_000_000_123).published == 1_700_000_000.123
    assert parse("t", headers, -1).published is None
