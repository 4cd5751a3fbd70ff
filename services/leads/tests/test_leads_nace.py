"""NACE reference data: counts per level from the classification, notation, hierarchy."""

import pytest

from leads.domain.criteria import CriteriaError, build_criteria
from leads.domain.nace import canonical_revision, notation
from leads.reference import nace_table


@pytest.mark.parametrize(
    ("revision", "counts"),
    [
        ("2.1", {1: 22, 2: 87, 3: 287, 4: 651}),  # 1,047 codes, in force since 2025
        ("2", {1: 21, 2: 88, 3: 272, 4: 615}),  # 996 codes
    ],
)
def test_counts_per_level(revision: str, counts: dict[int, int]) -> None:
    assert nace_table(revision).counts() == counts


def test_every_code_but_sections_has_a_parent_one_level_up() -> None:
    for revision in ("2.1", "2"):
        table = nace_table(revision)
        for code in table.codes.values():
            if code.level == 1:
                assert code.parent is None
            else:
                assert table.codes[code.parent].level == code.level - 1
                assert code.code in table.codes[code.parent].children


def test_revisions_differ_where_the_classification_changed() -> None:
    # Rev. 2.1 split section J: computer programming moved from J to K
    assert nace_table("2.1").codes["62.10"].section == "K"
    assert nace_table("2").codes["62.01"].section == "J"
    assert nace_table("2.1").get("62.01") is None
    assert "V" in nace_table("2.1").codes and "V" not in nace_table("2").codes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("62.10", "62.10"),
        ("6210", "62.10"),
        ("621", "62.1"),
        (" 62 ", "62"),
        ("k", "K"),
        ("K62.10", "62.10"),
        ("1.11", "01.11"),
        ("01.1", "01.1"),
        ("62.", "62"),
        ("62.101", None),
        ("abc", None),
        ("", None),
    ],
)
def test_notation(raw: str, expected: str | None) -> None:
    assert notation(raw) == expected


def test_revision_names() -> None:
    assert canonical_revision("NACE Rev. 2.1") == "2.1"
    assert canonical_revision("2.0") == "2"
    assert canonical_revision("3") is None


def test_hierarchy_of_a_class() -> None:
    table = nace_table("2.1")
    code = table.get("6210")
    assert code is not None and code.level_name == "class"
    assert [a.code for a in table.ancestors(code.code)] == ["K", "62", "62.1"]
    assert "62.10" in table.codes["62.1"].children


def test_covers_matches_every_level_below() -> None:
    table = nace_table("2.1")
    assert table.covers("K", "62.10")
    assert table.covers("62", "62.10")
    assert table.covers("62.1", "62.10")
    assert table.covers("62.10", "62.10")
    assert not table.covers("J", "62.10")
    assert not table.covers("62.2", "62.10")
    assert not table.covers("62.10", "62")  # a class does not cover its division


def test_search_by_words_and_code() -> None:
    table = nace_table("2.1")
    hits = table.search("computer programming")
    assert "62.10" in [h.code for h in hits]
    assert table.search("62.10")[0].code == "62.10"
    assert all(h.level == 2 for h in table.search("manufacture", level=2))
    assert table.search("zzzz-nothing") == []


class Company:
    def __init__(self, nace: str | None, **kw: object) -> None:
        self.nace, self.nace_rev = nace, kw.get("nace_rev", "2.1")
        self.size_class = kw.get("size_class", "small")
        self.employees = kw.get("employees", 20)
        self.revenue = kw.get("revenue")
        self.revenue_currency = kw.get("revenue_currency")
        self.country = kw.get("country", "DE")
        self.region = kw.get("region", "DE21")
        self.status = kw.get("status", "suspect")


def test_criteria_match_nace_at_any_level() -> None:
    table = nace_table("2.1")
    company = Company("62.10")
    for code, expected in (("K", True), ("62", True), ("62.1", True), ("J", False), ("63", False)):
        assert build_criteria(table, nace=[code]).matches(company, table) is expected
    assert not build_criteria(table, nace=["K"]).matches(Company(None), table)
    assert not build_criteria(table, nace=["K"]).matches(Company("62.10", nace_rev="2"), table)


def test_criteria_other_fields() -> None:
    table = nace_table("2.1")
    crit = build_criteria(
        table, size_classes=["small"], countries=["de"], regions=["DE2"], employees_min=10
    )
    assert crit.matches(Company("62.10"), table)
    assert not crit.matches(Company("62.10", region="DE11"), table)
    assert not crit.matches(Company("62.10", employees=5), table)
    with pytest.raises(CriteriaError):
        build_criteria(table, nace=["99.99"])
    with pytest.raises(CriteriaError):
        build_criteria(table, revenue_min=1)  # type: ignore[arg-type]
