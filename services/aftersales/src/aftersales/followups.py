"""Follow-up business (upsell, cross-sell, renewal) ⇒ ``followup.identified``, and the renewal
scan that raises one follow-up per asset and kind when a warranty or contract ends soon."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from aftersales.accounts import previous_correlation_ids, refresh_health
from aftersales.config import Settings
from aftersales.domain.renewals import Coverage, RenewalDue, estimated_value, group, renewals_due
from aftersales.tables import AccountRow, AssetRow, FollowupRow, OrderRow, RenewalRow
from salesflow.contracts.events.aftersales import FollowupIdentified, FollowupKind
from salesflow.contracts.events.common import CompanySnapshot, Contact
from salesflow.contracts.types import Money
from salesflow.db import Database
from salesflow.messaging.handlers import emit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewFollowup:
    kind: FollowupKind
    description: str
    estimated_value: Money
    expected_close_date: date | None = None
    due_date: date | None = None
    asset_ids: list[str] = field(default_factory=list)
    ticket_id: str | None = None
    contact: Contact | None = None


async def identify(
    session: AsyncSession,
    settings: Settings,
    account: AccountRow,
    new: NewFollowup,
    *,
    identified_by: str | None,
    now: datetime,
) -> tuple[FollowupRow, list[str]]:
    """Record the follow-up and emit it. It starts a new journey (own correlation id) that
    names the account's earlier ones."""
    previous = await previous_correlation_ids(session, account)
    row = FollowupRow(
        id=str(uuid.uuid4()),
        account_id=account.id,
        kind=new.kind.value,
        description=new.description,
        estimated_amount=new.estimated_value.amount,
        currency=new.estimated_value.currency,
        expected_close_date=new.expected_close_date,
        due_date=new.due_date,
        asset_ids=list(new.asset_ids),
        ticket_id=new.ticket_id,
        contact=new.contact.model_dump(mode="json") if new.contact else None,
        identified_by=identified_by,
        owner=account.owner or settings.fallback_owner,
        team=account.team,
        correlation_id=str(uuid.uuid4()),
        created_at=now,
    )
    session.add(row)
    emit(
        session,
        settings,
        "followup.identified.v1",
        account.id,
        FollowupIdentified(
            followup_id=row.id,
            account_id=account.id,
            account=CompanySnapshot.model_validate(account.company),
            contact=new.contact,
            owner=row.owner,
            team=row.team,
            kind=new.kind,
            description=row.description,
            estimated_value=new.estimated_value,
            expected_close_date=row.expected_close_date,
            due_date=row.due_date,
            asset_ids=row.asset_ids,
            ticket_id=row.ticket_id,
            identified_by=identified_by,
            previous_correlation_ids=previous,
        ),
        correlation_id=row.correlation_id,
    )
    return row, previous


async def raise_renewals(db: Database, settings: Settings, now: datetime) -> list[str]:
    """One renewal follow-up per account, kind and end date for coverage ending within the
    notice period, never twice for an asset and kind. Returns the new follow-ups' ids."""
    today = settings.calendar().local_date(now)
    horizon = today + timedelta(days=settings.renewal_notice_days)
    async with db.session() as session:
        assets = (
            await session.exec(
                select(AssetRow).where(
                    or_(
                        AssetRow.warranty_end.between(today, horizon),
                        AssetRow.contract_end.between(today, horizon),
                    )
                )
            )
        ).all()
        raised = set(
            (
                await session.exec(
                    select(RenewalRow.asset_id, RenewalRow.kind).where(
                        RenewalRow.asset_id.in_([a.id for a in assets])
                    )
                )
            ).all()
        )
    by_id = {a.id: a for a in assets}
    due = [
        d
        for a in assets
        for d in renewals_due(
            Coverage(a.id, a.account_id, a.warranty_end, a.contract_end),
            today,
            settings.renewal_notice_days,
        )
        if (d.asset_id, d.kind) not in raised
    ]
    created: list[str] = []
    for (account_id, kind, due_date), items in group(due).items():
        try:
            async with db.session() as session, session.begin():
                followup_id = await _raise_one(
                    session, settings, account_id, kind, due_date, items, by_id, now
                )
        except IntegrityError:  # another replica raised it first: nothing to do
            log.info("renewal for account %s (%s, %s) already raised", account_id, kind, due_date)
            continue
        if followup_id:
            created.append(followup_id)
    return created


async def _raise_one(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    kind: str,
    due_date: date,
    items: list[RenewalDue],
    assets: dict[str, AssetRow],
    now: datetime,
) -> str | None:
    account = await session.get(AccountRow, account_id)
    if account is None:
        return None
    concerned = [assets[item.asset_id] for item in items]
    amount, currency = await _estimate(session, settings, kind, concerned)
    what = "service contract" if kind == "contract" else "warranty"
    skus = ", ".join(sorted({a.sku for a in concerned}))
    row, _ = await identify(
        session,
        settings,
        account,
        NewFollowup(
            kind=FollowupKind.RENEWAL,
            description=f"Renewal of the {what} for {len(concerned)} item(s) ({skus}) "
            f"ending {due_date.isoformat()}",
            estimated_value=Money(amount=amount, currency=currency),
            expected_close_date=due_date,
            due_date=due_date,
            asset_ids=[a.id for a in concerned],
        ),
        identified_by=None,
        now=now,
    )
    await session.flush()  # the follow-up first: renewals reference it
    for asset in concerned:
        session.add(
            RenewalRow(
                id=str(uuid.uuid4()),
                asset_id=asset.id,
                kind=kind,
                account_id=account.id,
                due_date=due_date,
                followup_id=row.id,
                raised_at=now,
            )
        )
    await session.flush()  # unique (asset, kind): a twin fails here, before commit
    await refresh_health(session, settings, account, now)
    return row.id


async def _estimate(
    session: AsyncSession, settings: Settings, kind: str, assets: list[AssetRow]
) -> tuple[Decimal, str]:
    """From the prices of the orders that delivered the assets (``order.received`` lines)."""
    orders = {
        o.order_id: o
        for o in (
            await session.exec(
                select(OrderRow).where(OrderRow.order_id.in_({a.order_id for a in assets}))
            )
        ).all()
    }
    total = Decimal("0.00")
    currency = settings.default_currency
    for asset in assets:
        order = orders.get(asset.order_id)
        line = (order.lines or {}).get(str(asset.line_no)) if order else None
        if order is not None:
            currency = order.currency
        total += estimated_value(
            kind,  # type: ignore[arg-type]
            Decimal(line["net"]) if line else None,
            Decimal(line["quantity"]) if line else None,
            asset.quantity,
            settings.warranty_extension_rate,
        )
    return total, currency


async def refresh_all_health(db: Database, settings: Settings, now: datetime) -> int:
    """Health depends on the date too (renewals coming due, old breaches ageing out)."""
    changed = 0
    after = ""
    while True:
        async with db.session() as session, session.begin():
            accounts = (
                await session.exec(
                    select(AccountRow)
                    .where(AccountRow.id > after)
                    .order_by(AccountRow.id)
                    .limit(200)
                )
            ).all()
            for account in accounts:
                before = (account.health_score, account.health_band)
                health = await refresh_health(session, settings, account, now)
                changed += before != (health.score, health.band)
        if len(accounts) < 200:
            return changed
        after = accounts[-1].id
