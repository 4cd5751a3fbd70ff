"""The `salesflow demo` driver finds its journey's account however many accounts exist: lists
are oldest first and paged by 50, so a new account sits beyond the first page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aftersales_testkit import (
    COMPANY,
    Clock,
    fulfillment_completed,
    order_event,
    seed,
    service,
    settings,
)

from salesflow.demo.journey import Driver, Journey
from salesflow.testing.helpers import bearer

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ACCOUNTS = 55  # more than one default page (50)


async def test_demo_finds_account_beyond_the_first_page(settings_for) -> None:
    cfg = settings(settings_for)
    async with service(cfg, Clock(NOW)) as (app, client):
        for n in range(ACCOUNTS):
            company = {**COMPANY, "company_id": f"co-{n}", "name": f"Firma {n} GmbH"}
            order = order_event("order.received.v1", order_id=f"ord-{n}", company=company)
            delivery = fulfillment_completed(
                order_id=f"ord-{n}", fulfillment_id=f"ful-{n}", company=company
            )
            # later accounts are created later: the newest is last in the list
            await seed(app.state.db, cfg, order, delivery, now=NOW + timedelta(seconds=n))
        first_page = await client.get("/accounts", headers=bearer("sam", ["service_agent"]))
        assert first_page.json()["next_cursor"], "the test needs more than one page"

        driver = Driver({})
        driver.http = {"aftersales": client}
        last = ACCOUNTS - 1
        # by the company filter
        found = await driver.find_account(
            Journey("j", company_id=f"co-{last}", order_id=f"ord-{last}")
        )
        assert found is not None and found["company_id"] == f"co-{last}"
        # and by walking every page when the company is not known (small pages: several)
        driver.page_size = 10
        found = await driver.find_account(Journey("j", order_id=f"ord-{last}"))
        assert found is not None and found["company_id"] == f"co-{last}"
        assert await driver.find_account(Journey("j", company_id="co-0", order_id="nope")) is None


async def test_accounts_filter_by_company(settings_for) -> None:
    cfg = settings(settings_for)
    async with service(cfg, Clock(NOW)) as (app, client):
        other = {**COMPANY, "company_id": "co-2", "name": "Nord GmbH"}
        await seed(
            app.state.db,
            cfg,
            fulfillment_completed(),
            fulfillment_completed(order_id="ord-2", fulfillment_id="ful-2", company=other),
            now=NOW,
        )
        agent = bearer("sam", ["service_agent"])
        resp = await client.get("/accounts", params={"company_id": "co-2"}, headers=agent)
        assert [a["company_id"] for a in resp.json()["items"]] == ["co-2"]
        resp = await client.get("/accounts", params={"company_id": "co-x"}, headers=agent)
        assert resp.json()["items"] == []
