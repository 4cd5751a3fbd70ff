"""Service tickets: opening with SLA targets, status changes, comments, resolution, and the
breach scan that flags overdue tickets nobody touches."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from aftersales.accounts import refresh_health
from aftersales.config import Settings
from aftersales.domain.calendar import BusinessCalendar
from aftersales.domain.sla import SlaClock, SlaPolicy, TicketSla
from aftersales.domain.tickets import (
    ACTIVE,
    check_open_for_comments,
    transition,
    warranty_status,
)
from aftersales.tables import AccountRow, AssetRow, TicketChangeRow, TicketCommentRow, TicketRow
from salesflow.contracts.events.aftersales import TicketOpened, TicketResolved, TicketStatus
from salesflow.db import Database
from salesflow.messaging.handlers import emit

log = logging.getLogger(__name__)
SCAN_BATCH = 500


@dataclass(frozen=True)
class NewTicket:
    channel: str
    severity: str
    summary: str
    description: str


def load_sla(ticket: TicketRow, policy: SlaPolicy) -> TicketSla:
    return TicketSla(
        target=policy.target(ticket.severity),
        clock=SlaClock(ticket.sla_consumed_seconds, ticket.sla_running_since),
        first_response_seconds=ticket.first_response_seconds,
        resolution_seconds=ticket.resolution_seconds,
        first_response_breached=ticket.first_response_breached,
        resolution_breached=ticket.resolution_breached,
    )


def store_sla(ticket: TicketRow, sla: TicketSla, calendar: BusinessCalendar, now: datetime) -> None:
    was_breached = ticket.first_response_breached or ticket.resolution_breached
    ticket.sla_consumed_seconds = sla.clock.consumed_seconds
    ticket.sla_running_since = sla.clock.running_since
    if sla.responded and ticket.first_responded_at is None:
        ticket.first_responded_at = now
    ticket.first_response_seconds = sla.first_response_seconds
    ticket.resolution_seconds = sla.resolution_seconds
    ticket.first_response_breached = sla.first_response_breached
    ticket.resolution_breached = sla.resolution_breached
    ticket.first_response_due = sla.first_response_due(calendar)
    ticket.resolution_due = sla.resolution_due(calendar)
    if not was_breached and (sla.first_response_breached or sla.resolution_breached):
        ticket.breached_at = now


def _touch(ticket: TicketRow, now: datetime) -> None:
    ticket.version += 1
    ticket.updated_at = now


def _change(ticket: TicketRow, before: str | None, by: str, note: str | None, now: datetime):
    return TicketChangeRow(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        from_status=before,
        to_status=ticket.status,
        changed_by=by,
        ticket_version=ticket.version,
        note=note,
        changed_at=now,
    )


async def open_ticket(
    session: AsyncSession,
    settings: Settings,
    *,
    account: AccountRow,
    asset: AssetRow | None,
    new: NewTicket,
    opened_by: str,
    now: datetime,
) -> TicketRow:
    policy = settings.sla_policy()
    ticket = TicketRow(
        id=str(uuid.uuid4()),
        account_id=account.id,
        asset_id=asset.id if asset else None,
        channel=new.channel,
        severity=new.severity,
        summary=new.summary,
        description=new.description,
        status=TicketStatus.OPEN.value,
        opened_by=opened_by,
        opened_at=now,
        # the ticket belongs to the journey that delivered the asset, else the account's first
        correlation_id=asset.correlation_id if asset else account.correlation_id,
        version=1,
        updated_at=now,
    )
    sla = TicketSla.opened(policy.target(new.severity), now)
    store_sla(ticket, sla, policy.calendar, now)
    session.add(ticket)
    await session.flush()  # before its history row (no ORM relationship orders the inserts)
    session.add(_change(ticket, None, opened_by, None, now))
    warranty_end = asset.warranty_end if asset else None
    emit(
        session,
        settings,
        "ticket.opened.v1",
        account.id,
        TicketOpened(
            **_ticket_fields(ticket, account, asset),
            channel=ticket.channel,
            summary=ticket.summary,
            description=ticket.description,
            opened_by=opened_by,
            first_response_due=ticket.first_response_due,
            resolution_due=ticket.resolution_due,
            warranty=warranty_status(warranty_end, policy.calendar.local_date(now)),
            warranty_end=warranty_end,
        ),
        correlation_id=ticket.correlation_id,
    )
    await session.flush()
    await refresh_health(session, settings, account, now)
    return ticket


async def change_status(
    session: AsyncSession,
    settings: Settings,
    ticket: TicketRow,
    target: TicketStatus,
    *,
    by: str,
    note: str | None,
    now: datetime,
) -> None:
    """Raises ``InvalidTransition`` for a move the lifecycle does not allow."""
    policy = settings.sla_policy()
    before = TicketStatus(ticket.status)
    sla = transition(before, target, load_sla(ticket, policy), now, policy.calendar)
    store_sla(ticket, sla, policy.calendar, now)
    ticket.status = target.value
    if target == TicketStatus.CLOSED:
        ticket.closed_at = now
    if before == TicketStatus.RESOLVED and target == TicketStatus.IN_PROGRESS:  # reopened
        ticket.resolved_at = ticket.resolved_by = None
    _touch(ticket, now)
    session.add(ticket)
    session.add(_change(ticket, before.value, by, note, now))
    await _refresh_account(session, settings, ticket, now)


async def resolve(
    session: AsyncSession,
    settings: Settings,
    ticket: TicketRow,
    *,
    resolution: str,
    by: str,
    now: datetime,
) -> None:
    await change_status(
        session, settings, ticket, TicketStatus.RESOLVED, by=by, note=resolution, now=now
    )
    ticket.resolution, ticket.resolved_by, ticket.resolved_at = resolution, by, now
    account = await session.get(AccountRow, ticket.account_id)
    asset = await session.get(AssetRow, ticket.asset_id) if ticket.asset_id else None
    assert account is not None  # foreign key
    emit(
        session,
        settings,
        "ticket.resolved.v1",
        account.id,
        TicketResolved(
            **_ticket_fields(ticket, account, asset),
            resolution=resolution,
            resolved_by=by,
            resolved_at=now,
            first_response_breached=ticket.first_response_breached,
            resolution_breached=ticket.resolution_breached,
            business_minutes_to_resolve=(ticket.resolution_seconds or 0) // 60,
        ),
        correlation_id=ticket.correlation_id,
    )


async def add_comment(
    session: AsyncSession,
    settings: Settings,
    ticket: TicketRow,
    *,
    author: str,
    from_customer: bool,
    body: str,
    internal: bool,
    now: datetime,
) -> TicketCommentRow:
    """An agent's public comment is a first response; a customer's answer while we wait for
    the customer puts the ticket back in progress (and restarts the clock)."""
    check_open_for_comments(TicketStatus(ticket.status))
    comment = TicketCommentRow(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        author=author,
        author_kind="customer" if from_customer else "agent",
        internal=internal and not from_customer,
        body=body,
        created_at=now,
    )
    policy = settings.sla_policy()
    if from_customer and ticket.status == TicketStatus.WAITING_CUSTOMER.value:
        await change_status(
            session,
            settings,
            ticket,
            TicketStatus.IN_PROGRESS,
            by=author,
            note="customer answered",
            now=now,
        )
    else:
        if not from_customer and not internal:
            sla = load_sla(ticket, policy).respond(now, policy.calendar)
            store_sla(ticket, sla, policy.calendar, now)
        _touch(ticket, now)
        session.add(ticket)
    comment.ticket_version = ticket.version
    session.add(comment)
    return comment


async def scan_sla(db: Database, settings: Settings, now: datetime) -> int:
    """Flag tickets whose first-response or resolution target ``now`` has overrun. Returns how
    many tickets got a new flag. Safe to run on several replicas at once."""
    policy = settings.sla_policy()
    flagged = 0
    while True:
        async with db.session() as session, session.begin():
            rows = (
                await session.exec(
                    select(TicketRow)
                    .where(
                        TicketRow.status.in_([s.value for s in ACTIVE]),
                        or_(
                            and_(
                                ~TicketRow.first_response_breached,
                                TicketRow.first_response_due < now,
                            ),
                            and_(~TicketRow.resolution_breached, TicketRow.resolution_due < now),
                        ),
                    )
                    .order_by(TicketRow.opened_at)
                    .limit(SCAN_BATCH)
                )
            ).all()
            batch = 0
            for ticket in rows:
                before = load_sla(ticket, policy)
                after = before.check(now, policy.calendar)
                store_sla(ticket, after, policy.calendar, now)
                if after != before:
                    batch += 1
                    _touch(ticket, now)
                    log.warning(
                        "ticket %s (%s) breached its SLA: first response %s, resolution %s",
                        ticket.id,
                        ticket.severity,
                        after.first_response_breached,
                        after.resolution_breached,
                    )
                    await _refresh_account(session, settings, ticket, now)
                session.add(ticket)
        flagged += batch
        if len(rows) < SCAN_BATCH or batch == 0:
            return flagged


async def _refresh_account(
    session: AsyncSession, settings: Settings, ticket: TicketRow, now: datetime
) -> None:
    account = await session.get(AccountRow, ticket.account_id)
    if account is not None:
        await session.flush()
        await refresh_health(session, settings, account, now)


def _ticket_fields(ticket: TicketRow, account: AccountRow, asset: AssetRow | None) -> dict:
    return {
        "ticket_id": ticket.id,
        "version": ticket.version,
        "account_id": account.id,
        "status": TicketStatus(ticket.status),
        "severity": ticket.severity,
        "owner": account.owner,
        "asset_id": ticket.asset_id,
        "serial_number": asset.serial_number if asset else None,
        "opened_at": ticket.opened_at,
    }
