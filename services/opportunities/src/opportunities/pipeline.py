"""Changes to an opportunity inside one unit of work: the row, its stage history and the event,
together. Shared by the HTTP routes and the event handlers; the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from opportunities import events
from opportunities.config import Settings
from opportunities.domain import probability, stages
from opportunities.domain.money import normalized
from opportunities.domain.stages import Stage
from opportunities.tables import OpportunityRow, StageSpanRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.opportunities import OpportunitySource

MANUAL = "manual"


def defaults(settings: Settings) -> dict[Stage, int]:
    return probability.stage_defaults(settings.stage_probabilities)


@dataclass
class Draft:
    """Everything needed to open an opportunity, whatever its source."""

    source: OpportunitySource
    account: dict[str, Any]
    owner: str
    currency: str
    correlation_id: str
    team: str | None = None
    account_id: str | None = None
    contact: dict[str, Any] | None = None
    amount: Decimal | None = None
    probability_override: int | None = None
    expected_close_date: date | None = None
    next_step: str | None = None
    next_step_date: date | None = None
    needs: dict[str, Any] | None = None
    lead_id: str | None = None
    followup_id: str | None = None
    source_channel: str | None = None
    source_campaign: str | None = None
    opened_by: str | None = None
    related_correlation_ids: list[str] = field(default_factory=list)


OPPORTUNITIES = OpportunityRow.__table__  # type: ignore[attr-defined]
SPANS = StageSpanRow.__table__  # type: ignore[attr-defined]
_INSERT_OPPORTUNITY = insert(OPPORTUNITIES)
INSERT_SPAN = insert(SPANS)


async def core_connection(session: AsyncSession) -> AsyncConnection:
    """The unit of work's connection for Core statements (hot paths: no ORM hydration or
    flush), after writing ORM rows still pending in the session so that statements see them."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()


@dataclass(frozen=True)
class Opened:
    """A new opportunity's columns and its first stage span, as written."""

    row: SimpleNamespace
    span: SimpleNamespace


async def open_opportunity(
    session: AsyncSession,
    settings: Settings,
    draft: Draft,
    now: datetime,
    *,
    cause: Envelope | None = None,
) -> Opened:
    stage = Stage.QUALIFICATION
    row = SimpleNamespace(
        id=str(uuid.uuid4()),
        stage=stage.value,
        owner=draft.owner,
        team=draft.team,
        source=draft.source.value,
        lead_id=draft.lead_id,
        followup_id=draft.followup_id,
        account_id=draft.account_id,
        account=draft.account,
        contact=draft.contact,
        currency=draft.currency,
        amount=normalized(draft.amount) if draft.amount is not None else None,
        probability=probability.effective(stage, draft.probability_override, defaults(settings)),
        probability_override=draft.probability_override,
        expected_close_date=draft.expected_close_date,
        next_step=draft.next_step,
        next_step_date=draft.next_step_date,
        needs=draft.needs,
        lost_reason=None,
        won_offer_id=None,
        won_offer_version=None,
        source_channel=draft.source_channel,
        source_campaign=draft.source_campaign,
        opened_by=draft.opened_by,
        correlation_id=draft.correlation_id,
        related_correlation_ids=draft.related_correlation_ids,
        version=1,
        created_at=now,
        updated_at=now,
        stage_entered_at=now,
        last_activity_at=now,
        closed_at=None,
    )
    span = SimpleNamespace(
        opportunity_id=row.id,
        stage=stage.value,
        entered_at=now,
        left_at=None,
        trigger=f"opened:{draft.source.value}",
        changed_by=draft.opened_by,
        offer_id=None,
    )
    conn = await core_connection(session)
    # the unique lead/follow-up constraint speaks here (IntegrityError), not at commit
    await conn.execute(_INSERT_OPPORTUNITY, vars(row))
    await conn.execute(INSERT_SPAN, vars(span))
    events.publish(session, settings, row, events.opened(row), cause=cause)
    return Opened(row, span)


def touch(row: events.Opportunity, now: datetime) -> None:
    """One more version per unit of work that changes the opportunity."""
    row.version += 1
    row.updated_at = max(now, row.updated_at)


