"""The sales funnel from the folded read models.

Semantics (also served with every answer as ``counted_from`` / ``linked_by``):

- A stage *count* is the number of entities that entered the stage within the period
  (``from`` inclusive, ``to`` exclusive); the time of entry is the ``ce_time`` of the event that
  marks the stage.
- A *conversion* follows entities: of those that entered stage A within the period, the share
  that has reached stage B (whenever, as far as the events tell). Median and p90 of the time
  between the two stages are taken over those converted pairs. Rates stay within 0..1 even when
  stage B also has entries from elsewhere (e.g. follow-up opportunities that skip the lead stages).
- Filters (segment, owner, team, source channel) apply to the entity counted. Entities inherit
  what their own events lack from the entity they came from (offer ← opportunity ← lead,
  order ← offer / opportunity), so ``source_channel`` reaches orders.
- Suspects and prospects are counts per segment cell (``controlling.domain.universe``): sliced
  by period, NACE section, size class, country and ``source_channel`` (= the cell's data
  source); they have no owner or team, so with an owner or team filter (and for a sales rep)
  they are null with a reason. Their conversions are ratios of counts, not followed entities.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal

from controlling.domain.stats import money, percentile, rate
from controlling.domain.universe import (
    PROSPECTS,
    SUSPECTS,
    UniverseCount,
    UniverseFilters,
    universe_counts,
)

SEGMENT_FIELDS = ("nace_section", "size_class", "country", "owner", "team", "source_channel")


@dataclass(frozen=True)
class Segment:
    """What the funnel can be sliced by, as known for one entity."""

    nace_section: str | None = None
    size_class: str | None = None
    country: str | None = None
    owner: str | None = None
    team: str | None = None
    source_channel: str | None = None

    def inherit(self, parent: Segment | None) -> Segment:
        """Fill what this entity does not know from the entity it came from."""
        if parent is None:
            return self
        return replace(
            self,
            **{
                f.name: getattr(parent, f.name)
                for f in fields(self)
                if getattr(self, f.name) is None
            },
        )


@dataclass(frozen=True)
class Filters:
    """Period ``[start, end)`` and exact-match filters; ``None`` means no restriction."""

    start: datetime | None = None
    end: datetime | None = None
    nace_section: str | None = None
    size_class: str | None = None
    country: str | None = None
    owner: str | None = None
    team: str | None = None
    source_channel: str | None = None

    def in_period(self, when: datetime | None) -> bool:
        if when is None:
            return False
        if self.start is not None and when < self.start:
            return False
        return self.end is None or when < self.end

    def matches(self, segment: Segment) -> bool:
        for name in SEGMENT_FIELDS:
            wanted = getattr(self, name)
            if wanted is not None and getattr(segment, name) != wanted:
                return False
        return True


@dataclass(frozen=True)
class Lead:
    lead_id: str
    segment: Segment
    created_at: datetime | None = None
    mql_at: datetime | None = None
    sql_at: datetime | None = None
    existing_customer: bool = False


@dataclass(frozen=True)
class Opportunity:
    opportunity_id: str
    segment: Segment
    lead_id: str | None = None
    opened_at: datetime | None = None
    stage: str | None = None
    closed_at: datetime | None = None
    amount: Decimal | None = None
    amount_currency: str | None = None
    probability: int | None = None

    @property
    def won(self) -> bool:
        return self.stage == "won"

    def open_at(self, when: datetime) -> bool:
        """Opened before ``when`` and not yet won or lost at ``when``."""
        if self.opened_at is None or self.opened_at >= when:
            return False
        return self.closed_at is None or self.closed_at >= when


@dataclass(frozen=True)
class Offer:
    offer_id: str
    segment: Segment
    opportunity_id: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Order:
    order_id: str
    segment: Segment
    customer: str | None = None  # company id (account id when unknown)
    offer_id: str | None = None
    opportunity_id: str | None = None
    confirmed_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class FunnelData:
    leads: Sequence[Lead] = ()
    opportunities: Sequence[Opportunity] = ()
    offers: Sequence[Offer] = ()
    orders: Sequence[Order] = ()
    universe: Sequence[UniverseCount] = ()


@dataclass(frozen=True)
class StageCount:
    stage: str
    count: int | None
    counted_from: str
    reason: str | None = None  # why ``count`` is None


@dataclass(frozen=True)
class Conversion:
    from_stage: str
    to_stage: str
    base: int | None
    converted: int | None
    rate: float | None
    median_s: float | None
    p90_s: float | None
    linked_by: str
    basis: str = "entities"  # entities followed from stage to stage, or a ratio of "counts"
    reason: str | None = None  # why a figure of the row is None


@dataclass(frozen=True)
class WinRate:
    won: int
    lost: int
    rate: float | None


@dataclass(frozen=True)
class PipelineValue:
    currency: str
    open_opportunities: int
    value: Decimal
    weighted: Decimal


@dataclass(frozen=True)
class Pipeline:
    as_of: datetime
    by_currency: list[PipelineValue]
    open_without_amount: int


@dataclass(frozen=True)
class FunnelResult:
    stages: list[StageCount]
    conversions: list[Conversion]
    win_rate: WinRate
    pipeline: Pipeline


STAGES: tuple[tuple[str, str], ...] = (
    (
        SUSPECTS,
        "companies.imported: companies new to the universe, summed over the cells of each "
        "committed import chunk (time: the chunk event's ce_time; source_channel filters the "
        "cell's data source, e.g. dnb)",
    ),
    (
        PROSPECTS,
        "prospects.materialized: suspects that became prospects of a segment, summed over the "
        "cells of each committed materialization chunk (time: the chunk event's ce_time; "
        "source_channel filters the cell's data source)",
    ),
    ("leads", "lead.created: leads created"),
    ("mql", "lead.mql: leads that crossed the MQL threshold"),
    ("sql", "lead.sql: leads qualified by a rep (first contact + needs analysis)"),
    ("opportunities", "opportunity.opened: opportunities opened (from leads, follow-ups, manual)"),
    ("offers_sent", "offer.sent: offers sent to the customer (first sending of each offer)"),
    ("orders", "order.confirmed: orders that passed validation (rejected orders excluded)"),
    (
        "delivered",
        "orders fully delivered: the first of shipment.delivered with order_delivery=delivered, "
        "fulfillment.completed or order.completed for the order",
    ),
    (
        "repeat_business",
        "order.confirmed of a customer (company id) with an order delivered before it",
    ),
)

LINKS: dict[tuple[str, str], str] = {
    (SUSPECTS, PROSPECTS): "ratio of counts: prospects / suspects of the same period and slice "
    "(the events name no company, so no company is followed; can exceed 1 when the prospects "
    "of the period were imported earlier)",
    (PROSPECTS, "leads"): "ratio of counts: leads created for companies that are not yet "
    "customers / prospects of the same period and slice (no company is followed)",
    ("leads", "mql"): "same lead reached lead.mql",
    ("mql", "sql"): "same lead reached lead.sql",
    ("sql", "opportunities"): "an opportunity.opened names the lead (lead_id)",
    ("opportunities", "offers_sent"): "an offer of the opportunity was sent (first sending)",
    ("offers_sent", "orders"): "an order from the offer (offer_id) was confirmed",
    ("orders", "delivered"): "the order was fully delivered",
    ("delivered", "repeat_business"): "the customer confirmed a later order",
}


def resolve_segments(data: FunnelData) -> FunnelData:
    """Let offers and orders inherit from their opportunity, opportunities from their lead."""
    leads = {lead.lead_id: lead for lead in data.leads}
    opportunities = [
        replace(o, segment=o.segment.inherit(_segment(leads.get(o.lead_id or ""))))
        for o in data.opportunities
    ]
    by_opportunity = {o.opportunity_id: o for o in opportunities}
    offers = [
        replace(o, segment=o.segment.inherit(_segment(by_opportunity.get(o.opportunity_id or ""))))
        for o in data.offers
    ]
    by_offer = {o.offer_id: o for o in offers}
    orders = []
    for order in data.orders:
        offer = by_offer.get(order.offer_id or "")
        opportunity_id = order.opportunity_id or (offer.opportunity_id if offer else None)
        segment = order.segment.inherit(_segment(offer)).inherit(
            _segment(by_opportunity.get(opportunity_id or ""))
        )
        orders.append(replace(order, segment=segment))
    return replace(data, opportunities=opportunities, offers=offers, orders=orders)


def _segment(entity: Lead | Opportunity | Offer | None) -> Segment | None:
    return entity.segment if entity is not None else None


@dataclass
class _Stage:
    """Entities of one stage: id -> time of entry, for every entity and for the filtered ones."""

    entered: dict[str, datetime] = field(default_factory=dict)
    selected: set[str] = field(default_factory=set)


NOT_ATTRIBUTABLE = (
    "not attributable: suspects and prospects are counted per segment cell and belong to no "
    "owner or team, so they cannot be counted under an owner or team filter (nor in a sales "
    "rep's own figures)"
)
NO_TIMES = (
    "no times between these stages: the chunk events count companies per cell and follow no "
    "company from stage to stage"
)
NOT_COUNTED = "the stage is not counted"


def no_base(stage: str) -> str:
    return (
        f"no entries in '{stage}' within the period and filters: no rate (nothing to divide "
        "by) and no times"
    )


def none_reached(a: str, b: str) -> str:
    return f"none of the entries in '{a}' reached '{b}': no times to take a median or p90 of"


CHANNELS_DIFFER = (
    "not comparable under a source_channel filter: it selects prospects by their data source "
    "(e.g. dnb) and leads by their marketing channel (e.g. webinar)"
)


def compute_funnel(data: FunnelData, filters: Filters, *, now: datetime) -> FunnelResult:
    data = resolve_segments(data)
    stages = _stage_entries(data, filters)
    universe, not_counted = _universe(data, filters)
    counts = [
        StageCount(name, universe.get(name), source, not_counted)
        if name in (SUSPECTS, PROSPECTS)
        else StageCount(name, len(stages[name].selected) if name in stages else None, source)
        for name, source in STAGES
    ]
    new_leads = sum(
        1
        for lead in data.leads
        if lead.lead_id in stages["leads"].selected and not lead.existing_customer
    )
    conversions = [
        _count_conversion(SUSPECTS, PROSPECTS, universe, universe.get(PROSPECTS), not_counted),
        _count_conversion(
            PROSPECTS,
            "leads",
            universe,
            new_leads,
            not_counted or (CHANNELS_DIFFER if filters.source_channel is not None else None),
        ),
        *(
            _conversion(a, b, stages, _successors(a, data))
            for (a, _), (b, _) in itertools.pairwise(STAGES[2:])
        ),
    ]
    return FunnelResult(
        stages=counts,
        conversions=conversions,
        win_rate=win_rate(data.opportunities, filters),
        pipeline=pipeline(data.opportunities, filters, as_of=filters.end or now),
    )


def _universe(data: FunnelData, filters: Filters) -> tuple[dict[str, int], str | None]:
    """Suspects and prospects in the period and slice, or why they cannot be counted."""
    if filters.owner is not None or filters.team is not None:
        return {}, NOT_ATTRIBUTABLE
    slice_ = UniverseFilters(
        start=filters.start,
        end=filters.end,
        nace_section=filters.nace_section,
        size_class=filters.size_class,
        country=filters.country,
        source=filters.source_channel,  # the closest meaning: where the company came from
    )
    return universe_counts(data.universe, slice_, (SUSPECTS, PROSPECTS)), None


def _count_conversion(
    a: str, b: str, universe: dict[str, int], converted: int | None, reason: str | None
) -> Conversion:
    """A conversion from a stage counted per cell: the ratio of the two stages' counts."""
    link = LINKS[(a, b)]
    base = universe.get(a)
    if reason is not None or base is None or converted is None:
        reason = reason or NOT_COUNTED
        return Conversion(a, b, None, None, None, None, None, link, "counts", reason)
    if base == 0:  # the rate is null too, for a reason of its own
        return Conversion(
            a, b, 0, converted, None, None, None, link, "counts", f"{no_base(a)}; {NO_TIMES}"
        )
    return Conversion(
        a, b, base, converted, rate(converted, base), None, None, link, "counts", NO_TIMES
    )


