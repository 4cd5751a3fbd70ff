"""Accounts and their installed base, built from ``fulfillment.completed`` and ``order.*``;
account health. Functions take the caller's session: they are one step of its unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    union_all,
    update,
)
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from aftersales.config import Settings
from aftersales.domain.health import Health, HealthInputs, health_score
from aftersales.domain.installed_base import NewAsset, assets_from_delivery
from aftersales.domain.tickets import ACTIVE
from aftersales.tables import AccountRow, AssetRow, DeliveryRow, FollowupRow, OrderRow, TicketRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.aftersales import AccountOnboarded, Asset
from salesflow.contracts.events.common import CompanySnapshot
from salesflow.contracts.events.fulfillment import FulfillmentCompleted
from salesflow.contracts.events.orders import OrderEvent, OrderReceived
from salesflow.db import UTCDateTime
from salesflow.messaging.handlers import emit

NOT_ORDERED = ("rejected", "cancelled")  # orders that do not count as business
MAX_PREVIOUS_JOURNEYS = 20


# By our id if the event names one, else by the customer's company (unique): one query, the
# row matching by id first.
_ACCOUNT_BY_ID_OR_COMPANY = (
    select(AccountRow)
    .where(
        or_(AccountRow.id == bindparam("account_id"), AccountRow.company_id == bindparam("company"))
    )
    .order_by(case((AccountRow.id == bindparam("account_id"), 0), else_=1))
    .limit(1)
)
_KNOWN_ASSETS = select(AssetRow.id).where(col(AssetRow.id).in_(bindparam("ids", expanding=True)))
_DELIVERY_KNOWN = select(DeliveryRow.fulfillment_id).where(
    DeliveryRow.fulfillment_id == bindparam("fulfillment_id")
)


async def find_account(
    session: AsyncSession, account_id: str | None, company_id: str
) -> AccountRow | None:
    """By our id when the event carries one, else by the customer's company."""
    params = {"account_id": account_id or None, "company": company_id}
    return (await session.exec(_ACCOUNT_BY_ID_OR_COMPANY, params=params)).first()


async def record_delivery(
    session: AsyncSession, settings: Settings, event: Envelope, now: datetime
) -> AccountRow | None:
    """Account (created on the first delivery) and installed base from one completed
    fulfilment. Idempotent by fulfilment id and by asset (order, line, unit)."""
    payload: FulfillmentCompleted = event.payload()  # type: ignore[assignment]
    known = await session.execute(_DELIVERY_KNOWN, {"fulfillment_id": payload.fulfillment_id})
    if known.first() is not None:
        return None  # already taken in: redelivered or re-emitted
    account = await find_account(session, payload.account_id, payload.customer.company_id)
    onboarding = account is None
    if account is None:
        account = _new_account(payload, event, now)
        session.add(account)
        await session.flush()  # unique company_id: a concurrent twin fails here and retries
    else:
        _update_company(account, payload.customer, event.time, now)
        if account.owner is None and payload.owner:
            account.owner, account.team = payload.owner, payload.team
        session.add(account)
    # the delivered order belongs to the account, as do (when it is new) orders of its company
    # seen before it existed
    await _adopt_orders(session, account, payload.order_id, company=onboarding)

    planned = assets_from_delivery(payload.order_id, payload.items, settings.product_terms())
    known = set(
        (await session.execute(_KNOWN_ASSETS, {"ids": [a.asset_id for a in planned]})).scalars()
    )
    # Core inserts: the rows are not read back in this unit of work, so no ORM objects are needed
    new_assets = [
        _asset_values(asset, account.id, payload, event, now)
        for asset in planned
        if asset.asset_id not in known
    ]
    if new_assets:
        await session.execute(insert(AssetRow.__table__), new_assets)
    await session.execute(
        insert(DeliveryRow.__table__),
        {
            "fulfillment_id": payload.fulfillment_id,
            "account_id": account.id,
            "order_id": payload.order_id,
            "version": payload.version,
            "completed_at": payload.completed_at,
            "recorded_at": now,
        },
    )
    if onboarding:
        emit(
            session,
            settings,
            "account.onboarded.v1",
            account.id,
            AccountOnboarded(
                account_id=account.id,
                version=account.version,
                company=payload.customer,
                owner=account.owner,
                team=account.team,
                order_id=payload.order_id,
                order_number=payload.order_number,
                fulfillment_id=payload.fulfillment_id,
                installed_base=[_asset_contract(a, payload.order_id) for a in planned],
            ),
            cause=event,
        )
    await refresh_health(session, settings, account, now)
    return account


_ORDERS = OrderRow.__table__.c
_ADOPT = {  # by order only / also by company: plain Core, built once
    by_company: update(OrderRow.__table__)
    .where(
        or_(_ORDERS.company_id == bindparam("company"), _ORDERS.order_id == bindparam("order"))
        if by_company
        else _ORDERS.order_id == bindparam("order"),
        _ORDERS.account_id.is_(None),
    )
    .values(account_id=bindparam("new_account_id"))
    for by_company in (False, True)
}


