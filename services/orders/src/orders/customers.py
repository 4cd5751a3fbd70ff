"""The customer master of the orders service: who may order directly, where to bill and ship,
and the credit position (limit and open order value)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.domain.lifecycle import OPEN_STATUSES
from orders.domain.money import from_minor, to_minor
from orders.domain.validation import Credit
from orders.tables import CustomerRow, OrderRow
from salesflow.contracts.events.offers import OfferAccepted
from salesflow.contracts.types import Money


async def lock_customers(session: AsyncSession, ids: Iterable[str]) -> dict[str, CustomerRow]:
    """Customer rows, locked until the transaction ends (PostgreSQL; SQLite writers are
    serialised anyway): for read-modify-write of the master data."""
    wanted = sorted(set(ids))  # one lock order for everybody: no deadlocks
    if not wanted:
        return {}
    rows = await session.exec(
        select(CustomerRow)
        .where(CustomerRow.customer_id.in_(wanted))
        .order_by(CustomerRow.customer_id)
        .with_for_update()
    )
    return {row.customer_id: row for row in rows.all()}


async def load_customers(session: AsyncSession, ids: Iterable[str]) -> dict[str, CustomerRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.exec(select(CustomerRow).where(CustomerRow.customer_id.in_(wanted)))
    return {row.customer_id: row for row in rows.all()}


def credit_limit(customer: CustomerRow | None, default: Money | None) -> Money | None:
    if customer is not None and customer.credit_limit_minor is not None:
        currency = customer.credit_currency or "EUR"
        return Money(amount=from_minor(customer.credit_limit_minor, currency), currency=currency)
    return default


async def open_values(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Decimal]:
    """Gross value of the open orders per (customer, currency)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await session.execute(
        select(OrderRow.customer_id, OrderRow.currency, func.sum(OrderRow.gross_minor))
        .where(
            OrderRow.customer_id.in_(sorted({c for c, _ in wanted})),
            OrderRow.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .group_by(OrderRow.customer_id, OrderRow.currency)
    )
    found = {(c, cur): from_minor(int(total or 0), cur) for c, cur, total in rows.all()}
    return {key: found.get(key, Decimal(0)) for key in wanted}


def credit_position(
    customer: CustomerRow | None, default: Money | None, open_by_key: dict[tuple[str, str], Decimal]
) -> Credit:
    limit = credit_limit(customer, default)
    if limit is None or customer is None:
        return Credit(limit)
    return Credit(limit, open_by_key.get((customer.customer_id, limit.currency), Decimal(0)))


async def upsert_from_offer(
    session: AsyncSession, offer: OfferAccepted, event_time: datetime, now: datetime
) -> CustomerRow:
    """Learn (or refresh) the customer from an accepted offer; an older event than the data we
    hold does not overwrite it."""
    company = offer.customer
    row = (await lock_customers(session, [company.company_id])).get(company.company_id)
    data = {
        "name": company.name,
        "snapshot": company.model_dump(mode="json"),
        "account_id": offer.account_id,
        "owner": offer.owner,
        "team": offer.team,
        "bill_to": offer.bill_to.model_dump(mode="json"),
        "ship_to": offer.ship_to.model_dump(mode="json"),
        "delivery_contact": offer.contact.model_dump(mode="json") if offer.contact else None,
    }
    if row is None:
        row = CustomerRow(
            customer_id=company.company_id,
            source="offer",
            source_time=event_time,
            created_at=now,
            updated_at=now,
            **data,
        )
        session.add(row)
        await session.flush()
        return row
    if event_time >= row.source_time:
        for name, value in data.items():
            if name == "account_id" and value is None:
                continue  # an offer without account id does not forget a known one
            setattr(row, name, value)
        row.source, row.source_time = "offer", event_time
        row.version += 1
        row.updated_at = now
        session.add(row)
    return row


def limit_to_columns(limit: Money | None) -> dict[str, object]:
    if limit is None:
        return {"credit_limit_minor": None, "credit_currency": None}
    return {
        "credit_limit_minor": to_minor(limit.amount, limit.currency),
        "credit_currency": limit.currency,
    }
