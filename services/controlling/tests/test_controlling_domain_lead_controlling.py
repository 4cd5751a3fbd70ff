"""Lead controlling per rep and team on hand-made leads with known answers."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from controlling.domain.funnel import Filters, Opportunity, Segment
from controlling.domain.lead_controlling import AssignedLead, compute_lead_controlling

T0 = datetime(2026, 2, 2, 8, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def lead(lid, owner, team, assigned, contact=None, sql=None, closed=None) -> AssignedLead:
    return AssignedLead(lid, Segment(owner=owner, team=team), assigned, contact, sql, closed)


LEADS = [
    lead("A1", "alice", "north", h(0), contact=h(2), sql=h(5), closed=h(6)),
    lead("A2", "alice", "north", h(1), contact=h(5), sql=h(8)),
    lead("A3", "alice", "north", h(2)),
    lead("A4", "alice", "north", h(3), contact=h(2)),  # contact before assignment: 0
    lead("B1", "bob", "north", h(0), closed=h(1)),  # disqualified
    lead("C1", "carol", "south", h(30)),
]
OPPORTUNITIES = [
    Opportunity(
        "O1",
        Segment(owner="alice", team="north"),
        lead_id="A1",
        opened_at=h(6),
        stage="won",
        closed_at=h(20),
        amount=Decimal("100"),
        amount_currency="EUR",
        probability=100,
    ),
    Opportunity(
        "O2",
        Segment(owner="alice", team="north"),
        lead_id="A2",
        opened_at=h(9),
        stage="proposal",
        amount=Decimal("400"),
        amount_currency="EUR",
        probability=25,
    ),
]


def compute(**filters):
    return compute_lead_controlling(
        LEADS,
        OPPORTUNITIES,
        Filters(**filters),
        capacity_of=lambda rep: {"alice": 4}.get(rep, 10),
        now=h(100),
    )


def test_rep_figures() -> None:
    result = compute()
    alice = next(r for r in result.reps if r.key == "alice")
    assert alice.team == "north"
    assert alice.assigned == 4
    assert alice.first_contacted == 3
    assert alice.first_contact_median_s == 2 * 3600  # 2h, 4h, 0h
    assert alice.first_contact_p90_s == 3.6 * 3600
    assert (alice.sql, alice.sql_rate) == (2, 0.5)
    assert (alice.won, alice.won_rate) == (1, 0.25)
    assert alice.open_leads == 3  # A1 was converted
    assert (alice.capacity, alice.capacity_use) == (4, 0.75)
    [eur] = alice.open_pipeline.by_currency
    assert (eur.value, eur.weighted, eur.open_opportunities) == (
        Decimal("400.00"),
        Decimal("100.00"),
        1,
    )


def test_team_figures_sum_their_reps() -> None:
    result = compute()
    north = next(t for t in result.teams if t.key == "north")
    assert north.assigned == 5 and north.open_leads == 3
    assert north.capacity == 14  # alice 4 + bob 10
    assert north.capacity_use == round(3 / 14, 4)
    assert [t.key for t in result.teams] == ["north", "south"]


def test_period_and_owner_filters() -> None:
    result = compute(start=h(1), end=h(4), owner="alice")
    assert [r.key for r in result.reps] == ["alice"]
    alice = result.reps[0]
    assert alice.assigned == 3  # A2, A3, A4
    assert alice.open_leads == 4  # at 4h: A1 closes at 6h
    [eur] = alice.open_pipeline.by_currency or [None]
    assert eur is None  # no opportunity was open at 4h


def test_first_contact_in_the_future_counts_as_when_it_was_recorded() -> None:
    """lead.sql recorded at 5h claims a first contact in 2999: it happened by 5h at the latest
    (as a contact before the assignment counts as 0), not 973 years later."""
    future = datetime(2999, 1, 1, tzinfo=UTC)
    leads = [lead("D1", "dora", "east", h(1), contact=future, sql=h(5))]
    result = compute_lead_controlling(leads, [], Filters(), capacity_of=lambda rep: 10, now=h(100))
    [dora] = result.reps
    assert dora.first_contacted == 1
    assert dora.first_contact_median_s == dora.first_contact_p90_s == 4 * 3600