async def _adopt_orders(
    session: AsyncSession, account: AccountRow, order_id: str, *, company: bool
) -> None:
    """Give unowned orders (the delivered one; with ``company`` all of the account's company)
    to ``account``. Plain Core unless order rows are loaded in the session: then the ORM UPDATE,
    which keeps them in step."""
    if any(isinstance(row, OrderRow) for row in session.sync_session.identity_map.values()):
        unowned = OrderRow.order_id == order_id
        if company:
            unowned = or_(unowned, OrderRow.company_id == account.company_id)
        await session.execute(
            update(OrderRow)
            .where(unowned, col(OrderRow.account_id).is_(None))
            .values(account_id=account.id)
        )
        return
    await session.execute(
        _ADOPT[company],
        {"order": order_id, "company": account.company_id, "new_account_id": account.id},
    )


async def record_order(
    session: AsyncSession, settings: Settings, event: Envelope, now: datetime
) -> None:
    """Keep the customer's orders; later orders update the account. Stale versions are
    dropped (only missing line prices of ``order.received`` are still taken)."""
    payload: OrderEvent = event.payload()  # type: ignore[assignment]
    row = await session.get(OrderRow, payload.order_id)
    if row is not None and row.version >= payload.version:
        if isinstance(payload, OrderReceived) and not row.lines:
            row.lines = _priced_lines(payload)
            session.add(row)
        return
    account = await find_account(session, payload.account_id, payload.customer.company_id)
    if row is None:  # Core INSERT, no ORM object: a later event of this unit of work loads it
        await session.execute(insert(OrderRow.__table__), _new_order(payload, event, now, account))
    else:
        row.status, row.version, row.updated_at = str(payload.status), payload.version, now
        row.order_number, row.channel, row.currency = (
            payload.order_number,
            str(payload.channel),
            payload.currency,
        )
        totals = getattr(payload, "totals", None)
        if totals is not None:
            row.net_amount = totals.net.amount
        if isinstance(payload, OrderReceived):
            row.lines = _priced_lines(payload)
        if account is not None:
            row.account_id = account.id
        session.add(row)
    if account is not None:
        _update_company(account, payload.customer, event.time, now)
        session.add(account)
        await refresh_health(session, settings, account, now)


def _new_order(
    payload: OrderEvent, event: Envelope, now: datetime, account: AccountRow | None
) -> dict[str, Any]:
    """The columns of the first row of an order."""
    totals = getattr(payload, "totals", None)
    return {
        "order_id": payload.order_id,
        "order_number": payload.order_number,
        "company_id": payload.customer.company_id,
        "account_id": None if account is None else account.id,
        "status": str(payload.status),
        "channel": str(payload.channel),
        "version": payload.version,
        "currency": payload.currency,
        "net_amount": None if totals is None else totals.net.amount,
        "lines": _priced_lines(payload) if isinstance(payload, OrderReceived) else {},
        "correlation_id": event.correlation_id,
        "first_seen_at": event.time,
        "updated_at": now,
    }


def _priced_lines(payload: OrderReceived) -> dict:
    return {
        str(line.line_no): {
            "sku": line.sku,
            "quantity": str(line.quantity),
            "net": str(line.net.amount),
            "currency": line.net.currency,
        }
        for line in payload.lines
    }


