"""Health inputs are read in one query: every factor counted for the right account only, rows
added earlier in the same unit of work included (the session flushes them first)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from aftersales_testkit import fulfillment_completed, seed, settings
from sqlmodel import select

from aftersales.accounts import health_inputs
from aftersales.main import SPEC
from aftersales.tables import AccountRow, AssetRow, OrderRow, TicketRow
from salesflow.db import Database
from salesflow.testing.plugin import migrate

DELIVERED = date(2025, 12, 1)  # care contract (12 months) ends 2026-11-30
NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # 60 days before: within the notice period


def _ticket(account_id: str, severity: str, status: str, opened_at: datetime, **kw) -> TicketRow:
    return TicketRow(
        id=str(uuid.uuid4()),
        account_id=account_id,
        channel="phone",
        severity=severity,
        summary="broken",
        description="it is broken",
        status=status,
        opened_by="sam",
        opened_at=opened_at,
        correlation_id="c-1",
        updated_at=opened_at,
        **kw,
    )


def _order(account_id: str, order_id: str, status: str) -> OrderRow:
    return OrderRow(
        order_id=order_id,
        order_number=f"SO-{order_id}",
        company_id="co-1",
        account_id=account_id,
        status=status,
        channel="offer",
        version=1,
        currency="EUR",
        correlation_id="c-2",
        first_seen_at=NOW,
        updated_at=NOW,
    )


async def test_health_inputs_count_each_factor_of_the_account_only(
    settings_for, database_url
) -> None:
    cfg = settings(settings_for)
    await migrate(SPEC.migrations_dir, database_url)
    db = Database(database_url)
    try:
        await seed(db, cfg, fulfillment_completed(delivered_on=DELIVERED), now=NOW)
        other = fulfillment_completed(
            order_id="ord-9",
            fulfillment_id="ful-9",
            company={"company_id": "co-9", "name": "Other AG", "country": "DE"},
            delivered_on=DELIVERED,
        )
        await seed(db, cfg, other, now=NOW)
        async with db.session() as session, session.begin():
            accounts = (await session.exec(select(AccountRow))).all()
            mine = next(a for a in accounts if a.company_id == "co-1")
            theirs = next(a for a in accounts if a.company_id == "co-9")
            recent, old = NOW - timedelta(days=3), NOW - timedelta(days=400)
            for row in (
                _ticket(mine.id, "P1", "open", recent),
                _ticket(mine.id, "P3", "in_progress", recent, first_response_breached=True),
                _ticket(mine.id, "P3", "waiting_customer", recent),
                _ticket(mine.id, "P2", "resolved", recent, resolution_breached=True),
                _ticket(mine.id, "P2", "closed", old, resolution_breached=True),  # too old
                _ticket(theirs.id, "P1", "open", recent, first_response_breached=True),
                _order(mine.id, "ord-2", "confirmed"),
                _order(mine.id, "ord-3", "rejected"),
                _order(theirs.id, "ord-8", "confirmed"),
                AssetRow(  # added in this unit of work, not flushed yet
                    id=str(uuid.uuid4()),
                    account_id=mine.id,
                    kind="goods",
                    sku="X-1",
                    quantity=Decimal(1),
                    order_id="ord-2",
                    order_number="SO-ord-2",
                    line_no=1,
                    unit_no=0,
                    fulfillment_id="ful-2",
                    delivered_on=date(2024, 11, 1),
                    warranty_end=date(2026, 10, 31),
                    correlation_id="c-2",
                    created_at=NOW,
                ),
            ):
                session.add(row)
            inputs = await health_inputs(session, cfg, mine, NOW)
        assert dict(inputs.open_tickets) == {"P1": 1, "P3": 2}
        assert inputs.sla_breaches == 2  # the in-progress P3 and the recently resolved P2
        assert inputs.repeat_orders == 1  # ord-2 (the first order and rejected ones do not count)
        assert inputs.renewals_due == 2  # the care contract and the new asset's warranty
    finally:
        await db.dispose()
