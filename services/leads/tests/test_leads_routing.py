"""Routing: territories → team, round-robin fairness, per-rep capacity, fallback queue."""

from collections import Counter
from dataclasses import dataclass

from leads.domain.routing import Rep, RoutingRules, Team, Territory, route
from leads.reference import nace_table

TABLE = nace_table("2.1")


@dataclass
class Company:
    country: str = "DE"
    region: str | None = "DE212"
    nace: str | None = "62.10"
    nace_rev: str | None = "2.1"
    size_class: str | None = "medium"


def rules(**kw: object) -> RoutingRules:
    values: dict = {
        "version": 2,
        "territories": (
            Territory("bavaria-it", "south", countries=("DE",), regions=("DE2",), nace=("K",)),
            Territory("dach", "dach", countries=("DE", "AT", "CH")),
        ),
        "teams": {
            "south": Team("south", (Rep("ann"), Rep("bob"), Rep("cem"))),
            "dach": Team("dach", (Rep("dora", capacity=1),)),
        },
        "default_capacity": 10,
        "fallback_queue": "triage",
    }
    values.update(kw)
    return RoutingRules(**values)


def test_first_matching_territory_wins() -> None:
    a = route(rules(), Company(), {}, {}, TABLE)
    assert (a.team, a.rule, a.owner) == ("south", "bavaria-it", "ann")
    other_section = route(rules(), Company(nace="01.11"), {}, {}, TABLE)
    assert (other_section.team, other_section.rule) == ("dach", "dach")
    north = route(rules(), Company(region="DE11"), {}, {}, TABLE)
    assert north.team == "dach"


def test_no_territory_goes_to_default_team_or_queue() -> None:
    fr = Company(country="FR", region="FR10")
    a = route(rules(), fr, {}, {}, TABLE)
    assert (a.team, a.owner, a.queue, a.reason) == (None, None, "triage", "no territory matches")
    b = route(rules(default_team="dach"), fr, {}, {}, TABLE)
    assert (b.team, b.owner) == ("dach", "dora")


def test_round_robin_is_fair() -> None:
    r = rules(default_capacity=1000)
    last: dict[str, str | None] = {}
    counts: Counter[str] = Counter()
    for _ in range(300):
        a = route(r, Company(), counts, last, TABLE)
        assert a.owner is not None
        counts[a.owner] += 1
        last[a.team] = a.owner  # type: ignore[index]
    assert counts == {"ann": 100, "bob": 100, "cem": 100}


def test_round_robin_continues_after_the_last_rep() -> None:
    assert route(rules(), Company(), {}, {"south": "ann"}, TABLE).owner == "bob"
    assert route(rules(), Company(), {}, {"south": "cem"}, TABLE).owner == "ann"
    assert route(rules(), Company(), {}, {"south": "gone"}, TABLE).owner == "ann"


def test_reps_at_capacity_are_skipped() -> None:
    full = {"bob": 10}
    a = route(rules(), Company(), full, {"south": "ann"}, TABLE)
    assert a.owner == "cem"
    one_slot = rules(
        teams={"south": Team("south", (Rep("ann", capacity=2), Rep("bob", capacity=0)))}
    )
    assert route(one_slot, Company(), {"ann": 1}, {}, TABLE).owner == "ann"
    assert route(one_slot, Company(), {"ann": 2}, {}, TABLE).owner is None


def test_fallback_queue_when_everyone_is_full() -> None:
    a = route(rules(), Company(), {"ann": 10, "bob": 10, "cem": 10}, {}, TABLE)
    assert (a.team, a.owner, a.queue, a.reason) == (
        "south",
        None,
        "triage",
        "every rep at capacity",
    )


def test_team_without_reps_queues() -> None:
    r = rules(teams={"south": Team("south", ())})
    assert route(r, Company(), {}, {}, TABLE).queue == "triage"
