"""Funnel math on a small hand-made data set with known answers."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from controlling.domain.funnel import (
    Filters,
    FunnelData,
    Lead,
    Offer,
    Opportunity,
    Order,
    Segment,
    compute_funnel,
    resolve_segments,
)
from controlling.domain.universe import UniverseCount

T0 = datetime(2026, 1, 5, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


WEB = Segment(country="DE", nace_section="C", owner="alice", team="north", source_channel="web")
EVENT = Segment(country="AT", nace_section="J", owner="bob", team="south", source_channel="event")

DATA = FunnelData(
    leads=[
        Lead("L1", WEB, created_at=h(0), mql_at=h(1), sql_at=h(3)),
        Lead("L2", WEB, created_at=h(0), mql_at=h(3), sql_at=h(9)),
        Lead("L3", EVENT, created_at=h(0), mql_at=h(5)),
        Lead("L4", EVENT, created_at=h(0), existing_customer=True),
    ],
    opportunities=[
        Opportunity(
            "O1",
            Segment(owner="alice", team="north"),  # source channel comes from L1
            lead_id="L1",
            opened_at=h(4),
            stage="won",
            closed_at=h(30),
            amount=Decimal("1000.00"),
            amount_currency="EUR",
            probability=100,
        ),
        Opportunity(
            "O2",
            Segment(owner="alice", team="north"),
            lead_id="L2",
            opened_at=h(12),
            stage="proposal",
            amount=Decimal("2000.00"),
            amount_currency="EUR",
            probability=30,
        ),
        Opportunity(  # follow-up of an existing customer: no lead
            "O3",
            Segment(owner="bob", team="south", country="AT"),
            opened_at=h(20),
            stage="lost",
            closed_at=h(40),
            amount=Decimal("500.00"),
            amount_currency="USD",
            probability=0,
        ),
        Opportunity(
            "O4",
            Segment(owner="bob", team="south", country="AT"),
            opened_at=h(21),
            stage="negotiation",
            amount=Decimal("333.33"),
            amount_currency="USD",
            probability=50,
        ),
    ],
    offers=[
        Offer("F1", Segment(owner="alice"), opportunity_id="O1", sent_at=h(10)),
        Offer("F2", Segment(owner="alice"), opportunity_id="O2", sent_at=h(20)),
    ],
    orders=[
        Order(
            "R1", Segment(), customer="c1", offer_id="F1", confirmed_at=h(31), delivered_at=h(50)
        ),
        Order("R2", Segment(), customer="c1", confirmed_at=h(60)),  # repeat: after R1's delivery
    ],
    universe=[
        UniverseCount("suspects", h(-10), "C", "small", "DE", "dnb", 50),
        UniverseCount("suspects", h(-10), "J", "large", "AT", "dnb", 30),
        UniverseCount("suspects", h(-10), None, None, "DE", "manual", 20),
        UniverseCount("suspects", h(5), "C", "small", "DE", "manual", 10),
        UniverseCount("prospects", h(-5), "C", "small", "DE", "dnb", 20),
        UniverseCount("prospects", h(-5), "J", "large", "AT", "dnb", 6),
        UniverseCount("prospects", h(6), "C", "small", "DE", "manual", 4),
    ],
)


def funnel(**filters):
    return compute_funnel(DATA, Filters(**filters), now=NOW)


def counts(result) -> dict:
    return {s.stage: s.count for s in result.stages}


def conversion(result, a: str):
    return next(c for c in result.conversions if c.from_stage == a)


def test_stage_counts_without_filters() -> None:
    assert counts(funnel()) == {
        "suspects": 110,
        "prospects": 30,
        "leads": 4,
        "mql": 3,
        "sql": 2,
        "opportunities": 4,
        "offers_sent": 2,
        "orders": 2,
        "delivered": 1,
        "repeat_business": 1,
    }


def test_linked_conversions_and_times_between_stages() -> None:
    result = funnel()
    leads_mql = conversion(result, "leads")
    assert (leads_mql.base, leads_mql.converted, leads_mql.rate) == (4, 3, 0.75)
    assert leads_mql.median_s == 3 * 3600  # 1h, 3h, 5h
    assert leads_mql.p90_s == 4.6 * 3600  # rank 1.8 between 3h and 5h
    mql_sql = conversion(result, "mql")
    assert (mql_sql.base, mql_sql.converted, mql_sql.rate) == (3, 2, 0.6667)
    assert mql_sql.median_s == 4 * 3600  # 2h and 6h
    sql_opp = conversion(result, "sql")
    assert (sql_opp.base, sql_opp.converted, sql_opp.rate, sql_opp.median_s) == (
        2,
        2,
        1.0,
        2 * 3600,
    )
    opp_offer = conversion(result, "opportunities")
    assert (opp_offer.base, opp_offer.converted, opp_offer.rate) == (4, 2, 0.5)
    assert opp_offer.median_s == 7 * 3600  # 6h and 8h
    offer_order = conversion(result, "offers_sent")
    assert (offer_order.converted, offer_order.rate, offer_order.median_s) == (1, 0.5, 21 * 3600)
    delivered = conversion(result, "orders")
    assert (delivered.base, delivered.converted, delivered.median_s) == (2, 1, 19 * 3600)
    repeat = conversion(result, "delivered")
    assert (repeat.base, repeat.converted, repeat.median_s) == (1, 1, 10 * 3600)
    assert leads_mql.basis == "entities" and leads_mql.reason is None


def test_win_rate_and_pipeline_per_currency() -> None:
    result = funnel()
    assert (result.win_rate.won, result.win_rate.lost, result.win_rate.rate) == (1, 1, 0.5)
    pipeline = {p.currency: p for p in result.pipeline.by_currency}
    assert pipeline["EUR"].value == Decimal("2000.00")
    assert pipeline["EUR"].weighted == Decimal("600.00")
    assert pipeline["USD"].value == Decimal("333.33")
    assert pipeline["USD"].weighted == Decimal("166.66")  # 166.665 rounded half-even
    assert result.pipeline.as_of == NOW


def test_pipeline_as_of_period_end_includes_later_closed_ones() -> None:
    result = funnel(end=h(25))  # O1 won at 30h and O3 lost at 40h were still open
    pipeline = {p.currency: p for p in result.pipeline.by_currency}
    assert pipeline["EUR"].open_opportunities == 2
    assert pipeline["EUR"].value == Decimal("3000.00")
    assert pipeline["USD"].open_opportunities == 2


def test_period_filters_each_stage_by_its_own_entry_time() -> None:
    result = funnel(start=h(2), end=h(21))
    assert counts(result)["mql"] == 2  # L2 at 3h, L3 at 5h
    assert counts(result)["opportunities"] == 3  # O1 at 4h, O2 at 12h, O3 at 20h (O4 at 21h is out)
    assert counts(result)["leads"] == 0


def test_filters_use_inherited_source_channel_and_segments() -> None:
    web = funnel(source_channel="web")
    assert counts(web)["opportunities"] == 2  # O1, O2 inherit "web" from their leads
    assert counts(web)["offers_sent"] == 2  # via the opportunities
    assert counts(web)["orders"] == 1  # R1 via F1; R2 has no link to a channel
    austria = funnel(country="AT")
    assert counts(austria)["leads"] == 2 and counts(austria)["opportunities"] == 2
    assert austria.win_rate.lost == 1 and austria.win_rate.won == 0


def test_owner_filter() -> None:
    result = funnel(owner="bob")
    assert counts(result)["leads"] == 2 and counts(result)["offers_sent"] == 0
    assert [p.currency for p in result.pipeline.by_currency] == ["USD"]


def test_segment_inheritance() -> None:
    resolved = resolve_segments(DATA)
    order = next(o for o in resolved.orders if o.order_id == "R1")
    assert order.segment.source_channel == "web" and order.segment.owner == "alice"
    assert order.segment.country == "DE"


def universe_row(result, a: str) -> tuple:
    c = conversion(result, a)
    return (c.base, c.converted, c.rate, c.median_s, c.p90_s)


def test_suspects_and_prospects_are_counted_per_cell() -> None:
    result = funnel()
    assert (counts(result)["suspects"], counts(result)["prospects"]) == (110, 30)
    assert all(s.reason is None for s in result.stages)
    # ratios of counts; times between these stages are not derivable
    assert universe_row(result, "suspects") == (110, 30, 0.2727, None, None)
    assert universe_row(result, "prospects") == (30, 3, 0.1, None, None)  # L4: a customer
    for stage in ("suspects", "prospects"):
        row = conversion(result, stage)
        assert row.basis == "counts" and "no times" in row.reason


def test_suspects_and_prospects_by_period_and_cell() -> None:
    in_period = funnel(start=h(2), end=h(21))
    assert (counts(in_period)["suspects"], counts(in_period)["prospects"]) == (10, 4)
    assert universe_row(in_period, "suspects") == (10, 4, 0.4, None, None)
    assert universe_row(in_period, "prospects") == (4, 0, 0.0, None, None)
    # a ratio of counts, not a cohort: prospects of the period imported before it
    wider = funnel(start=h(-6), end=h(21))
    assert universe_row(wider, "suspects") == (10, 30, 3.0, None, None)
    austria = funnel(country="AT")
    assert (counts(austria)["suspects"], counts(austria)["prospects"]) == (30, 6)
    assert universe_row(austria, "prospects") == (6, 1, 0.1667, None, None)  # L3; L4 a customer
    machinery = funnel(nace_section="C")  # the cell without a NACE section does not match
    assert (counts(machinery)["suspects"], counts(machinery)["prospects"]) == (60, 24)
    small = funnel(size_class="small", country="DE")
    assert (counts(small)["suspects"], counts(small)["prospects"]) == (60, 24)
    none = funnel(country="FR")
    assert universe_row(none, "suspects") == (0, 0, None, None, None)


def test_source_channel_filters_the_cells_data_source() -> None:
    dnb = funnel(source_channel="dnb")
    assert (counts(dnb)["suspects"], counts(dnb)["prospects"], counts(dnb)["leads"]) == (80, 26, 0)
    assert universe_row(dnb, "suspects") == (80, 26, 0.325, None, None)
    to_leads = conversion(dnb, "prospects")
    assert universe_row(dnb, "prospects") == (None, None, None, None, None)
    assert to_leads.reason is not None and "source_channel" in to_leads.reason
    web = funnel(source_channel="web")
    assert (counts(web)["suspects"], counts(web)["prospects"], counts(web)["leads"]) == (0, 0, 2)


def test_suspects_and_prospects_have_no_owner_or_team() -> None:
    for result in (funnel(owner="bob"), funnel(team="north"), funnel(owner="alice", country="DE")):
        by_stage = {s.stage: s for s in result.stages}
        for stage in ("suspects", "prospects"):
            assert by_stage[stage].count is None
            assert by_stage[stage].reason is not None
            assert by_stage[stage].reason.startswith("not attributable")
            assert universe_row(result, stage) == (None, None, None, None, None)
            assert conversion(result, stage).reason == by_stage[stage].reason
        assert by_stage["leads"].count is not None and by_stage["leads"].reason is None


def test_every_null_figure_of_a_conversion_is_explained() -> None:
    """The README promises a reason for every null figure of a conversion row."""
    for filters in (
        {},
        {"source_channel": "dnb"},  # no lead matches: every entity base is 0
        {"country": "FR"},  # nothing at all
        {"owner": "bob"},
        {"start": h(2), "end": h(21)},
    ):
        for row in funnel(**filters).conversions:
            figures = (row.base, row.converted, row.rate, row.median_s, row.p90_s)
            if any(f is None for f in figures):
                assert row.reason, (filters, row)


def test_conversion_reasons_name_the_cause() -> None:
    dnb = funnel(source_channel="dnb")
    leads = conversion(dnb, "leads")
    assert (leads.base, leads.rate, leads.median_s) == (0, None, None)
    assert "no entries in 'leads'" in leads.reason
    # entries but none converted: the rate is 0, only the times are null
    bob = conversion(funnel(owner="bob"), "mql")  # L3 reached mql, never sql
    assert (bob.base, bob.converted, bob.rate, bob.median_s) == (1, 0, 0.0, None)
    assert "none of the entries in 'mql' reached 'sql'" in bob.reason
    # a ratio of counts with no base: both the rate and the times are explained
    empty = conversion(funnel(country="FR"), "suspects")
    assert "no entries in 'suspects'" in empty.reason and "no times" in empty.reason