async def _enter(
    session: AsyncSession,
    settings: Settings,
    row: OpportunityRow,
    target: Stage,
    at: datetime,
    *,
    trigger: str,
    changed_by: str | None,
    offer_id: str | None = None,
    keep_override: bool = False,
) -> Stage:
    """Close the current stage span, open the next, recompute the probability."""
    previous, at = enter_stage(settings, row, target, at, keep_override=keep_override)
    current = (
        await session.exec(
            select(StageSpanRow).where(
                StageSpanRow.opportunity_id == row.id, StageSpanRow.left_at.is_(None)
            )
        )
    ).first()
    if current is not None:
        current.left_at = at
        session.add(current)
    session.add(
        StageSpanRow(
            opportunity_id=row.id,
            stage=target.value,
            entered_at=at,
            trigger=trigger,
            changed_by=changed_by,
            offer_id=offer_id,
        )
    )
    return previous


def enter_stage(
    settings: Settings,
    row: events.Opportunity,
    target: Stage,
    at: datetime,
    *,
    keep_override: bool = False,
) -> tuple[Stage, datetime]:
    """Move ``row`` (an ``OpportunityRow`` or a namespace of its columns) to ``target``: stage,
    entry time, probability, closing time. Returns the previous stage and the entry time (never
    before the last move: events may carry an older time)."""
    previous = Stage(row.stage)
    at = max(at, row.stage_entered_at)
    row.stage = target.value
    row.stage_entered_at = at
    row.probability_override = probability.override_after_stage_change(
        row.probability_override, keep_override
    )
    row.probability = probability.effective(target, row.probability_override, defaults(settings))
    if stages.is_final(target):
        row.closed_at = at
    return previous, at


# --- changes asked for over HTTP ------------------------------------------------------------


class Forbidden(Exception):
    """The principal may see the opportunity but not make this change (HTTP 403)."""


async def apply_patch(
    session: AsyncSession,
    settings: Settings,
    row: OpportunityRow,
    changes: Mapping[str, Any],
    *,
    user: str,
    may_reassign: bool,
    now: datetime,
) -> bool:
    """Apply the fields a PATCH sent (explicit nulls clear); False if nothing changed."""
    current = Stage(row.stage)
    stages.ensure_open(current)
    target = Stage(changes["stage"]) if changes.get("stage") is not None else current
    moves = stages.check_manual_move(current, target)
    if "owner" in changes and changes["owner"] != row.owner and not may_reassign:
        raise Forbidden("only a manager of the team may reassign an opportunity")

    before = _snapshot(row)
    published = _published(row)
    for name in ("owner", "expected_close_date", "next_step", "next_step_date", "contact"):
        if name in changes:
            setattr(row, name, changes[name])
    if "needs" in changes:
        row.needs = changes["needs"]
    if "amount" in changes:
        money = changes["amount"]
        row.amount = normalized(money["amount"]) if money else None
        if money:
            row.currency = money["currency"]
    if "probability" in changes:
        row.probability_override = changes["probability"]
    row.probability = probability.effective(current, row.probability_override, defaults(settings))
    if not moves and _snapshot(row) == before:
        return False
    touch(row, now)
    if moves:
        previous = await _enter(
            session,
            settings,
            row,
            target,
            now,
            trigger=MANUAL,
            changed_by=user,
            keep_override="probability" in changes,
        )
        events.publish(
            session, settings, row, events.stage_changed(row, previous, MANUAL, changed_by=user)
        )
    elif _published(row) != published:
        # Owner, amount, currency, contact … changed in place. Consumers keep read models of
        # the state every event carries (offers quotes for the owner in the deal's currency),
        # so they must hear of it.
        events.publish(session, settings, row, events.updated(row, changed_by=user))
    return True


def _snapshot(row: OpportunityRow) -> dict[str, Any]:
    return row.model_dump(exclude={"version", "updated_at"})


def _published(row: OpportunityRow) -> dict[str, Any]:
    """What the opportunity's events tell about it, its version aside."""
    fields = events.state(row)
    del fields["version"]
    return fields


async def lose(
    session: AsyncSession,
    settings: Settings,
    row: OpportunityRow,
    reason: str,
    *,
    user: str,
    now: datetime,
) -> None:
    stages.ensure_open(Stage(row.stage))
    row.lost_reason = reason
    touch(row, now)
    previous = await _enter(
        session, settings, row, Stage.LOST, now, trigger=MANUAL, changed_by=user
    )
    events.publish(session, settings, row, events.lost(row, previous, lost_by=user))
