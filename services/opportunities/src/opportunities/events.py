"""Opportunity events built from the row: every one carries the full state after the change, so
that offers can quote and controlling can report without calling back."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from opportunities.domain.money import shown
from opportunities.tables import OpportunityRow
from salesflow.contracts.envelope import Envelope
from salesflow.contracts.events.common import CompanySnapshot, Contact, NeedsAnalysis
from salesflow.contracts.events.opportunities import (
    OpportunityLost,
    OpportunityOpened,
    OpportunitySource,
    OpportunityStage,
    OpportunityStageChanged,
    OpportunityUpdated,
    OpportunityWon,
)
from salesflow.contracts.types import Money, Payload
from salesflow.messaging.handlers import emit
from salesflow.settings import ServiceSettings

OPENED = "opportunity.opened.v1"
STAGE_CHANGED = "opportunity.stage_changed.v1"
UPDATED = "opportunity.updated.v1"
WON = "opportunity.won.v1"
LOST = "opportunity.lost.v1"

Opportunity = OpportunityRow | SimpleNamespace
"""An opportunity's columns as attributes: the ORM row, or a Core row's columns (hot paths)."""


def state(row: Opportunity) -> dict[str, Any]:
    """The fields every opportunity event shares (``OpportunityEvent``)."""
    return {
        "opportunity_id": row.id,
        "version": row.version,
        "stage": OpportunityStage(row.stage),
        "account": CompanySnapshot.model_validate(row.account),
        "account_id": row.account_id,
        "contact": Contact.model_validate(row.contact) if row.contact else None,
        "owner": row.owner,
        "team": row.team,
        "currency": row.currency,
        "amount": Money(amount=shown(row.amount, row.currency), currency=row.currency)
        if row.amount is not None
        else None,
        "probability": row.probability,
        "expected_close_date": row.expected_close_date,
        "source": OpportunitySource(row.source),
        "lead_id": row.lead_id,
        "followup_id": row.followup_id,
        "source_channel": row.source_channel,
        "source_campaign": row.source_campaign,
        "needs": NeedsAnalysis.model_validate(row.needs) if row.needs else None,
        "related_correlation_ids": list(row.related_correlation_ids or []),
    }


def opened(row: Opportunity) -> OpportunityOpened:
    return OpportunityOpened(**state(row), opened_by=row.opened_by)


def stage_changed(
    row: Opportunity,
    previous: OpportunityStage,
    trigger: str,
    *,
    offer_id: str | None = None,
    changed_by: str | None = None,
) -> OpportunityStageChanged:
    return OpportunityStageChanged(
        **state(row),
        previous_stage=previous,
        trigger=trigger,
        offer_id=offer_id,
        changed_by=changed_by,
    )


def updated(row: Opportunity, *, changed_by: str | None = None) -> OpportunityUpdated:
    return OpportunityUpdated(**state(row), changed_by=changed_by)


def won(row: Opportunity) -> OpportunityWon:
    fields = state(row)
    fields["amount"] = Money(amount=shown(row.amount, row.currency), currency=row.currency)
    return OpportunityWon(**fields, offer_id=row.won_offer_id, offer_version=row.won_offer_version)


def lost(
    row: Opportunity,
    previous: OpportunityStage,
    *,
    offer_id: str | None = None,
    lost_by: str | None = None,
) -> OpportunityLost:
    return OpportunityLost(
        **state(row),
        previous_stage=previous,
        lost_reason=row.lost_reason,
        offer_id=offer_id,
        lost_by=lost_by,
    )


TYPES: dict[type[Payload], str] = {
    OpportunityOpened: OPENED,
    OpportunityStageChanged: STAGE_CHANGED,
    OpportunityUpdated: UPDATED,
    OpportunityWon: WON,
    OpportunityLost: LOST,
}


def publish(
    session: AsyncSession,
    settings: ServiceSettings,
    row: Opportunity,
    payload: Payload,
    *,
    cause: Envelope | None = None,
) -> Envelope:
    """Stage the event in the outbox of this unit of work, in the opportunity's journey."""
    return emit(
        session,
        settings,
        TYPES[type(payload)],
        row.id,
        payload,
        cause=cause,
        correlation_id=row.correlation_id,
    )
