"""Read models: table rows (and "now") → response models."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from aftersales.accounts import NOT_ORDERED, health_inputs, previous_correlation_ids
from aftersales.config import Settings
from aftersales.domain.health import health_score
from aftersales.domain.sla import SlaPolicy
from aftersales.domain.tickets import warranty_status
from aftersales.schemas import (
    AccountDetail,
    AccountOut,
    AssetBrief,
    AssetOut,
    ChangeOut,
    CommentOut,
    FollowupOut,
    HealthFactorOut,
    HealthOut,
    OrderSummary,
    RenewalOut,
    SlaOut,
    TicketDetail,
    TicketOut,
)
from aftersales.tables import (
    AccountRow,
    AssetRow,
    FollowupRow,
    OrderRow,
    RenewalRow,
    TicketChangeRow,
    TicketCommentRow,
    TicketRow,
)
from aftersales.tickets import load_sla
from salesflow.contracts.types import Money

MAX_INSTALLED_BASE = 1000  # in one account response


def account_out(row: AccountRow) -> AccountOut:
    return AccountOut.model_validate(row, from_attributes=True)


def _covered_until_due(end: date | None, today: date, horizon: date) -> bool:
    return end is not None and today <= end <= horizon


def asset_out(asset: AssetRow, today: date, horizon: date) -> AssetOut:
    return AssetOut(
        id=asset.id,
        kind=asset.kind,  # type: ignore[arg-type]
        sku=asset.sku,
        description=asset.description,
        serial_number=asset.serial_number,
        quantity=asset.quantity,
        order_id=asset.order_id,
        order_number=asset.order_number,
        line_no=asset.line_no,
        delivered_on=asset.delivered_on,
        warranty_end=asset.warranty_end,
        warranty_status=warranty_status(asset.warranty_end, today),
        contract_end=asset.contract_end,
        renewal_due=_covered_until_due(asset.warranty_end, today, horizon)
        or _covered_until_due(asset.contract_end, today, horizon),
    )


async def account_detail(
    session: AsyncSession, settings: Settings, account: AccountRow, now: datetime
) -> AccountDetail:
    today = settings.calendar().local_date(now)
    horizon = today + timedelta(days=settings.renewal_notice_days)
    inputs = await health_inputs(session, settings, account, now)
    health = health_score(inputs)
    assets = (
        await session.exec(
            select(AssetRow)
            .where(AssetRow.account_id == account.id)
            .order_by(AssetRow.delivered_on, AssetRow.order_id, AssetRow.line_no, AssetRow.unit_no)
            .limit(MAX_INSTALLED_BASE + 1)
        )
    ).all()
    orders = (
        await session.exec(
            select(OrderRow)
            .where(OrderRow.account_id == account.id)
            .order_by(OrderRow.first_seen_at.desc())  # type: ignore[attr-defined]
            .limit(100)
        )
    ).all()
    renewals = (
        await session.exec(
            select(RenewalRow)
            .where(RenewalRow.account_id == account.id)
            .order_by(RenewalRow.due_date)
            .limit(200)
        )
    ).all()
    return AccountDetail(
        **account_out(account).model_dump(),
        health=HealthOut(
            score=health.score,
            band=health.band,
            breakdown=[HealthFactorOut(**vars(f)) for f in health.breakdown],
        ),
        open_tickets=sum(inputs.open_tickets.values()),
        repeat_orders=inputs.repeat_orders,
        installed_base=[asset_out(a, today, horizon) for a in assets[:MAX_INSTALLED_BASE]],
        installed_base_truncated=len(assets) > MAX_INSTALLED_BASE,
        orders=[
            OrderSummary(
                order_id=o.order_id,
                order_number=o.order_number,
                status=o.status,
                net=Money(amount=o.net_amount, currency=o.currency)
                if o.net_amount is not None
                else None,
                first_seen_at=o.first_seen_at,
                repeat=o.order_id != account.first_order_id and o.status not in NOT_ORDERED,
            )
            for o in orders
        ],
        renewals=[RenewalOut.model_validate(r, from_attributes=True) for r in renewals],
        previous_correlation_ids=await previous_correlation_ids(session, account),
    )


def ticket_out(
    ticket: TicketRow,
    account: AccountRow,
    asset: AssetRow | None,
    policy: SlaPolicy,
    now: datetime,
) -> TicketOut:
    sla = load_sla(ticket, policy)
    today = policy.calendar.local_date(now)
    warranty = warranty_status(asset.warranty_end if asset else None, today)
    return TicketOut(
        id=ticket.id,
        account_id=account.id,
        account_name=account.name,
        asset=AssetBrief(
            id=asset.id,
            sku=asset.sku,
            serial_number=asset.serial_number,
            warranty_end=asset.warranty_end,
            warranty_status=warranty,
            contract_end=asset.contract_end,
        )
        if asset
        else None,
        warranty_status=warranty,
        channel=ticket.channel,
        severity=ticket.severity,  # type: ignore[arg-type]
        summary=ticket.summary,
        description=ticket.description,
        status=ticket.status,  # type: ignore[arg-type]
        opened_by=ticket.opened_by,
        opened_at=ticket.opened_at,
        resolved_at=ticket.resolved_at,
        resolved_by=ticket.resolved_by,
        resolution=ticket.resolution,
        closed_at=ticket.closed_at,
        sla=SlaOut(
            first_response_target_minutes=sla.target.first_response_minutes,
            resolution_target_minutes=sla.target.resolution_minutes,
            first_response_due=ticket.first_response_due,
            resolution_due=ticket.resolution_due,
            business_minutes_elapsed=sla.clock.elapsed(now, policy.calendar) // 60,
            paused=not sla.clock.running and not sla.resolved,
            first_responded_at=ticket.first_responded_at,
            first_response_breached=ticket.first_response_breached,
            resolution_breached=ticket.resolution_breached,
            breached_at=ticket.breached_at,
        ),
        correlation_id=ticket.correlation_id,
        version=ticket.version,
        updated_at=ticket.updated_at,
    )


async def ticket_detail(
    session: AsyncSession,
    ticket: TicketRow,
    account: AccountRow,
    policy: SlaPolicy,
    now: datetime,
    *,
    with_internal: bool,
) -> TicketDetail:
    asset = await session.get(AssetRow, ticket.asset_id) if ticket.asset_id else None
    comments_stmt = select(TicketCommentRow).where(TicketCommentRow.ticket_id == ticket.id)
    if not with_internal:
        comments_stmt = comments_stmt.where(~TicketCommentRow.internal)
    comments = (
        await session.exec(
            comments_stmt.order_by(TicketCommentRow.ticket_version, TicketCommentRow.created_at)
        )
    ).all()
    history = (
        await session.exec(
            select(TicketChangeRow)
            .where(TicketChangeRow.ticket_id == ticket.id)
            .order_by(TicketChangeRow.ticket_version)
        )
    ).all()
    return TicketDetail(
        **ticket_out(ticket, account, asset, policy, now).model_dump(),
        comments=[CommentOut.model_validate(c, from_attributes=True) for c in comments],
        history=[ChangeOut.model_validate(h, from_attributes=True) for h in history],
    )


def followup_out(row: FollowupRow) -> FollowupOut:
    return FollowupOut(
        id=row.id,
        account_id=row.account_id,
        kind=row.kind,  # type: ignore[arg-type]
        description=row.description,
        estimated_value=Money(amount=row.estimated_amount, currency=row.currency),
        expected_close_date=row.expected_close_date,
        due_date=row.due_date,
        asset_ids=list(row.asset_ids),
        ticket_id=row.ticket_id,
        contact=row.contact,  # type: ignore[arg-type]
        owner=row.owner,
        team=row.team,
        identified_by=row.identified_by,
        correlation_id=row.correlation_id,
        created_at=row.created_at,
    )
