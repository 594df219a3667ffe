"""Invariants of CityScore, checked on generated data (Hypothesis)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityscore.scoring import Observation, ScoringPolicy, score_settlement, score_year
from cityscore.scoring.rating import annual_values
from cityscore.scoring.selection import eligibility, weights
from cityscore.settlements import load_registry
from cityscore.standard import CATEGORIES, Category, Standard, load_standard

from .helpers import ASTANA, KASKELEN, SEMEY, perfect_observations, year_obs

STD = load_standard()
SETTLEMENTS: dict[Category, str] = {"republican": ASTANA, "oblast": SEMEY, "district": KASKELEN}
POLICY_FIELDS = {f: ScoringPolicy.alternatives(f) for f in ScoringPolicy.model_fields if f != "name"}

policies = st.fixed_dictionaries({f: st.sampled_from(v) for f, v in POLICY_FIELDS.items()}).map(
    lambda d: ScoringPolicy(**d))
kpi_ids = st.sampled_from([k.id for k in STD.kpis if k.id != "1.4"])
values = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@st.composite
def observation_sets(draw: st.DrawFn) -> tuple[Category, list[Observation]]:
    category = draw(st.sampled_from(CATEGORIES))
    settlement = SETTLEMENTS[category]
    rows = []
    for kpi_id in draw(st.lists(kpi_ids, unique=True, max_size=25)):
        kpi = STD.kpi(kpi_id)
        assert kpi is not None
        value = draw(st.floats(min_value=0, max_value=100)) if kpi.unit == "percent" else draw(values)
        if kpi.unit in ("score_5", "score_10"):
            value = min(value, 5.0 if kpi.unit == "score_5" else 10.0)
        baseline = draw(st.none() | values)
        rows.append(year_obs(settlement, kpi_id, value, year=draw(st.sampled_from([2026, 2027, 2029])),
                             baseline=baseline))
    return category, rows


SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(data=observation_sets(), policy=policies)
def test_base_score_within_0_100(data: tuple[Category, list[Observation]], policy: ScoringPolicy) -> None:
    category, rows = data
    for year in (2026, 2027, 2029):
        values_ = annual_values(STD, rows, year, policy).get(SETTLEMENTS[category], {})
        result = score_settlement(STD, policy, settlement=SETTLEMENTS[category], category=category, year=year,
                                  annual=values_)
        assert 0.0 <= result.base <= 100.0 + 1e-9
        for outcome in result.kpis:
            assert outcome.score is None or 0.0 <= outcome.score <= 1.0
            assert outcome.points_at_stake >= -1e-12
        assert 0.0 <= result.coverage <= 100.0 + 1e-9


@SLOW
@given(data=observation_sets(), seed=st.integers(0, 10_000))
def test_independent_of_row_order(data: tuple[Category, list[Observation]], seed: int) -> None:
    _, rows = data
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    registry = load_registry()
    for year in (2026, 2027):
        a = score_year(STD, ScoringPolicy(), registry, observations=rows, year=year)
        b = score_year(STD, ScoringPolicy(), registry, observations=shuffled, year=year)
        assert [(r.settlement, r.exact, r.rank) for r in a.results] == [(r.settlement, r.exact, r.rank)
                                                                       for r in b.results]


threshold_kpis = [k.id for k in STD.kpis if all(
    t is None or t.kind == "threshold" for t in (k.targets.target(c) for c in CATEGORIES))]


@SLOW
@given(kpi_id=st.sampled_from(threshold_kpis), category=st.sampled_from(CATEGORIES),
       a=st.floats(min_value=0, max_value=200), b=st.floats(min_value=0, max_value=200), policy=policies)
def test_monotone_in_the_kpi_direction(kpi_id: str, category: Category, a: float, b: float,
                                       policy: ScoringPolicy) -> None:
    kpi = STD.kpi(kpi_id)
    assert kpi is not None
    low, high = sorted((a, b))
    if kpi.unit in ("score_5", "score_10"):
        low, high = low / 40, high / 40
    worse, better = (low, high) if kpi.direction == "higher_is_better" else (high, low)
    settlement = SETTLEMENTS[category]

    def base(value: float) -> float:
        values_ = annual_values(STD, [year_obs(settlement, kpi_id, value, year=2030)], 2030, policy)
        return score_settlement(STD, policy, settlement=settlement, category=category, year=2030,
                                annual=values_.get(settlement, {})).base

    assert base(better) >= base(worse) - 1e-9


@given(category=st.sampled_from(CATEGORIES), year=st.integers(2026, 2031), policy=policies)
@settings(max_examples=80, deadline=None)
def test_applicable_section_weights_sum_to_100(category: Category, year: int, policy: ScoringPolicy) -> None:
    counted = [e for e in (eligibility(STD, k, category, year, policy) for k in STD.kpis) if e.counts]
    w = weights(STD, counted, policy)
    if not counted:
        return
    expected = 100.0 if policy.empty_section == "redistribute" else sum(
        float(s.weight) for s in STD.sections if any(e.section == s.id for e in counted))
    assert sum(w.section.values()) == pytest.approx(expected)
    assert sum(w.kpi.values()) == pytest.approx(expected)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_legible_kpi_can_be_scored(std: Standard, category: Category) -> None:
    """In 2030 every stage has begun: each KPI that counts gets a score from data, and meeting targets gives 100."""
    settlement = SETTLEMENTS[category]
    rows = perfect_observations(std, settlement, year=2030)
    policy = ScoringPolicy(qualitative_targets="any_progress")
    result = score_settlement(std, policy, settlement=settlement, category=category, year=2030,
                              annual=annual_values(std, rows, 2030, policy)[settlement])
    counted = [o for o in result.kpis if o.counts]
    legible_applicable = [k for k in std.kpis if not k.provisional and std.kpi_applies(k, category)]
    assert {o.kpi for o in counted} >= {k.id for k in legible_applicable}
    assert all(o.has_data and o.score == pytest.approx(1.0) for o in counted), [
        (o.kpi, o.score, o.reason) for o in counted if o.score != pytest.approx(1.0)]
    assert result.base == pytest.approx(100.0)
