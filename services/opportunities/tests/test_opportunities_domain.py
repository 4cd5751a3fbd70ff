"""Pure rules: the stage machine, win probabilities, offer outcomes, staleness, forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from opportunities.domain import forecast, money, offers, probability, stages, timing
from opportunities.domain.stages import Stage
from salesflow.contracts.types import Money

Q, NA, P, N, WON, LOST = (
    Stage.QUALIFICATION,
    Stage.NEEDS_ANALYSIS,
    Stage.PROPOSAL,
    Stage.NEGOTIATION,
    Stage.WON,
    Stage.LOST,
)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- stage machine ------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), [(Q, NA), (NA, P), (P, N)])
def test_manual_move_one_step_forward(current: Stage, target: Stage) -> None:
    assert stages.check_manual_move(current, target) is True


@pytest.mark.parametrize(("current", "target"), [(N, Q), (N, P), (P, NA), (NA, Q)])
def test_manual_move_back_to_an_earlier_open_stage(current: Stage, target: Stage) -> None:
    assert stages.check_manual_move(current, target) is True


@pytest.mark.parametrize(("current", "target"), [(Q, P), (Q, N), (NA, N)])
def test_manual_move_cannot_skip_stages(current: Stage, target: Stage) -> None:
    with pytest.raises(stages.StageError, match="cannot skip"):
        stages.check_manual_move(current, target)


def test_manual_move_to_the_current_stage_is_no_move() -> None:
    assert stages.check_manual_move(P, P) is False


def test_won_only_by_an_accepted_offer_and_lost_only_with_a_reason() -> None:
    with pytest.raises(stages.StageError, match="accepted offer"):
        stages.check_manual_move(N, WON)
    with pytest.raises(stages.StageError, match="/lose"):
        stages.check_manual_move(N, LOST)


@pytest.mark.parametrize("final", [WON, LOST])
@pytest.mark.parametrize("target", [Q, NA, P, N, WON, LOST])
def test_won_and_lost_are_final(final: Stage, target: Stage) -> None:
    with pytest.raises(stages.FinalStageError):
        stages.check_manual_move(final, target)
    with pytest.raises(stages.FinalStageError):
        stages.ensure_open(final)


def test_automatic_moves_go_forward_only_and_never_leave_a_final_stage() -> None:
    assert stages.automatic_move(Q, P)  # skipping is fine when an offer was sent
    assert stages.automatic_move(P, N)
    assert not stages.automatic_move(N, P)  # a late offer.sent does not pull negotiation back
    assert not stages.automatic_move(P, P)
    assert not stages.automatic_move(WON, N)
    assert not stages.automatic_move(LOST, P)


# --- probability --------------------------------------------------------------------------------


def test_default_probability_per_stage() -> None:
    table = probability.stage_defaults()
    assert [table[s] for s in (Q, NA, P, N, WON, LOST)] == [10, 20, 50, 75, 100, 0]
    assert probability.effective(P, None, table) == 50


def test_override_wins_on_open_stages_but_not_on_final_ones() -> None:
    table = probability.stage_defaults()
    assert probability.effective(P, 35, table) == 35
    assert probability.effective(WON, 35, table) == 100
    assert probability.effective(LOST, 35, table) == 0


def test_stage_change_drops_the_override_unless_set_with_it() -> None:
    assert probability.override_after_stage_change(35, set_in_same_change=False) is None
    assert probability.override_after_stage_change(60, set_in_same_change=True) == 60


def test_configured_defaults_are_validated() -> None:
    assert probability.stage_defaults({"proposal": 40})[P] == 40
    with pytest.raises(ValueError, match="unknown stage"):
        probability.stage_defaults({"closing": 40})
    with pytest.raises(ValueError, match="fixed"):
        probability.stage_defaults({"won": 90})
    with pytest.raises(ValueError, match="0-100"):
        probability.stage_defaults({"proposal": 140})


# --- offers -------------------------------------------------------------------------------------


def test_offer_sent_moves_to_proposal_and_revised_to_negotiation() -> None:
    assert offers.outcome("offer.sent.v1", Q, 0) == offers.Outcome(offers.Effect.MOVE, P)
    assert offers.outcome("offer.sent.v1", NA, 0) == offers.Outcome(offers.Effect.MOVE, P)
    assert offers.outcome("offer.revised.v1", P, 0) == offers.Outcome(offers.Effect.MOVE, N)
    assert offers.outcome("offer.sent.v1", N, 0) == offers.NOTHING  # v2 sent in negotiation
    assert offers.outcome("offer.created.v1", Q, 0) == offers.NOTHING


def test_offer_accepted_wins() -> None:
    assert offers.outcome("offer.accepted.v1", N, 2) == offers.Outcome(offers.Effect.WON, WON)


def test_rejection_or_expiry_loses_only_without_another_open_offer() -> None:
    rejected = offers.outcome("offer.rejected.v1", P, 0, reason="too expensive")
    assert rejected == offers.Outcome(offers.Effect.LOST, LOST, "too expensive")
    expired = offers.outcome("offer.expired.v1", N, 0)
    assert expired == offers.Outcome(offers.Effect.LOST, LOST, "offer expired")
    assert offers.outcome("offer.rejected.v1", P, 1, reason="x") == offers.NOTHING
    assert offers.outcome("offer.expired.v1", P, 1) == offers.NOTHING


@pytest.mark.parametrize("final", [WON, LOST])
@pytest.mark.parametrize("event_type", ["offer.sent.v1", "offer.accepted.v1", "offer.rejected.v1"])
def test_offer_events_do_not_touch_closed_deals(final: Stage, event_type: str) -> None:
    assert offers.outcome(event_type, final, 0, reason="r") == offers.NOTHING


def test_stale_offer_versions_and_open_statuses() -> None:
    assert not offers.is_stale(None, 1)
    assert not offers.is_stale(3, 4)
    assert offers.is_stale(4, 4)  # a redelivered or replayed version
    assert offers.is_stale(4, 2)
    assert offers.is_open("sent") and offers.is_open("draft") and offers.is_open("approved")
    assert not any(offers.is_open(s) for s in ("accepted", "rejected", "expired"))


# --- time ---------------------------------------------------------------------------------------


def test_stale_after_n_days_without_activity_for_open_deals_only() -> None:
    after = timedelta(days=14)
    assert not timing.is_stale(P, T0, T0 + timedelta(days=13, hours=23), after)
    assert timing.is_stale(P, T0, T0 + timedelta(days=14), after)
    assert not timing.is_stale(WON, T0, T0 + timedelta(days=100), after)
    assert not timing.is_stale(LOST, T0, T0 + timedelta(days=100), after)


def test_time_in_stage_sums_every_visit_and_counts_the_current_one_until_now() -> None:
    h = timedelta(hours=1)
    spans = [
        timing.Span(Q, T0, T0 + 2 * h),
        timing.Span(NA, T0 + 2 * h, T0 + 3 * h),
        timing.Span(Q, T0 + 3 * h, T0 + 4 * h),  # moved back
        timing.Span(NA, T0 + 4 * h, None),
    ]
    assert timing.time_in_stages(spans, T0 + 10 * h) == {
        "qualification": 3 * 3600,
        "needs_analysis": 7 * 3600,
    }
    closed = [
        *spans[:3],
        timing.Span(NA, T0 + 4 * h, T0 + 5 * h),
        timing.Span(LOST, T0 + 5 * h, None),
    ]
    assert timing.time_in_stages(closed, T0 + 10 * h) == {
        "qualification": 3 * 3600,
        "needs_analysis": 2 * 3600,
    }
    assert timing.seconds_in(closed[-1], T0 + 10 * h) == 0


# --- forecast -----------------------------------------------------------------------------------


def test_periods() -> None:
    assert forecast.period_of(date(2026, 3, 31), "month") == "2026-03"
    assert forecast.period_of(date(2026, 3, 31), "quarter") == "2026-Q1"
    assert forecast.period_of(date(2026, 4, 1), "quarter") == "2026-Q2"
    assert forecast.period_of(date(2026, 12, 1), "quarter") == "2026-Q4"


def test_weighted_pipeline_per_owner_team_period_and_currency() -> None:
    deals = [
        forecast.Deal("alice", "south", "EUR", Decimal("10000.00"), 50, date(2026, 1, 15)),
        forecast.Deal("alice", "south", "EUR", Decimal("2000.00"), 75, date(2026, 2, 1)),
        forecast.Deal("bob", "south", "EUR", Decimal("333.33"), 10, date(2026, 3, 31)),
        forecast.Deal("bob", "south", "USD", Decimal("1000"), 20, date(2026, 3, 1)),
        forecast.Deal("carol", "north", "EUR", Decimal("500"), 20, date(2026, 4, 1)),
    ]
    result = forecast.forecast(deals, "quarter")
    owners = {
        (x.period, x.currency, x.key): (x.count, x.amount, x.weighted) for x in result.by_owner
    }
    assert owners == {
        ("2026-Q1", "EUR", "alice"): (2, Decimal("12000.00"), Decimal("6500.00")),
        ("2026-Q1", "EUR", "bob"): (1, Decimal("333.33"), Decimal("33.33")),
        ("2026-Q1", "USD", "bob"): (1, Decimal("1000.00"), Decimal("200.00")),
        ("2026-Q2", "EUR", "carol"): (1, Decimal("500.00"), Decimal("100.00")),
    }
    teams = {(x.period, x.currency, x.key): x.weighted for x in result.by_team}
    assert teams == {
        ("2026-Q1", "EUR", "south"): Decimal("6533.33"),
        ("2026-Q1", "USD", "south"): Decimal("200.00"),
        ("2026-Q2", "EUR", "north"): Decimal("100.00"),
    }
    # currencies are never added up
    assert [(x.period, x.currency, x.count) for x in result.totals] == [
        ("2026-Q1", "EUR", 3),
        ("2026-Q1", "USD", 1),
        ("2026-Q2", "EUR", 1),
    ]
    months = forecast.forecast(deals, "month")
    assert [x.period for x in months.totals] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-03",
        "2026-04",
    ]


def test_amounts_keep_four_places_and_show_at_least_two() -> None:
    assert str(money.normalized(Decimal("50000"))) == "50000.00"
    assert str(money.normalized(Decimal("1.23456"))) == "1.2346"
    assert str(money.normalized(Decimal("12.5000"))) == "12.50"
    assert str(money.normalized(Decimal("0.00005"))) == "0.00"  # banker's rounding


def test_amounts_are_shown_with_the_currency_minor_unit() -> None:
    assert str(money.shown(Decimal("3002.00"), "JPY")) == "3002"
    assert str(money.shown(Decimal("3002.50"), "JPY")) == "3002.5"
    assert str(money.shown(Decimal("100"), "EUR")) == "100.00"
    assert str(money.shown(Decimal("1.2345"), "EUR")) == "1.2345"
    assert str(money.shown(Decimal("1.50"), "BHD")) == "1.500"
    assert str(money.shown(Decimal("7.00"), "XYZ")) == "7.00"  # unknown code: two places
    assert str(money.shown(Decimal("1E+2"), "EUR")) == "100.00"


def test_forecast_sums_are_rounded_to_the_currency_minor_unit() -> None:
    deals = [
        forecast.Deal("alice", "south", "JPY", Decimal("3002.00"), 10, date(2026, 1, 15)),
        forecast.Deal("alice", "south", "BHD", Decimal("1.5"), 10, date(2026, 1, 15)),
    ]
    totals = forecast.forecast(deals, "month").totals
    assert [(x.currency, str(x.amount), str(x.weighted)) for x in totals] == [
        ("BHD", "1.500", "0.150"),
        ("JPY", "3002", "300"),
    ]


def test_deal_currency_prefers_the_estimate_then_the_budget_then_the_default() -> None:
    usd = Money(amount=Decimal(1), currency="USD")
    chf = Money(amount=Decimal(1), currency="CHF")
    assert money.deal_currency(usd, chf, default="EUR") == "USD"
    assert money.deal_currency(None, chf, default="EUR") == "CHF"
    assert money.deal_currency(None, None, default="EUR") == "EUR"
