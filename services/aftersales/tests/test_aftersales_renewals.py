"""Renewals: a warranty or contract ending within the notice period raises one renewal
follow-up per asset and kind — however often the scan runs, by hand or in the background."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from aftersales_testkit import (
    COMPANY,
    Clock,
    fulfillment_completed,
    order_event,
    outbox,
    seed,
    service,
    settings,
)
from sqlalchemy import func
from sqlmodel import select

from aftersales.followups import raise_renewals
from aftersales.tables import FollowupRow, RenewalRow
from salesflow.testing.helpers import bearer, eventually

AGENT = bearer("sam", ["service_agent"])
DELIVERED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def followups(db) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(FollowupRow))).one()


async def test_renewal_raised_once_per_asset_and_kind(settings_for) -> None:
    cfg = settings(
        settings_for,
        consumers_enabled=False,
        renewal_notice_days=90,
        renewal_scan_interval_s=0.05,
    )
    # the background scan starts at a time when nothing is due yet
    clock = Clock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    async with service(cfg, clock) as (app, client):
        db = app.state.db
        received = order_event("order.received.v1")
        other = {**COMPANY, "company_id": "co-2", "name": "Ohne Vertrag KG"}
        await seed(
            db,
            cfg,
            received,
            fulfillment_completed(cause=received),
            fulfillment_completed(
                order_id="ord-7",
                fulfillment_id="ful-7",
                company=other,
                delivered_on=date(2026, 5, 1),
                items=[
                    {
                        "line_no": 1,
                        "sku": "DRILL-1",
                        "kind": "goods",
                        "quantity": "1",
                        "unit": "C62",
                        "delivered_on": "2026-05-01",
                    }
                ],
            ),
            now=DELIVERED,
        )
        assert await raise_renewals(db, cfg, clock.now) == []

        # the care contract (delivered 2026-03-02, 12 months) ends 2027-03-01
        now = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
        first = await raise_renewals(db, cfg, now)
        assert len(first) == 1
        assert await raise_renewals(db, cfg, now) == []
        clock.now = now  # the background scan sees the same and raises nothing more

        events = await outbox(db, "followup.identified.v1")
        assert len(events) == 1
        renewal = events[0].payload()
        assert renewal.kind == "renewal" and renewal.followup_id == first[0]
        assert renewal.due_date == date(2027, 3, 1)
        assert renewal.estimated_value.amount == Decimal("1200.00")  # the contract's last price
        assert renewal.estimated_value.currency == "EUR"
        assert renewal.owner == "alice" and renewal.identified_by is None
        assert renewal.previous_correlation_ids == [received.correlation_id]
        assert events[0].correlation_id not in renewal.previous_correlation_ids
        account_id = renewal.account_id
        contract_id = renewal.asset_ids[0]

        # nearly two years later the lathes' warranties (36 months → 2029-03-01) come due:
        # the background scan raises one follow-up for both, once
        clock.now = datetime(2028, 12, 15, 9, 0, tzinfo=UTC)

        async def two() -> bool:
            return await followups(db) == 2

        await eventually(two, timeout=10, message="background scan raised no renewal")
        assert await raise_renewals(db, cfg, clock.now) == []
        events = await outbox(db, "followup.identified.v1")
        assert len(events) == 2
        warranty = events[1].payload()
        assert len(warranty.asset_ids) == 2 and contract_id not in warranty.asset_ids
        assert warranty.due_date == date(2029, 3, 1)
        # 8 % of 28,800.00 for the two lathes
        assert warranty.estimated_value.amount == Decimal("2304.00")
        assert warranty.previous_correlation_ids[0] == events[0].correlation_id

        async with db.session() as session:
            rows = (await session.exec(select(RenewalRow.asset_id, RenewalRow.kind))).all()
        assert sorted(k for _, k in rows) == ["contract", "warranty", "warranty"]
        detail = (await client.get(f"/accounts/{account_id}", headers=AGENT)).json()
        assert len(detail["renewals"]) == 3
        assert {a["renewal_due"] for a in detail["installed_base"] if a["kind"] == "goods"} == {
            True
        }
        factors = {f["factor"]: f["count"] for f in detail["health"]["breakdown"]}
        assert factors["renewals_due"] == 2
        listed = (await client.get("/followups", headers=AGENT, params={"kind": "renewal"})).json()
        assert [f["id"] for f in listed["items"]] == [e.payload().followup_id for e in events]
