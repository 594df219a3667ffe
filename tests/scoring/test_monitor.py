"""The Boston-style monitor: hand-computed window scores, nulls, pre-aggregated records, the overall score."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cityscore.scoring import MonitorRecord, monitor
from cityscore.scoring.monitor import metric_score, window_bounds

AS_OF = date(2026, 3, 31)


def daily(metric: str, kind: str, days_back: int, **kw: float) -> MonitorRecord:
    return MonitorRecord(metric=metric, kind=kind, date=AS_OF - timedelta(days=days_back), **kw)  # type: ignore[arg-type]


def test_windows() -> None:
    assert window_bounds(AS_OF, "day") == (AS_OF, AS_OF)
    assert window_bounds(AS_OF, "week") == (date(2026, 3, 25), AS_OF)
    assert window_bounds(AS_OF, "month") == (date(2026, 3, 2), AS_OF)
    assert window_bounds(AS_OF, "quarter") == (date(2026, 1, 1), AS_OF)


def test_ratio_to_target_pools_counts() -> None:
    rows = [daily("calls", "ratio_to_target", 0, numerator=90, denominator=100, target=0.95),
            daily("calls", "ratio_to_target", 3, numerator=50, denominator=100, target=0.95),
            daily("calls", "ratio_to_target", 20, numerator=100, denominator=100, target=0.95)]
    result = monitor(rows, as_of=AS_OF)[0]
    scores = result.metrics["calls"]
    assert scores["day"] == pytest.approx(0.9 / 0.95)
    assert scores["week"] == pytest.approx((140 / 200) / 0.95)
    assert scores["month"] == pytest.approx((240 / 300) / 0.95)
    assert result.overall == scores


def test_target_over_value_uses_the_median() -> None:
    rows = [daily("response", "target_over_value", d, value=v, target=8) for d, v in ((0, 10), (1, 4), (2, 6))]
    scores = monitor(rows, as_of=AS_OF)[0].metrics["response"]
    assert scores["day"] == pytest.approx(8 / 10)
    assert scores["week"] == pytest.approx(8 / 6)


def test_baseline_kinds_and_nulls() -> None:
    rows = [daily("crimes", "baseline_over_current", 0, value=4, baseline=6),
            daily("crimes", "baseline_over_current", 1, value=0, baseline=5),
            daily("visits", "current_over_baseline", 10, value=120, baseline=100),
            daily("zero", "baseline_over_current", 0, value=0, baseline=3)]
    metrics = monitor(rows, as_of=AS_OF)[0].metrics
    assert metrics["crimes"]["day"] == pytest.approx(6 / 4)
    assert metrics["crimes"]["week"] == pytest.approx(11 / 4)
    assert metrics["visits"]["day"] is None and metrics["visits"]["month"] == pytest.approx(1.2)
    assert metrics["zero"]["day"] == 1.0  # nothing left of what was to be reduced: on target (D-64)


def test_overall_is_the_mean_of_non_null_scores() -> None:
    rows = [daily("a", "ratio_to_target", 0, value=1.0, target=1.0),
            daily("b", "ratio_to_target", 10, value=0.5, target=1.0)]
    overall = monitor(rows, as_of=AS_OF)[0].overall
    assert overall["day"] == pytest.approx(1.0)
    assert overall["month"] == pytest.approx(0.75)
    assert monitor([daily("a", "ratio_to_target", 200, value=1, target=1)], as_of=AS_OF)[0].overall == {
        "day": None, "week": None, "month": None, "quarter": None}


def test_pre_aggregated_windows_like_boston() -> None:
    rows = [MonitorRecord(metric="calls", kind="ratio_to_target", window=w, numerator=n, denominator=100, target=0.95)
            for w, n in (("day", 94), ("week", 163), ("month", 162), ("quarter", 161.5))]
    scores = monitor(rows, as_of=AS_OF)[0].metrics["calls"]
    assert scores == pytest.approx({"day": 0.94 / 0.95, "week": 1.63 / 0.95, "month": 1.62 / 0.95,
                                    "quarter": 1.615 / 0.95})


def test_as_of_defaults_to_the_latest_date_and_settlements_are_separate() -> None:
    rows = [MonitorRecord(metric="m", kind="ratio_to_target", settlement=s, date=date(2026, 5, d), value=v, target=1)
            for s, d, v in (("710000000", 1, 1.0), ("750000000", 3, 0.5))]
    results = monitor(rows)
    assert [r.settlement for r in results] == ["710000000", "750000000"]
    assert {r.as_of for r in results} == {date(2026, 5, 3)}
    assert results[0].metrics["m"]["day"] is None and results[1].metrics["m"]["day"] == 0.5


def test_metric_score_without_rows_or_target() -> None:
    assert metric_score("ratio_to_target", []) is None
    assert metric_score("ratio_to_target", [MonitorRecord(metric="m", kind="ratio_to_target", value=1)]) is None
