"""The hop benchmark runs end to end on the test broker (a few hundred events): both of its
processes start, every event arrives, the figures come back. Figures, not a timed test."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds `bench`

from bench.hop import run_hop


async def test_hop_bench_carries_every_event_to_the_consumer_process(broker: str) -> None:
    figures = await run_hop(broker, n=300, light=20)
    assert set(figures) == {"events_per_s", "hop_p50_ms", "hop_p99_ms"}
    assert figures["events_per_s"] > 0
    assert 0 < figures["hop_p50_ms"] <= figures["hop_p99_ms"]