def _new_account(payload: FulfillmentCompleted, event: Envelope, now: datetime) -> AccountRow:
    return AccountRow(
        id=str(uuid.uuid4()),
        company_id=payload.customer.company_id,
        name=payload.customer.name,
        company=payload.customer.model_dump(mode="json"),
        company_as_of=event.time,
        status="active",
        owner=payload.owner,
        team=payload.team,
        correlation_id=event.correlation_id,
        first_order_id=payload.order_id,
        first_fulfillment_id=payload.fulfillment_id,
        onboarded_at=payload.completed_at,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _update_company(
    account: AccountRow, company: CompanySnapshot, as_of: datetime, now: datetime
) -> None:
    """A newer snapshot replaces the stored one; an older one changes nothing."""
    if as_of <= account.company_as_of:
        return
    account.company = company.model_dump(mode="json")
    account.name = company.name
    account.company_as_of = as_of
    account.version += 1
    account.updated_at = now


def _asset_values(
    asset: NewAsset, account_id: str, payload: FulfillmentCompleted, event: Envelope, now: datetime
) -> dict[str, Any]:
    """The columns of a new asset row."""
    return {
        "id": asset.asset_id,
        "account_id": account_id,
        "kind": asset.kind,
        "sku": asset.sku,
        "description": asset.description,
        "serial_number": asset.serial_number,
        "quantity": asset.quantity,
        "order_id": payload.order_id,
        "order_number": payload.order_number,
        "line_no": asset.line_no,
        "unit_no": asset.unit_no,
        "fulfillment_id": payload.fulfillment_id,
        "delivered_on": asset.delivered_on,
        "warranty_end": asset.warranty_end,
        "contract_end": asset.contract_end,
        "correlation_id": event.correlation_id,
        "created_at": now,
    }


def _asset_contract(asset: NewAsset, order_id: str) -> Asset:
    return Asset(
        asset_id=asset.asset_id,
        sku=asset.sku,
        description=asset.description,
        serial_number=asset.serial_number,
        quantity=asset.quantity,
        order_id=order_id,
        delivered_on=asset.delivered_on,
        warranty_end=asset.warranty_end,
        kind=asset.kind,
        contract_end=asset.contract_end,
        line_no=asset.line_no,
    )


# --- health -----------------------------------------------------------------------------------


# The health inputs in one round trip (each event of an account recomputes its health): rows of
# (key, count), the key being a ticket severity or one of the names below. Built once, since
# building the statement costs more CPU than running it.
_BREACHES, _REPEAT_ORDERS, _RENEWALS = "#breaches", "#repeat_orders", "#renewals"
_ACCOUNT_ID = bindparam("account_id")
_TODAY, _HORIZON = bindparam("today", type_=Date), bindparam("horizon", type_=Date)
_HEALTH_INPUTS = union_all(
    select(TicketRow.severity, func.count())
    .where(
        TicketRow.account_id == _ACCOUNT_ID,
        col(TicketRow.status).in_(sorted(s.value for s in ACTIVE)),
    )
    .group_by(TicketRow.severity),
    select(literal_column(f"'{_BREACHES}'"), func.count())
    .select_from(TicketRow)
    .where(
        TicketRow.account_id == _ACCOUNT_ID,
        col(TicketRow.opened_at) >= bindparam("since", type_=UTCDateTime()),
        or_(col(TicketRow.first_response_breached), col(TicketRow.resolution_breached)),
    ),
    select(literal_column(f"'{_REPEAT_ORDERS}'"), func.count())
    .select_from(OrderRow)
    .where(
        OrderRow.account_id == _ACCOUNT_ID,
        OrderRow.order_id != bindparam("first_order_id"),
        col(OrderRow.status).not_in(NOT_ORDERED),
    ),
    *(
        select(literal_column(f"'{_RENEWALS}'"), func.count())
        .select_from(AssetRow)
        .where(AssetRow.account_id == _ACCOUNT_ID, col(column).between(_TODAY, _HORIZON))
        for column in (AssetRow.warranty_end, AssetRow.contract_end)
    ),
)


async def health_inputs(
    session: AsyncSession, settings: Settings, account: AccountRow, now: datetime
) -> HealthInputs:
    today = settings.calendar().local_date(now)
    params = {
        "account_id": account.id,
        "first_order_id": account.first_order_id,
        "since": now - timedelta(days=settings.health_window_days),
        "today": today,
        "horizon": today + timedelta(days=settings.renewal_notice_days),
    }
    # ORM-enabled: the session autoflushes first, so rows added in this unit of work count
    counts: dict[str, int] = {}
    open_tickets: dict[str, int] = {}
    for key, n in (await session.execute(_HEALTH_INPUTS, params)).all():
        if key.startswith("#"):
            counts[key] = counts.get(key, 0) + n
        else:
            open_tickets[key] = n
    return HealthInputs(
        open_tickets=open_tickets,
        sla_breaches=counts.get(_BREACHES, 0),
        repeat_orders=counts.get(_REPEAT_ORDERS, 0),
        renewals_due=counts.get(_RENEWALS, 0),
    )


async def refresh_health(
    session: AsyncSession, settings: Settings, account: AccountRow, now: datetime
) -> Health:
    """Recompute and store the score (stored so that lists can filter by it)."""
    health = health_score(await health_inputs(session, settings, account, now))
    if (account.health_score, account.health_band) != (health.score, health.band):
        account.health_score, account.health_band = health.score, health.band
        account.updated_at = now
        session.add(account)
    return health


async def previous_correlation_ids(session: AsyncSession, account: AccountRow) -> list[str]:
    """Journeys this account has been part of, newest first: its orders, its onboarding and
    earlier follow-ups."""
    seen: list[tuple[datetime, str]] = [(account.onboarded_at, account.correlation_id)]
    orders = await session.exec(
        select(OrderRow.first_seen_at, OrderRow.correlation_id).where(
            OrderRow.account_id == account.id
        )
    )
    followups = await session.exec(
        select(FollowupRow.created_at, FollowupRow.correlation_id).where(
            FollowupRow.account_id == account.id
        )
    )
    seen += list(orders.all()) + list(followups.all())
    ordered = [cid for _, cid in sorted(seen, key=lambda item: item[0], reverse=True)]
    return list(dict.fromkeys(ordered))[:MAX_PREVIOUS_JOURNEYS]
