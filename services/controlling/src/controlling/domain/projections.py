"""Fold one aggregate's events into its current facts.

The result depends only on the *set* of events, never on the order they arrived in: attributes
come from the highest aggregate ``version`` (ties: later ``ce_time``, then event id), and the time
a stage was reached is the earliest ``ce_time`` of the event type that marks it. Folding again
after every event, over everything stored for the aggregate, therefore gives the same row under
redelivery (the event store dedupes by id) and out-of-order arrival.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

TERMINAL_LEAD_STATUSES = frozenset({"converted", "disqualified"})
CLOSED_OPPORTUNITY_STAGES = frozenset({"won", "lost"})


@dataclass(frozen=True)
class Fact:
    """One stored event as the folds see it."""

    id: str
    type: str
    time: datetime
    data: Mapping[str, Any]
    correlation_id: str = ""

    @property
    def version(self) -> int:
        value = self.data.get("version")
        return value if isinstance(value, int) else 0


@dataclass(frozen=True)
class Company:
    company_id: str | None = None
    nace_section: str | None = None
    size_class: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class LeadFacts:
    lead_id: str
    version: int
    status: str | None
    company: Company
    owner: str | None
    team: str | None
    source_channel: str | None
    existing_customer: bool
    account_id: str | None
    correlation_id: str
    created_at: datetime | None
    mql_at: datetime | None
    sql_at: datetime | None
    first_contact_at: datetime | None
    converted_at: datetime | None
    assigned_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class OpportunityFacts:
    opportunity_id: str
    version: int
    stage: str | None
    source: str | None
    lead_id: str | None
    followup_id: str | None
    account_id: str | None
    company: Company
    owner: str | None
    team: str | None
    source_channel: str | None
    currency: str | None
    amount: Decimal | None
    amount_currency: str | None
    probability: int | None
    correlation_id: str
    opened_at: datetime | None
    won_at: datetime | None
    lost_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class OfferFacts:
    offer_id: str
    version: int
    status: str | None
    opportunity_id: str | None
    company: Company
    owner: str | None
    team: str | None
    currency: str | None
    net_amount: Decimal | None
    correlation_id: str
    created_at: datetime | None
    first_sent_at: datetime | None
    accepted_at: datetime | None


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    version: int
    status: str | None
    channel: str | None
    offer_id: str | None
    opportunity_id: str | None
    account_id: str | None
    company: Company
    owner: str | None
    team: str | None
    currency: str | None
    net_amount: Decimal | None
    correlation_id: str
    received_at: datetime | None
    confirmed_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class FulfillmentFacts:
    fulfillment_id: str
    version: int
    status: str | None
    order_id: str | None
    correlation_id: str
    planned_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None


# --------------------------------------------------------------------------------- helpers


def in_version_order(facts: Iterable[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (f.version, f.time, f.id))


def first_time(facts: Iterable[Fact], *types: str, where: Callable[[Fact], bool] | None = None):
    """Earliest ``ce_time`` among events of ``types`` (that satisfy ``where``)."""
    times = [f.time for f in facts if f.type in types and (where is None or where(f))]
    return min(times) if times else None


def latest(ordered: Sequence[Fact], *path: str) -> Any:
    """The value at ``path`` in the newest event that carries one (not None)."""
    for fact in reversed(ordered):
        value = _dig(fact.data, path)
        if value is not None:
            return value
    return None


def run_start(ordered: Sequence[Fact], key: Callable[[Fact], Any]) -> datetime | None:
    """``ce_time`` of the first event of the final run of events with the newest event's key:
    when the aggregate entered its current value (e.g. its current owner)."""
    if not ordered:
        return None
    current = key(ordered[-1])
    started = ordered[-1].time
    for fact in reversed(ordered):
        if key(fact) != current:
            break
        started = min(started, fact.time)
    return started


def company_of(snapshot: Any) -> Company:
    if not isinstance(snapshot, Mapping):
        return Company()
    return Company(
        company_id=_str(snapshot.get("company_id")),
        nace_section=_str(snapshot.get("nace_section")),
        size_class=_str(snapshot.get("size_class")),
        country=_str(snapshot.get("country")),
    )


def decimal_of(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def time_of(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _dig(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ----------------------------------------------------------------------------------- folds


def fold_lead(lead_id: str, facts: Iterable[Fact]) -> LeadFacts | None:
    ordered = in_version_order(facts)
    if not ordered:
        return None
    newest = ordered[-1].data
    owner = _str(newest.get("owner"))
    sql_events = sorted((f for f in ordered if f.type == "lead.sql.v1"), key=lambda f: f.time)
    status = _str(newest.get("status"))
    return LeadFacts(
        lead_id=lead_id,
        version=ordered[-1].version,
        status=status,
        company=company_of(latest(ordered, "company")),
        owner=owner,
        team=_str(newest.get("team")),
        source_channel=_str(latest(ordered, "source_channel")),
        existing_customer=bool(latest(ordered, "existing_customer")),
        account_id=_str(latest(ordered, "account_id")),
        correlation_id=_journey(ordered),
        created_at=first_time(ordered, "lead.created.v1"),
        mql_at=first_time(ordered, "lead.mql.v1"),
        sql_at=sql_events[0].time if sql_events else None,
        first_contact_at=time_of(sql_events[0].data.get("first_contact_at"))
        if sql_events
        else None,
        converted_at=first_time(ordered, "lead.converted.v1"),
        assigned_at=run_start(ordered, lambda f: f.data.get("owner")) if owner else None,
        closed_at=(
            run_start(ordered, lambda f: f.data.get("status"))
            if status in TERMINAL_LEAD_STATUSES
            else None
        ),
    )


def fold_opportunity(opportunity_id: str, facts: Iterable[Fact]) -> OpportunityFacts | None:
    ordered = in_version_order(facts)
    if not ordered:
        return None
    newest = ordered[-1].data
    stage = _str(newest.get("stage"))
    amount = newest.get("amount") if isinstance(newest.get("amount"), Mapping) else None
    return OpportunityFacts(
        opportunity_id=opportunity_id,
        version=ordered[-1].version,
        stage=stage,
        source=_str(latest(ordered, "source")),
        lead_id=_str(latest(ordered, "lead_id")),
        followup_id=_str(latest(ordered, "followup_id")),
        account_id=_str(latest(ordered, "account_id")),
        company=company_of(latest(ordered, "account")),
        owner=_str(newest.get("owner")),
        team=_str(newest.get("team")),
        source_channel=_str(latest(ordered, "source_channel")),
        currency=_str(newest.get("currency")),
        amount=decimal_of(amount.get("amount")) if amount else None,
        amount_currency=_str(amount.get("currency")) if amount else None,
        probability=_int(newest.get("probability")),
        correlation_id=_journey(ordered),
        opened_at=first_time(ordered, "opportunity.opened.v1"),
        won_at=first_time(ordered, "opportunity.won.v1"),
        lost_at=first_time(ordered, "opportunity.lost.v1"),
        closed_at=(
            run_start(ordered, lambda f: f.data.get("stage"))
            if stage in CLOSED_OPPORTUNITY_STAGES
            else None
        ),
    )


def fold_offer(offer_id: str, facts: Iterable[Fact]) -> OfferFacts | None:
    ordered = in_version_order(facts)
    if not ordered:
        return None
    newest = ordered[-1].data
    return OfferFacts(
        offer_id=offer_id,
        version=ordered[-1].version,
        status=_str(newest.get("status")),
        opportunity_id=_str(latest(ordered, "opportunity_id")),
        company=company_of(latest(ordered, "customer")),
        owner=_str(newest.get("owner")),
        team=_str(newest.get("team")),
        currency=_str(newest.get("currency")),
        net_amount=decimal_of(latest(ordered, "totals", "net", "amount")),
        correlation_id=_journey(ordered),
        created_at=first_time(ordered, "offer.created.v1"),
        first_sent_at=first_time(ordered, "offer.sent.v1"),
        accepted_at=first_time(ordered, "offer.accepted.v1"),
    )


def fold_order(order_id: str, facts: Iterable[Fact]) -> OrderFacts | None:
    ordered = in_version_order(facts)
    if not ordered:
        return None
    newest = ordered[-1].data
    return OrderFacts(
        order_id=order_id,
        version=ordered[-1].version,
        status=_str(newest.get("status")),
        channel=_str(latest(ordered, "channel")),
        offer_id=_str(latest(ordered, "offer_id")),
        opportunity_id=_str(latest(ordered, "opportunity_id")),
        account_id=_str(latest(ordered, "account_id")),
        company=company_of(latest(ordered, "customer")),
        owner=_str(latest(ordered, "owner")),
        team=_str(latest(ordered, "team")),
        currency=_str(newest.get("currency")),
        net_amount=decimal_of(latest(ordered, "totals", "net", "amount")),
        correlation_id=_journey(ordered),
        received_at=first_time(ordered, "order.received.v1"),
        confirmed_at=first_time(ordered, "order.confirmed.v1"),
        completed_at=first_time(ordered, "order.completed.v1"),
    )


def fold_fulfillment(fulfillment_id: str, facts: Iterable[Fact]) -> FulfillmentFacts | None:
    ordered = in_version_order(facts)
    if not ordered:
        return None
    newest = ordered[-1].data
    return FulfillmentFacts(
        fulfillment_id=fulfillment_id,
        version=ordered[-1].version,
        status=_str(newest.get("status")),
        order_id=_str(latest(ordered, "order_id")),
        correlation_id=_journey(ordered),
        planned_at=first_time(ordered, "fulfillment.planned.v1"),
        delivered_at=first_time(
            ordered,
            "shipment.delivered.v1",
            where=lambda f: f.data.get("order_delivery") == "delivered",
        ),
        completed_at=first_time(ordered, "fulfillment.completed.v1"),
    )


def _journey(ordered: Sequence[Fact]) -> str:
    """The journey the aggregate belongs to: that of its earliest event."""
    first = min(ordered, key=lambda f: (f.time, f.id))
    return first.correlation_id