def _stage_entries(data: FunnelData, filters: Filters) -> dict[str, _Stage]:
    stages: dict[str, _Stage] = defaultdict(_Stage)

    def enter(stage: str, key: str, when: datetime | None, segment: Segment) -> None:
        if when is None:
            return
        stages[stage].entered[key] = when
        if filters.in_period(when) and filters.matches(segment):
            stages[stage].selected.add(key)

    for lead in data.leads:
        enter("leads", lead.lead_id, lead.created_at, lead.segment)
        enter("mql", lead.lead_id, lead.mql_at, lead.segment)
        enter("sql", lead.lead_id, lead.sql_at, lead.segment)
    for opp in data.opportunities:
        enter("opportunities", opp.opportunity_id, opp.opened_at, opp.segment)
    for offer in data.offers:
        enter("offers_sent", offer.offer_id, offer.sent_at, offer.segment)
    delivered_before: dict[str, list[datetime]] = defaultdict(list)
    for order in data.orders:
        enter("orders", order.order_id, order.confirmed_at, order.segment)
        enter("delivered", order.order_id, order.delivered_at, order.segment)
        if order.customer and order.delivered_at:
            delivered_before[order.customer].append(order.delivered_at)
    for order in data.orders:
        earlier = delivered_before.get(order.customer or "", [])
        if order.confirmed_at and any(d < order.confirmed_at for d in earlier):
            enter("repeat_business", order.order_id, order.confirmed_at, order.segment)
    for name, _ in STAGES[2:]:
        stages.setdefault(name, _Stage())
    return stages


