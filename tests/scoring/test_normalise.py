"""Hand-computed KPI scores for every kind of target and every policy alternative."""

from __future__ import annotations

import pytest

from cityscore.scoring import ScoringPolicy, normalise
from cityscore.scoring.normalise import resolve
from cityscore.standard import Category, Standard

from .helpers import annual

DEFAULT = ScoringPolicy()


def score(std: Standard, kpi_id: str, category: Category, value: float | None, baseline: float | None = None,
          policy: ScoringPolicy = DEFAULT, components: dict[str, float] | None = None) -> float | None:
    kpi = std.kpi(kpi_id)
    assert kpi is not None
    target = kpi.targets.target(category)
    assert target is not None
    parameter_targets = None
    for parameter in kpi.parameters.values():
        if isinstance(parameter[category], dict):
            parameter_targets = {k: float(v) for k, v in parameter[category].items()}  # type: ignore[union-attr]
    result = normalise(kpi, target, annual(kpi_id, value, baseline, components), policy,
                       component_targets=parameter_targets)
    return result.score


def test_at_least(std: Standard) -> None:
    assert score(std, "1.8", "oblast", 80) == pytest.approx(80 / 85)
    assert score(std, "1.8", "oblast", 90) == 1.0
    assert score(std, "1.8", "republican", 0) == 0.0


@pytest.mark.parametrize(("mode", "actual", "expected"), [
    ("ratio", 8, 5 / 8), ("linear", 8, 2 - 8 / 5), ("binary", 8, 0.0),
    ("ratio", 4, 1.0), ("linear", 12, 0.0), ("ratio", 0, 1.0),
])
def test_at_most(std: Standard, mode: str, actual: float, expected: float) -> None:
    policy = ScoringPolicy(le_normalisation=mode)  # type: ignore[arg-type]
    assert score(std, "4.1", "republican", actual, policy=policy) == pytest.approx(expected)


@pytest.mark.parametrize(("mode", "expected"), [("lenient", 1.0), ("strict", 63 / 70), ("midpoint", 63 / 65)])
def test_range_target(std: Standard, mode: str, expected: float) -> None:
    policy = ScoringPolicy(range_target=mode)  # type: ignore[arg-type]
    assert score(std, "1.9", "district", 63, policy=policy) == pytest.approx(expected)


def test_resolve_ranges() -> None:
    assert resolve((60, 70), "≥", "lenient") == 60
    assert resolve((60, 70), "≥", "strict") == 70
    assert resolve((10, 15), "≤", "lenient") == 15
    assert resolve((10, 15), "≤", "strict") == 10
    assert resolve((10, 15), "≤", "midpoint") == 12.5
    assert resolve(95, "≥", "strict") == 95


@pytest.mark.parametrize(("mode", "actual", "expected"), [
    ("lenient", 960, 4 / 5), ("strict", 960, 4 / 10), ("midpoint", 960, 4 / 7.5),
    ("lenient", 900, 1.0), ("lenient", 1100, 0.0), ("lenient", 1000, 0.0),
])
def test_reduction(std: Standard, mode: str, actual: float, expected: float) -> None:
    policy = ScoringPolicy(range_target=mode)  # type: ignore[arg-type]
    assert score(std, "1.13", "republican", actual, baseline=1000, policy=policy) == pytest.approx(expected)


def test_reduction_needs_a_baseline(std: Standard) -> None:
    assert score(std, "1.13", "republican", 960) is None


def test_zero_baseline(std: Standard) -> None:
    assert score(std, "1.13", "republican", 0, baseline=0) == 1.0
    assert score(std, "1.13", "republican", 3, baseline=0) == 0.0


def test_unquantified_reduction(std: Standard) -> None:
    assert score(std, "1.13", "district", 99, baseline=100) == 1.0
    assert score(std, "1.13", "district", 100, baseline=100) == 0.0


def test_growth(std: Standard) -> None:
    assert score(std, "1.20", "republican", 10.3, baseline=10) == pytest.approx(3 / 5)
    assert score(std, "1.20", "republican", 10.6, baseline=10) == 1.0
    assert score(std, "1.20", "republican", 9.0, baseline=10) == 0.0


def test_saving_is_a_reduction_of_consumption(std: Standard) -> None:
    assert score(std, "1.21", "oblast", 970, baseline=1000) == pytest.approx(1.0)  # 3 % saved, target 3 %
    assert score(std, "1.21", "republican", 980, baseline=1000) == pytest.approx(2 / 5)


@pytest.mark.parametrize(("mode", "actual", "expected"), [
    ("binary", 40, 1.0), ("binary", 39, 1.0), ("binary", 41, 0.0), ("linear", 41, 0.75), ("linear", 45, 0.0),
])
def test_stabilisation(std: Standard, mode: str, actual: float, expected: float) -> None:
    policy = ScoringPolicy(stabilisation=mode)  # type: ignore[arg-type]
    assert score(std, "1.16", "district", actual, baseline=40, policy=policy) == pytest.approx(expected)


def test_compliance_share_and_binary(std: Standard) -> None:
    assert score(std, "1.17", "republican", 87) == pytest.approx(0.87)
    assert score(std, "1.17", "republican", 87, policy=ScoringPolicy(compliance="binary")) == 0.0
    assert score(std, "1.17", "republican", 100, policy=ScoringPolicy(compliance="binary")) == 1.0


def test_compliance_with_components(std: Standard) -> None:
    components = {"safety": 2, "housing_utilities": 12, "ecology": 1}  # education missing
    assert score(std, "1.4", "republican", None, components=components) == pytest.approx((0.5 + 1 + 1 + 0) / 4)
    full = {"safety": 1, "housing_utilities": 12, "ecology": 0.5, "education": 24}
    assert score(std, "1.4", "oblast", None, components=full, policy=ScoringPolicy(compliance="binary")) == 1.0
    assert score(std, "1.4", "oblast", 3) is None  # a plain value cannot be split into the four domains


def test_survey_scores(std: Standard) -> None:
    assert score(std, "3.7", "republican", 8.1) == pytest.approx(0.9)
    assert score(std, "3.7", "republican", 8.1, policy=ScoringPolicy(survey_scores="share_of_scale")) == (
        pytest.approx(0.81))
    assert score(std, "1.10", "oblast", 3.5) == 1.0


def test_qualitative_any_progress(std: Standard) -> None:
    policy = ScoringPolicy(qualitative_targets="any_progress")
    assert score(std, "1.19", "district", 2, policy=policy) == 1.0
    assert score(std, "1.19", "district", 0, policy=policy) == 0.0
    assert score(std, "1.12", "district", 9, baseline=10, policy=policy) == 1.0
    assert score(std, "1.12", "district", 11, baseline=10, policy=policy) == 0.0
