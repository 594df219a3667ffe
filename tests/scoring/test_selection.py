"""Which KPIs count for whom, in which section, with what weight."""

from __future__ import annotations

import pytest

from cityscore.scoring import ScoringPolicy
from cityscore.scoring.selection import eligibility, weights
from cityscore.standard import CATEGORIES, Category, Standard

DEFAULT = ScoringPolicy()


def counted(std: Standard, category: Category, year: int, policy: ScoringPolicy = DEFAULT) -> list[str]:
    return [k.id for k in std.kpis if eligibility(std, k, category, year, policy).counts]


def test_republican_2026(std: Standard) -> None:
    ids = counted(std, "republican", 2026)
    assert len(ids) == 51
    assert {i.split(".")[0] for i in ids} == {"1", "2", "3", "4", "5", "6", "9"}


def test_district_2026(std: Standard) -> None:
    assert counted(std, "district", 2026) == ["1.8", "1.9", "1.10", "1.11", "1.13", "1.14", "1.15", "1.16",
                                              "1.18", "1.20", "2.1"]


def test_stages_open_year_by_year(std: Standard) -> None:
    sizes = [len(counted(std, "oblast", y)) for y in (2026, 2027, 2029)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[1] < sizes[2]
    e = eligibility(std, std.kpi("7.1"), "district", 2028, DEFAULT)  # type: ignore[arg-type]
    assert not e.counts and e.reason == "initiative 7 is due from 2029"
    until = ScoringPolicy(not_started="excluded_until_deadline")
    assert not eligibility(std, std.kpi("9.1"), "oblast", 2026, until).counts  # type: ignore[arg-type]
    assert eligibility(std, std.kpi("9.1"), "oblast", 2027, until).counts  # type: ignore[arg-type]
    assert eligibility(std, std.kpi("16.1"), "oblast", 2026, ScoringPolicy(not_started="counted")).counts  # type: ignore[arg-type]


def test_policy_alternatives_change_the_set(std: Standard) -> None:
    assert counted(std, "district", 2026, ScoringPolicy(kpi_applicability="initiative_only")) == ["2.1"]
    with_qualitative = counted(std, "district", 2026, ScoringPolicy(qualitative_targets="any_progress"))
    assert {"1.12", "1.17", "1.19", "1.21"} <= set(with_qualitative)
    assert "1.13" not in counted(std, "district", 2026, ScoringPolicy(unquantified_change="not_counted"))
    assert "2.1" not in counted(std, "district", 2026, ScoringPolicy(provisional_kpis="exclude"))
    once = counted(std, "republican", 2027, ScoringPolicy(near_duplicates="count_once"))
    assert "4.1" in once and "8.2" not in once
    assert "8.2" in counted(std, "republican", 2027)


def test_missing_target_next_category(std: Standard) -> None:
    policy = ScoringPolicy(kpi_applicability="initiative_only", missing_target="next_category")
    e = eligibility(std, std.kpi("1.1"), "oblast", 2026, policy)  # type: ignore[arg-type]
    assert e.counts and e.target_category == "oblast"
    # 1.1 has no district target; applying it there (initiative_only + an amended catalog) would take oblast's
    kpi = std.kpi("1.1").model_copy(update={"applies_to": ("republican", "oblast", "district")})  # type: ignore[union-attr]
    found = eligibility(std, kpi, "district", 2026, policy.model_copy(update={"kpi_applicability": "catalog"}))
    assert found.counts and found.target_category == "oblast" and found.target.value == 30  # type: ignore[union-attr]
    assert not eligibility(std, kpi, "district", 2026, DEFAULT).counts


def test_section_by_initiative(std: Standard) -> None:
    policy = ScoringPolicy(kpi_section="initiative")
    assert eligibility(std, std.kpi("1.11"), "oblast", 2026, policy).section == "city_management"  # type: ignore[arg-type]
    assert eligibility(std, std.kpi("1.11"), "oblast", 2026, DEFAULT).section == "safety"  # type: ignore[arg-type]


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("year", [2026, 2027, 2029])
def test_weights_sum_to_100(std: Standard, category: Category, year: int) -> None:
    chosen = [eligibility(std, k, category, year, DEFAULT) for k in std.kpis]
    w = weights(std, [e for e in chosen if e.counts], DEFAULT)
    assert sum(w.kpi.values()) == pytest.approx(100)
    assert sum(w.section.values()) == pytest.approx(100)


def test_redistribution_and_zero(std: Standard) -> None:
    policy = ScoringPolicy(kpi_applicability="initiative_only")
    chosen = [e for e in (eligibility(std, k, "district", 2026, policy) for k in std.kpis) if e.counts]
    w = weights(std, chosen, policy)
    assert w.kpi == {"2.1": pytest.approx(100)}
    assert set(w.redistributed) == {"safety", "transport", "ecology", "housing_utilities"}
    zero = weights(std, chosen, policy.model_copy(update={"empty_section": "zero"}))
    assert zero.kpi == {"2.1": pytest.approx(25)} and zero.redistributed == ()


def test_points_or_equal_weights(std: Standard) -> None:
    chosen = [e for e in (eligibility(std, k, "district", 2026, DEFAULT) for k in std.kpis) if e.counts]
    w = weights(std, chosen, DEFAULT)
    assert w.kpi["1.8"] == pytest.approx(25 * 10 / 36)
    assert w.kpi["1.20"] == pytest.approx(15)
    equal = weights(std, chosen, ScoringPolicy(kpi_weighting="equal_within_section"))
    assert equal.kpi["1.8"] == pytest.approx(25 / 4)
