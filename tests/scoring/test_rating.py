"""Ranks within categories, movement, bonus verdicts, caps and bands."""

from __future__ import annotations

from datetime import date

import pytest

from cityscore.scoring import Evidence, ScoringPolicy, competition_ranks, judge, publish, score_year
from cityscore.settlements import load_registry
from cityscore.standard import Standard

from .helpers import ALMATY, ASTANA, SEMEY, SHYMKENT, perfect_observations, year_obs


def test_competition_ranks() -> None:
    assert competition_ranks([90.0, 80.0, 80.0, 70.0]) == [1, 2, 2, 4]
    assert competition_ranks([50.0, 70.0, 70.0, 70.0, 10.0]) == [4, 1, 1, 1, 5]
    assert competition_ranks([]) == []


def test_ranks_per_category_ties_and_movement(std: Standard) -> None:
    registry = load_registry()
    observations = [
        year_obs(ASTANA, "1.8", 95, year=2027), year_obs(ALMATY, "1.8", 90, year=2027),
        year_obs(SHYMKENT, "1.8", 90, year=2027), year_obs(SEMEY, "1.8", 60, year=2027),
        year_obs(ASTANA, "1.8", 80), year_obs(ALMATY, "1.8", 95), year_obs(SHYMKENT, "1.8", 70),
    ]
    run = score_year(std, ScoringPolicy(), registry, observations=observations, year=2027)
    by = {r.settlement: r for r in run.results}
    assert [(by[s].rank, by[s].movement) for s in (ASTANA, ALMATY, SHYMKENT)] == [(1, 1), (2, -1), (2, 1)]
    assert by[SEMEY].rank == 1 and by[SEMEY].movement is None  # alone in its category, no 2026 data
    assert run.previous_year_scored
    # no rating before the standard took effect: 2026 has no movement even with 2025 data
    earlier = [year_obs(ASTANA, "1.8", 95), year_obs(ASTANA, "1.8", 80, year=2025)]
    first = score_year(std, ScoringPolicy(), registry, observations=earlier, year=2026)
    assert not first.previous_year_scored and first.results[0].movement is None


def test_all_settlements_score_zero_without_data(std: Standard) -> None:
    registry = load_registry()
    run = score_year(std, ScoringPolicy(), registry, observations=[year_obs(ASTANA, "1.8", 95)], year=2026,
                     settlements=[s.kato for s in registry.settlements])
    assert len(run.results) == 213
    district = run.of_category("district")
    assert {r.cityscore for r in district} == {0.0} and {r.rank for r in district} == {1}


def evidence(**changes: object) -> Evidence:
    base: dict[str, object] = {
        "settlement": ASTANA, "name": "Цифровой двойник", "sphere": "Управление городом", "in_roadmap": True,
        "report_signed": True, "indicator_count": 2, "started": date(2026, 2, 1), "completed": date(2026, 11, 30)}
    base.update(changes)
    return Evidence(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "failing"), [
    ({}, []),
    ({"in_roadmap": False}, ["in_roadmap"]),
    ({"report_signed": None}, ["signed_report"]),
    ({"started": None}, ["signed_report"]),
    ({"indicator_count": 0}, ["indicators"]),
    ({"completed": date(2025, 12, 20)}, ["implemented_in_period"]),
    ({"completed": date(2026, 1, 10)}, ["implemented_in_period"]),
    ({"sphere": "Туризм"}, ["smart_city_sphere"]),
    ({"sphere": "ЖКХ"}, []),
    ({"sphere": "economy"}, []),
])
def test_bonus_criteria(std: Standard, changes: dict[str, object], failing: list[str]) -> None:
    verdict = judge(std, evidence(**changes), 2026, ScoringPolicy())
    assert [c.id for c in verdict.criteria] == ["in_roadmap", "signed_report", "indicators",
                                                "implemented_in_period", "smart_city_sphere"]
    assert [c.id for c in verdict.criteria if not c.met] == failing
    assert verdict.points == (2.0 if not failing else 0.0)


def test_bonus_criterion_3_literal(std: Standard) -> None:
    literal = ScoringPolicy(bonus_criterion_3="literal")
    assert judge(std, evidence(indicator_count=0), 2026, literal).qualifies
    assert not judge(std, evidence(indicator_count=2), 2026, literal).qualifies


