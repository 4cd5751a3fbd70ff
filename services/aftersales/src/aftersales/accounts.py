"""Accounts and their installed base, built from ``fulfillment.completed`` and ``order.*``;
account health. Functions take the caller's session: they are one step of its unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import select
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
from salesflow.messaging.handlers import emit

NOT_ORDERED = ("rejected", "cancelled")  # orders that do not count as business
MAX_PREVIOUS_JOURNEYS = 20


async def find_account(
    session: AsyncSession, account_id: str | None, company_id: str
) -> AccountRow | None:
    """By our id when the event carries one, else by the customer's company."""
    if account_id:
        account = await session.get(AccountRow, account_id)
        if account is not None:
            return account
    return (
        await session.exec(select(AccountRow).where(AccountRow.company_id == company_id))
    ).first()


async def record_delivery(
    session: AsyncSession, settings: Settings, event: Envelope, now: datetime
) -> AccountRow | None:
    """Account (created on the first delivery) and installed base from one completed
    fulfilment. Idempotent by fulfilment id and by asset (order, line, unit)."""
    payload: FulfillmentCompleted = event.payload()  # type: ignore[assignment]
    if await session.get(DeliveryRow, payload.fulfillment_id) is not None:
        return None  # already taken in: redelivered or re-emitted
    account = await find_account(session, payload.account_id, payload.customer.company_id)
    onboarding = account is None
    if account is None:
        account = _new_account(payload, event, now)
        session.add(account)
        await session.flush()  # unique company_id: a concurrent twin fails here and retries
        await session.execute(  # orders seen before the account existed belong to it
            update(OrderRow)
            .where(OrderRow.company_id == account.company_id, OrderRow.account_id.is_(None))
            .values(account_id=account.id)
        )
    else:
        _update_company(account, payload.customer, event.time, now)
        if account.owner is None and payload.owner:
            account.owner, account.team = payload.owner, payload.team
        session.add(account)

    planned = assets_from_delivery(payload.order_id, payload.items, settings.product_terms())
    known = set(
        (
            await session.exec(
                select(AssetRow.id).where(AssetRow.id.in_([a.asset_id for a in planned]))
            )
        ).all()
    )
    for asset in planned:
        if asset.asset_id not in known:
            session.add(_asset_row(asset, account.id, payload, event, now))
    session.add(
        DeliveryRow(
            fulfillment_id=payload.fulfillment_id,
            account_id=account.id,
            order_id=payload.order_id,
            version=payload.version,
            completed_at=payload.completed_at,
            recorded_at=now,
        )
    )
    await session.execute(
        update(OrderRow)
        .where(OrderRow.order_id == payload.order_id, OrderRow.account_id.is_(None))
        .values(account_id=account.id)
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
    if row is None:
        row = OrderRow(
            order_id=payload.order_id,
            order_number=payload.order_number,
            company_id=payload.customer.company_id,
            status=str(payload.status),
            channel=str(payload.channel),
            version=payload.version,
            currency=payload.currency,
            correlation_id=event.correlation_id,
            first_seen_at=event.time,
            updated_at=now,
        )
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
        _update_company(account, payload.customer, event.time, now)
        session.add(account)
    session.add(row)
    if account is not None:
        await refresh_health(session, settings, account, now)


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


def _asset_row(
    asset: NewAsset, account_id: str, payload: FulfillmentCompleted, event: Envelope, now: datetime
) -> AssetRow:
    return AssetRow(
        id=asset.asset_id,
        account_id=account_id,
        kind=asset.kind,
        sku=asset.sku,
        description=asset.description,
        serial_number=asset.serial_number,
        quantity=asset.quantity,
        order_id=payload.order_id,
        order_number=payload.order_number,
        line_no=asset.line_no,
        unit_no=asset.unit_no,
        fulfillment_id=payload.fulfillment_id,
        delivered_on=asset.delivered_on,
        warranty_end=asset.warranty_end,
        contract_end=asset.contract_end,
        correlation_id=event.correlation_id,
        created_at=now,
    )


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


async def health_inputs(
    session: AsyncSession, settings: Settings, account: AccountRow, now: datetime
) -> HealthInputs:
    today = settings.calendar().local_date(now)
    horizon = today + timedelta(days=settings.renewal_notice_days)
    open_rows = await session.exec(
        select(TicketRow.severity, func.count())
        .where(TicketRow.account_id == account.id, TicketRow.status.in_([s.value for s in ACTIVE]))
        .group_by(TicketRow.severity)
    )
    breaches = await session.exec(
        select(func.count())
        .select_from(TicketRow)
        .where(
            TicketRow.account_id == account.id,
            TicketRow.opened_at >= now - timedelta(days=settings.health_window_days),
            or_(TicketRow.first_response_breached, TicketRow.resolution_breached),
        )
    )
    repeat = await session.exec(
        select(func.count())
        .select_from(OrderRow)
        .where(
            OrderRow.account_id == account.id,
            OrderRow.order_id != account.first_order_id,
            OrderRow.status.not_in(NOT_ORDERED),
        )
    )
    renewals = 0
    for column in (AssetRow.warranty_end, AssetRow.contract_end):
        renewals += (
            await session.exec(
                select(func.count())
                .select_from(AssetRow)
                .where(AssetRow.account_id == account.id, column.between(today, horizon))
            )
        ).one()
    return HealthInputs(
        open_tickets={sev: n for sev, n in open_rows.all()},
        sla_breaches=breaches.one(),
        repeat_orders=repeat.one(),
        renewals_due=renewals,
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