def _successors(stage: str, data: FunnelData) -> dict[str, datetime]:
    """For each entity of ``stage``: when it reached the next stage (the earliest link)."""
    reached: dict[str, datetime] = {}

    def keep(key: str | None, when: datetime | None) -> None:
        if key and when is not None and (key not in reached or when < reached[key]):
            reached[key] = when

    if stage == "leads":
        for lead in data.leads:
            keep(lead.lead_id, lead.mql_at)
    elif stage == "mql":
        for lead in data.leads:
            keep(lead.lead_id, lead.sql_at)
    elif stage == "sql":
        for opp in data.opportunities:
            keep(opp.lead_id, opp.opened_at)
    elif stage == "opportunities":
        for offer in data.offers:
            keep(offer.opportunity_id, offer.sent_at)
    elif stage == "offers_sent":
        for order in data.orders:
            keep(order.offer_id, order.confirmed_at)
    elif stage == "orders":
        for order in data.orders:
            keep(order.order_id, order.delivered_at)
    elif stage == "delivered":
        confirmed: dict[str, list[datetime]] = defaultdict(list)
        for order in data.orders:
            if order.customer and order.confirmed_at:
                confirmed[order.customer].append(order.confirmed_at)
        for order in data.orders:
            if order.delivered_at is None or not order.customer:
                continue
            later = [c for c in confirmed[order.customer] if c > order.delivered_at]
            keep(order.order_id, min(later, default=None))
    return reached


