"""Order numbers: gapless and unique under concurrency, one series per year."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from orders_support import DESK, seed_master_data

from orders.config import Settings
from orders.main import SPEC, create_app
from salesflow.testing.helpers import running
from salesflow.testing.plugin import migrate

ORDER = {"customer_id": "cust-1", "lines": [{"sku": "WIDGET", "quantity": "1"}]}


@pytest.mark.parametrize("group_commit", [False, True], ids=["per-request", "group-commit"])
async def test_500_concurrent_intakes_get_500_consecutive_numbers(
    settings_for, database_url, group_commit: bool
) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    app = create_app(settings_for(Settings, intake_group_commit=group_commit))
    async with running(app) as client:
        await seed_master_data(client)
        year = datetime.now(UTC).year
        started = time.perf_counter()

        async def place(i: int) -> dict:
            headers = {**DESK, "Idempotency-Key": f"n-{i}"} if i % 2 else DESK
            resp = await client.post("/orders", json=ORDER, headers=headers)
            assert resp.status_code == 201, resp.text
            return resp.json()

        orders = await asyncio.gather(*(place(i) for i in range(500)))
        elapsed = time.perf_counter() - started
        numbers = sorted(int(o["order_number"].rsplit("-", 1)[1]) for o in orders)
        assert numbers == list(range(1, 501)), "numbers must be distinct and consecutive"
        assert {o["order_number"].rsplit("-", 1)[0] for o in orders} == {f"SO-{year}"}
        assert len({o["id"] for o in orders}) == 500
        print(f"500 concurrent intakes in {elapsed:.1f}s")


async def test_each_year_has_its_own_series(settings_for, database_url) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    now = [datetime(2026, 12, 31, 22, 59, tzinfo=UTC)]
    settings = settings_for(
        Settings, order_number_timezone="Europe/Berlin", order_number_prefix="AB"
    )
    app = create_app(settings, clock=lambda: now[0])
    async with running(app) as client:
        await seed_master_data(client)

        async def number() -> str:
            resp = await client.post("/orders", json=ORDER, headers=DESK)
            return resp.json()["order_number"]

        assert [await number(), await number()] == ["AB-2026-000001", "AB-2026-000002"]
        now[0] = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # midnight in Berlin
        assert [await number(), await number()] == ["AB-2027-000001", "AB-2027-000002"]
