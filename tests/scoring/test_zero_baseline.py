"""Reductions, growth, stabilisation and progress from a baseline of 0 (D-57), by hand."""

from __future__ import annotations

import pytest

from cityscore.scoring import ScoringPolicy, normalise
from cityscore.standard import Category, Standard

from .helpers import annual

DEFAULT = ScoringPolicy()
ANY_PROGRESS = ScoringPolicy(qualitative_targets="any_progress")


def score(std: Standard, kpi_id: str, category: Category, value: float, policy: ScoringPolicy = DEFAULT,
          ) -> float | None:
    kpi = std.kpi(kpi_id)
    assert kpi is not None
    target = kpi.targets.target(category)
    assert target is not None
    return normalise(kpi, target, annual(kpi_id, value, baseline=0.0), policy).score


@pytest.mark.parametrize(("kpi", "category", "value", "expected"), [
    ("1.13", "republican", 0, 1.0),  # reduction «-5-10%», lower is better: stays at 0 → nothing left to reduce
    ("1.13", "republican", 3, 0.0),  # rises from 0 → a worsening
    ("1.13", "district", 0, 1.0),  # «минимальное снижение»: stays at 0
    ("1.13", "district", 2, 0.0),
    ("1.20", "republican", 4.0, 1.0),  # growth «+5%», higher is better: from 0 to anything meets any growth
    ("1.20", "republican", 0, 0.0),  # no growth
    ("1.16", "district", 0, 1.0),  # stabilisation, lower is better: not worse
    ("1.16", "district", 12, 0.0),  # worse
    ("1.20", "district", 3.0, 1.0),  # stabilisation, higher is better: better
])
def test_zero_baseline(std: Standard, kpi: str, category: Category, value: float, expected: float) -> None:
    assert score(std, kpi, category, value) == expected


def test_zero_baseline_stabilisation_at_zero_is_not_worse(std: Standard) -> None:
    # 1.20 in a district centre, «Стабилизация или минимальный рост»: 0 → 0 did not worsen
    assert score(std, "1.20", "district", 0.0) == 1.0


@pytest.mark.parametrize(("kpi", "value", "expected"), [
    ("1.19", 4.0, 1.0),  # «Минимальный уровень» of sorting, higher is better: some sorting where there was none
    ("1.12", 0.0, 1.0),  # «- (по возможности)», lower is better: still no major incident
])
def test_zero_baseline_any_progress(std: Standard, kpi: str, value: float, expected: float) -> None:
    assert score(std, kpi, "district", value, ANY_PROGRESS) == expected
