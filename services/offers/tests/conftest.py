"""Fixtures of the offers service tests: the real app on a real broker and database, with a
clock the tests move."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test kit lives beside the tests

from offers_testkit import START, Harness

from offers.clock import FixedClock
from offers.config import Settings
from offers.main import SPEC, create_app
from salesflow.testing.helpers import running
from salesflow.testing.plugin import migrate


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def offers_settings(settings_for: Callable, database_url: str) -> Settings:
    await migrate(SPEC.migrations_dir, database_url)
    # expiry runs when a test says so (expire_due) or on a short interval in the expiry test
    return settings_for(Settings, expiry_interval_s=3600.0)


@pytest.fixture
async def svc(offers_settings: Settings, clock: FixedClock, broker: str) -> AsyncIterator[Harness]:
    app = create_app(offers_settings, clock)
    async with running(app) as client:
        harness = Harness(app, client, offers_settings, clock, broker)
        try:
            yield harness
        finally:
            await harness.close()
