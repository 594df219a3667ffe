"""Overlapping KPIs (D-53): counted twice by default, or once — and where the weight goes."""

from __future__ import annotations

import pytest

from cityscore.scoring import ScoringPolicy, score_year
from cityscore.scoring.selection import eligibility
from cityscore.settlements import load_registry
from cityscore.standard import Category, Standard, load_catalog

from ..conftest import Edit
from .helpers import ASTANA, year_obs

BOTH = ScoringPolicy()
ONCE = ScoringPolicy(overlapping_kpis="count_once")


def counts(std: Standard, kpi_id: str, category: Category, year: int, policy: ScoringPolicy) -> bool:
    return eligibility(std, std.kpi(kpi_id), category, year, policy).counts  # type: ignore[arg-type]


def test_the_policy_field() -> None:
    rule = next(r for r in ScoringPolicy.describe() if r["field"] == "overlapping_kpis")
    assert (rule["default"], rule["alternatives"], rule["decision"]) == (
        "count_both", ["count_both", "count_once"], "D-53")


@pytest.mark.parametrize(("kpi", "category", "year", "once"), [
    # the city-wide KPI of table 1 gives way only where the initiative's own KPIs count (its stage has begun)
    ("1.19", "republican", 2026, True), ("1.19", "republican", 2027, False),  # 12 starts in 2027
    ("1.20", "oblast", 2026, True), ("1.20", "oblast", 2027, False),  # 11 starts in 2027
    ("1.20", "district", 2030, True),  # 11 does not apply to district centres
    ("1.11", "oblast", 2026, True), ("1.11", "oblast", 2027, False), ("1.11", "district", 2030, True),
    ("1.16", "republican", 2026, False), ("1.16", "oblast", 2026, True),  # 6.2: initiative 6 is republican only
    ("1.14", "district", 2028, True), ("1.14", "district", 2029, False),  # 7 starts in 2029 for district centres
    ("9.8", "republican", 2026, False), ("9.8", "district", 2027, False),  # 9.4 (and 6.7) count instead
    # the KPIs that count instead are never dropped
    ("12.1", "republican", 2027, True), ("12.2", "republican", 2027, True), ("10.1", "oblast", 2027, True),
    ("6.2", "republican", 2026, True), ("7.3", "district", 2029, True), ("6.7", "republican", 2026, True),
    ("9.4", "district", 2027, True),
])
def test_which_of_the_pair_counts(std: Standard, kpi: str, category: Category, year: int, once: bool) -> None:
    both = counts(std, kpi, category, year, BOTH)
    assert both  # every one of them counts under the default
    assert counts(std, kpi, category, year, ONCE) == once


def test_the_reason_names_the_kpis_counted_instead(std: Standard) -> None:
    e = eligibility(std, std.kpi("1.19"), "republican", 2027, ONCE)  # type: ignore[arg-type]
    assert e.reason == "overlaps 12.1, 12.2, counted instead of it (overlapping KPIs counted once)"
    e = eligibility(std, std.kpi("9.8"), "republican", 2026, ONCE)  # type: ignore[arg-type]
    assert e.reason == "overlaps 6.7, 9.4, counted instead of it (overlapping KPIs counted once)"
    e = eligibility(std, std.kpi("9.8"), "oblast", 2026, ONCE)  # type: ignore[arg-type]
    assert e.reason == "overlaps 9.4, counted instead of it (overlapping KPIs counted once)"


ECOLOGY = [  # Astana 2027: scores by hand against the republican targets
    year_obs(ASTANA, "1.19", 40, year=2027),  # ≥ 40 → 1
    year_obs(ASTANA, "1.20", 10.5, year=2027, baseline=10),  # +5 % of +5 % → 1
    year_obs(ASTANA, "11.1", 15, year=2027),  # 15 / 30 → 0.5
    year_obs(ASTANA, "11.2", 10_000, year=2027),  # ≥ 10 000 → 1
    year_obs(ASTANA, "12.1", 20, year=2027),  # 20 / 40 → 0.5
    year_obs(ASTANA, "12.2", 30, year=2027),  # ≥ 30 → 1
]


@pytest.mark.parametrize(("policy", "base", "weight_12_1"), [
    # KPIs with data: 1.19 (9 points), 1.20 (8), 11.1 (9), 11.2 (8), 12.1 (10), 12.2 (9); ecology holds all 100
    # both: 100 × (9 + 8 + 4.5 + 8 + 5 + 9) / 53 = 100 × 43.5 / 53
    (ScoringPolicy.monitoring(), 100 * 43.5 / 53, 100 * 10 / 53),
    # once: 1.19 and 1.20 give way; 100 × (4.5 + 8 + 5 + 9) / 36 = 100 × 26.5 / 36
    (ScoringPolicy.monitoring().model_copy(update={"overlapping_kpis": "count_once"}), 100 * 26.5 / 36,
     100 * 10 / 36),
])
def test_the_weight_stays_in_the_section(std: Standard, policy: ScoringPolicy, base: float,
                                         weight_12_1: float) -> None:
    result = score_year(std, policy, load_registry(), observations=ECOLOGY, year=2027).results[0]
    assert result.base == pytest.approx(base)
    assert result.outcome("12.1").weight == pytest.approx(weight_12_1)  # type: ignore[union-attr]
    dropped = {o.kpi for o in result.kpis if o.has_data and not o.counts}
    assert dropped == ({"1.19", "1.20"} if policy.overlapping_kpis == "count_once" else set())


@pytest.mark.parametrize(("mode", "points", "index"), [
    # official rating (a KPI without data scores 0): the ecology KPIs that count for a republican city in 2027
    # hold 110 points (1.17 10, 1.19 9, 1.20 8, 11.1–11.6 48, 12.1–12.4 35); once: 110 − 9 − 8 = 93
    ("count_both", 110, 15 * 43.5 / 110),
    ("count_once", 93, 15 * 26.5 / 93),
])
def test_official_section_weight_is_unchanged(std: Standard, mode: str, points: int, index: float) -> None:
    policy = ScoringPolicy(overlapping_kpis=mode)  # type: ignore[arg-type]
    result = score_year(std, policy, load_registry(), observations=ECOLOGY, year=2027).results[0]
    ecology = [o for o in result.kpis if o.counts and o.section == "ecology"]
    assert sum(std.kpi(o.kpi).weight_points or 0 for o in ecology) == points  # type: ignore[union-attr]
    assert sum(o.weight for o in ecology) == pytest.approx(15)  # the section keeps its 15 points
    assert result.sections["ecology"].index == pytest.approx(index)
    assert result.outcome("1.19").weight == (0.0 if mode == "count_once" else pytest.approx(15 * 9 / 110))  # type: ignore[union-attr]


def test_the_overlaps_are_catalog_data(edit: Edit) -> None:
    """An amended catalog without the road-repairs overlap keeps 1.14 where 7.3 counts."""
    catalog = edit("standard.yaml", '''  - id: road_repairs
    counted: ["7.3"]
    instead_of: ["1.14"]
''', '''  - id: road_repairs
    counted: ["7.3"]
    instead_of: ["1.15"]
''')
    amended = load_catalog(catalog)
    assert counts(amended, "1.14", "district", 2029, ONCE)
    assert not counts(amended, "1.15", "district", 2029, ONCE)
