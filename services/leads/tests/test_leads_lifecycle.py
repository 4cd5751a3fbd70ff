"""The lead state machine."""

import pytest

from leads.domain.interest import DEFAULT_INTEREST, InterestDefinition
from leads.domain.lifecycle import Action, TransitionError, is_open, transition


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("unqualified", Action.MQL, "mql"),
        ("nurturing", Action.MQL, "mql"),
        ("mql", Action.ASSIGN, "mql"),
        ("sql", Action.ASSIGN, "sql"),
        ("mql", Action.QUALIFY, "sql"),
        ("sql", Action.CONVERT, "converted"),
        ("unqualified", Action.DISQUALIFY, "disqualified"),
        ("sql", Action.DISQUALIFY, "disqualified"),
    ],
)
def test_allowed(status: str, action: Action, after: str) -> None:
    assert transition(status, action) == after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("unqualified", Action.QUALIFY),
        ("sql", Action.QUALIFY),
        ("mql", Action.CONVERT),
        ("unqualified", Action.CONVERT),
        ("converted", Action.DISQUALIFY),
        ("disqualified", Action.DISQUALIFY),
        ("converted", Action.ASSIGN),
        ("mql", Action.MQL),
        ("sql", Action.MQL),
    ],
)
def test_refused(status: str, action: Action) -> None:
    with pytest.raises(TransitionError, match=status):
        transition(status, action)


def test_existing_customers_convert_from_any_open_status() -> None:
    for status in ("unqualified", "nurturing", "mql", "sql"):
        assert transition(status, Action.CONVERT, existing_customer=True) == "converted"
    with pytest.raises(TransitionError):
        transition("disqualified", Action.CONVERT, existing_customer=True)


def test_recycling_goes_back_to_nurturing() -> None:
    for status in ("unqualified", "mql", "sql"):
        assert transition(status, Action.DISQUALIFY, recycle=True) == "nurturing"
    assert is_open("nurturing") and not is_open("disqualified")
    # a nurturing lead is recycled already; it may still be closed
    with pytest.raises(TransitionError, match="nurturing"):
        transition("nurturing", Action.DISQUALIFY, recycle=True)
    assert transition("nurturing", Action.DISQUALIFY) == "disqualified"


def test_interest_definition() -> None:
    assert DEFAULT_INTEREST.shows_interest("whitepaper_download", "web")
    assert not DEFAULT_INTEREST.shows_interest("page_visit", "web")
    events_only = InterestDefinition(2, frozenset({"event_visit"}), frozenset({"event"}))
    assert events_only.shows_interest("event_visit", "event")
    assert not events_only.shows_interest("event_visit", "web")
