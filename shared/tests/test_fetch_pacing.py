"""Fetch waits follow the traffic (pure rule; the consumers apply it to aiokafka's fetcher)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from salesflow.messaging import kafka
from salesflow.messaging.kafka import FetchPacer
from salesflow.settings import ServiceSettings


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    now = SimpleNamespace(t=1000.0)
    monkeypatch.setattr(kafka.time, "monotonic", lambda: now.t)
    return now


def pacer_for(**settings: object) -> tuple[FetchPacer, SimpleNamespace]:
    fetcher = SimpleNamespace(_fetch_max_wait_ms=0)
    pacer = FetchPacer(SimpleNamespace(_fetcher=fetcher), ServiceSettings(**settings))  # type: ignore[arg-type]
    return pacer, fetcher


def test_waits_are_short_while_records_flow_longer_in_a_lull_long_when_idle(clock) -> None:
    pacer, fetcher = pacer_for(
        kafka_fetch_max_wait_ms=10,
        kafka_fetch_lull_wait_ms=40,
        kafka_fetch_idle_wait_ms=250,
        consumer_lull_after_s=0.02,
        consumer_idle_after_s=2.0,
    )
    assert pacer.poll_timeout_ms == 20  # polls often enough to notice a lull beginning
    pacer.observe(True)
    assert fetcher._fetch_max_wait_ms == 10
    clock.t += 0.01
    pacer.observe(False)  # a gap shorter than a lull changes nothing
    assert fetcher._fetch_max_wait_ms == 10
    clock.t += 0.02
    pacer.observe(False)
    assert fetcher._fetch_max_wait_ms == 40
    clock.t += 2.0
    pacer.observe(False)
    assert fetcher._fetch_max_wait_ms == 250
    pacer.observe(True)  # the first records bring the short waits back at once
    assert fetcher._fetch_max_wait_ms == 10


def test_the_lull_wait_stays_between_the_busy_and_the_idle_wait(clock) -> None:
    pacer, _ = pacer_for(
        kafka_fetch_max_wait_ms=50, kafka_fetch_lull_wait_ms=10, kafka_fetch_idle_wait_ms=30
    )
    assert (pacer.busy_ms, pacer.lull_ms, pacer.idle_ms) == (50, 50, 50)


def test_a_client_without_the_private_attribute_keeps_its_configured_wait(clock) -> None:
    pacer = FetchPacer(SimpleNamespace(), ServiceSettings())  # type: ignore[arg-type]
    pacer.observe(False)  # nothing to set, nothing raised
    assert pacer.fetcher is None