def test_bonus_and_cap(std: Standard) -> None:
    registry = load_registry()
    # Semey 2026 meets every target: base 100, and the bonus cannot lift it further
    perfect = perfect_observations(std, SEMEY)
    extra = [evidence(settlement=SEMEY, name=f"Инициатива {i}") for i in range(3)]
    capped = score_year(std, ScoringPolicy(), registry, observations=perfect, evidence=extra, year=2026).results[0]
    assert capped.bonus == 6 and capped.cityscore == 100.0 and capped.uncapped > 100
    uncapped = score_year(std, ScoringPolicy(cap="no_cap"), registry, observations=perfect, evidence=extra,
                          year=2026).results[0]
    assert uncapped.cityscore == pytest.approx(capped.uncapped, abs=0.05) and uncapped.band == "excellent"
    twice = [evidence(settlement=SEMEY), evidence(settlement=SEMEY, name="цифровой  двойник")]
    dup = score_year(std, ScoringPolicy(), registry, observations=perfect[:3], evidence=twice, year=2026).results[0]
    assert dup.bonus == 2 and dup.bonus_verdicts[1].note == "listed more than once; counted once"


@pytest.mark.parametrize(("mode", "value", "published", "band"), [
    ("one_decimal", 89.5, 89.5, "good"), ("one_decimal", 89.96, 90.0, "excellent"),
    ("integer_half_up", 89.5, 90.0, "excellent"), ("integer_half_up", 89.49, 89.0, "good"),
    ("unrounded", 89.999, 89.999, "good"), ("one_decimal", 74.95, 75.0, "good"), ("one_decimal", 44.94, 44.9, "low"),
])
def test_band_edges(std: Standard, mode: str, value: float, published: float, band: str) -> None:
    policy = ScoringPolicy(band_rounding=mode)  # type: ignore[arg-type]
    assert publish(value, policy) == pytest.approx(published)
    assert std.band_for(publish(value, policy)).id == band


def test_baseline_from_earlier_years(std: Standard) -> None:
    registry = load_registry()
    rows = [year_obs(ASTANA, "1.13", 1000, year=2026), year_obs(ASTANA, "1.13", 950, year=2027),
            year_obs(ASTANA, "1.13", 930, year=2028)]
    previous = score_year(std, ScoringPolicy(), registry, observations=rows, year=2028).results[0].outcome("1.13")
    assert previous is not None and previous.baseline == 950 and previous.score == pytest.approx((20 / 950 * 100) / 5)
    first = score_year(std, ScoringPolicy(baseline="first_year"), registry, observations=rows, year=2028)
    outcome = first.results[0].outcome("1.13")
    assert outcome is not None and outcome.baseline == 1000 and outcome.score == 1.0
    explicit = [year_obs(ASTANA, "1.13", 930, year=2028, baseline=880), *rows[:2]]
    stated = score_year(std, ScoringPolicy(), registry, observations=explicit, year=2028).results[0].outcome("1.13")
    assert stated is not None and stated.baseline == 880 and stated.score == 0.0  # the stated baseline wins


def test_missing_data_zero_or_exclude(std: Standard) -> None:
    registry = load_registry()
    rows = [year_obs(SEMEY, "1.8", 85), year_obs(SEMEY, "1.11", 85)]
    official = score_year(std, ScoringPolicy(), registry, observations=rows, year=2026).results[0]
    monitoring = score_year(std, ScoringPolicy.monitoring(), registry, observations=rows, year=2026).results[0]
    assert official.coverage == monitoring.coverage
    assert 0 < official.coverage < 20
    assert official.base == pytest.approx(official.coverage)  # both KPIs met: the base is the weight with data
    assert monitoring.base == pytest.approx(100)  # only the two KPIs with data count, in two sections
    assert {s for s, d in monitoring.sections.items() if d.redistributed} == {"transport", "ecology",
                                                                             "housing_utilities"}
    missing = [o for o in official.kpis if o.counts and not o.has_data]
    assert missing and all(o.score == 0 and o.reason == "no data" for o in missing)