def _conversion(
    a: str, b: str, stages: dict[str, _Stage], reached: dict[str, datetime]
) -> Conversion:
    link = LINKS[(a, b)]
    if a not in stages or b not in stages:
        return Conversion(a, b, None, None, None, None, None, link, reason=NOT_COUNTED)
    base = stages[a]
    durations = [
        (reached[key] - base.entered[key]).total_seconds()
        for key in base.selected
        if key in reached
    ]
    # every null figure is explained (README): no base nulls all, no conversions the times
    reason = None
    if not base.selected:
        reason = no_base(a)
    elif not durations:
        reason = none_reached(a, b)
    return Conversion(
        from_stage=a,
        to_stage=b,
        base=len(base.selected),
        converted=len(durations),
        rate=rate(len(durations), len(base.selected)),
        median_s=percentile(durations, 50),
        p90_s=percentile(durations, 90),
        linked_by=link,
        reason=reason,
    )


def win_rate(opportunities: Iterable[Opportunity], filters: Filters) -> WinRate:
    """Of the opportunities won or lost within the period: the share won."""
    won = lost = 0
    for opp in opportunities:
        if opp.stage not in ("won", "lost") or not filters.in_period(opp.closed_at):
            continue
        if not filters.matches(opp.segment):
            continue
        if opp.won:
            won += 1
        else:
            lost += 1
    return WinRate(won=won, lost=lost, rate=rate(won, won + lost))


def pipeline(
    opportunities: Iterable[Opportunity], filters: Filters, *, as_of: datetime
) -> Pipeline:
    """Open opportunities at ``as_of``: their expected value and the value weighted by win
    probability, per currency (never converted)."""
    value: dict[str, Decimal] = defaultdict(Decimal)
    weighted: dict[str, Decimal] = defaultdict(Decimal)
    count: dict[str, int] = defaultdict(int)
    without_amount = 0
    for opp in opportunities:
        if not opp.open_at(as_of) or not filters.matches(opp.segment):
            continue
        if opp.amount is None or opp.amount_currency is None:
            without_amount += 1
            continue
        value[opp.amount_currency] += opp.amount
        weighted[opp.amount_currency] += opp.amount * Decimal(opp.probability or 0) / 100
        count[opp.amount_currency] += 1
    return Pipeline(
        as_of=as_of,
        by_currency=[
            PipelineValue(c, count[c], money(value[c]), money(weighted[c])) for c in sorted(value)
        ],
        open_without_amount=without_amount,
    )
