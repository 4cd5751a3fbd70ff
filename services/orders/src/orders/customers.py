"""The customer master of the orders service: who may order directly, where to bill and ship,
and the credit position (limit and open order value)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.domain.lifecycle import OPEN_STATUSES
from orders.domain.money import from_minor, to_minor
from orders.domain.validation import Credit
from orders.tables import CustomerRow, OrderRow
from salesflow.contracts.events.offers import OfferAccepted
from salesflow.contracts.types import Money

_CUSTOMERS = CustomerRow.__table__
# when the customer's data was last set, its row locked for the rest of the transaction
_HELD_SINCE = (
    select(_CUSTOMERS.c.source_time)
    .where(_CUSTOMERS.c.customer_id == bindparam("customer_id"))
    .with_for_update()
)


# Statements run for every intake batch, built once (bound parameters; ``ids`` expands to the
# IN list): SQLAlchemy neither rebuilds them nor recomputes their cache keys each time.
_CUSTOMERS_BY_ID = select(CustomerRow).where(
    CustomerRow.customer_id.in_(bindparam("ids", expanding=True))
)
_ORDERS = OrderRow.__table__
_OPEN_VALUES = (
    select(_ORDERS.c.customer_id, _ORDERS.c.currency, func.sum(_ORDERS.c.gross_minor))
    .where(
        _ORDERS.c.customer_id.in_(bindparam("ids", expanding=True)),
        _ORDERS.c.status.in_([s.value for s in OPEN_STATUSES]),
    )
    .group_by(_ORDERS.c.customer_id, _ORDERS.c.currency)
)


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
    rows = await session.exec(_CUSTOMERS_BY_ID, params={"ids": wanted})
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
    rows = await session.execute(_OPEN_VALUES, {"ids": sorted({c for c, _ in wanted})})
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
) -> None:
    """Learn (or refresh) the customer from an accepted offer; an older event than the data we
    hold does not overwrite it. Core statements (one per accepted offer): the row is only
    written here, never needed as an ORM object."""
    company = offer.customer
    data: dict[str, object] = {
        "name": company.name,
        "snapshot": company.model_dump(mode="json"),
        "account_id": offer.account_id,
        "owner": offer.owner,
        "team": offer.team,
        "bill_to": offer.bill_to.model_dump(mode="json"),
        "ship_to": offer.ship_to.model_dump(mode="json"),
        "delivery_contact": offer.contact.model_dump(mode="json") if offer.contact else None,
    }
    held = (await session.execute(_HELD_SINCE, {"customer_id": company.company_id})).first()
    if held is None:  # a concurrent twin's insert ⇒ IntegrityError ⇒ the event is retried
        await session.execute(
            insert(_CUSTOMERS),
            {
                "customer_id": company.company_id,
                "source": "offer",
                "source_time": event_time,
                "version": 1,
                "credit_limit_minor": None,
                "credit_currency": None,
                "created_at": now,
                "updated_at": now,
                **data,
            },
        )
        return
    if event_time < held.source_time:
        return
    if data["account_id"] is None:
        del data["account_id"]  # an offer without account id does not forget a known one
    await session.execute(
        update(_CUSTOMERS)
        .where(_CUSTOMERS.c.customer_id == company.company_id)
        .values(
            **data,
            source="offer",
            source_time=event_time,
            version=_CUSTOMERS.c.version + 1,
            updated_at=now,
        )
    )


def limit_to_columns(limit: Money | None) -> dict[str, object]:
    if limit is None:
        return {"credit_limit_minor": None, "credit_currency": None}
    return {
        "credit_limit_minor": to_minor(limit.amount, limit.currency),
        "credit_currency": limit.currency,
    }
