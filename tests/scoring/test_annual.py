"""Annual values: pooled counts, period-weighted means, sums, monthly means, latest values, components."""

from __future__ import annotations

from datetime import date

import pytest

from cityscore.scoring import Observation, annual_value
from cityscore.standard import Standard

S = "195220100"


def obs(kpi: str, start: date, end: date, value: float | None = None, **kw: float | str | None) -> Observation:
    return Observation(S, kpi, start, end, value, kw.get("numerator"), kw.get("denominator"),  # type: ignore[arg-type]
                       kw.get("baseline"), kw.get("component"))  # type: ignore[arg-type]


def test_pooling_never_averages_percentages(std: Standard) -> None:
    kpi = std.kpi("1.8")
    assert kpi is not None
    rows = [obs("1.8", date(2026, 1, 1), date(2026, 6, 30), 67.44, numerator=2900, denominator=4300),
            obs("1.8", date(2026, 7, 1), date(2026, 12, 31), 68.51, numerator=3220, denominator=4700)]
    value = annual_value(kpi, 2026, rows)
    assert value is not None and value.method == "pooled"
    assert value.value == pytest.approx(100 * 6120 / 9000)
    assert (value.numerator, value.denominator) == (6120, 9000)


def test_rates_are_pooled_per_thousand(std: Standard) -> None:
    kpi = std.kpi("7.5")
    assert kpi is not None
    rows = [obs("7.5", date(2026, m, 1), date(2026, m, 28), numerator=n, denominator=100_000)
            for m, n in ((1, 300), (2, 100))]
    assert annual_value(kpi, 2026, rows).value == pytest.approx(1000 * 400 / 200_000)  # type: ignore[union-attr]


def test_mean_weighted_by_period_length(std: Standard) -> None:
    kpi = std.kpi("4.1")
    assert kpi is not None
    rows = [obs("4.1", date(2026, 1, 1), date(2026, 1, 31), 6.0),  # 31 days
            obs("4.1", date(2026, 2, 1), date(2026, 12, 31), 4.0)]  # 334 days
    value = annual_value(kpi, 2026, rows)
    assert value is not None and value.method == "mean"
    assert value.value == pytest.approx((6 * 31 + 4 * 334) / 365)


def test_sum_monthly_mean_latest(std: Standard) -> None:
    crimes, payments, layers = std.kpi("1.13"), std.kpi("3.3"), std.kpi("1.6")
    assert crimes and payments and layers
    months = [(date(2026, m, 1), date(2026, m + 1, 1).replace(day=1) if m < 12 else date(2026, 12, 31))
              for m in range(1, 13)]
    monthly = [obs("1.13", a, date.fromordinal(b.toordinal() - 1) if m < 11 else b, 10.0, baseline=12.0)
               for m, (a, b) in enumerate(months)]
    summed = annual_value(crimes, 2026, monthly)
    assert summed is not None and summed.method == "sum" and summed.value == 120 and summed.baseline == 144
    payments_rows = [obs("3.3", date(2026, 1, 1), date(2026, 6, 30), 6_000_000)]
    per_month = annual_value(payments, 2026, payments_rows)
    assert per_month is not None and per_month.method == "monthly_mean"
    assert per_month.value == 1_000_000  # six whole calendar months (D-47), not 181 days / 30.44
    layer_rows = [obs("1.6", date(2026, 1, 1), date(2026, 6, 30), 8), obs("1.6", date(2026, 7, 1),
                                                                          date(2026, 12, 31), 11)]
    assert annual_value(layers, 2026, layer_rows).value == 11  # type: ignore[union-attr]


def test_components_and_years(std: Standard) -> None:
    kpi = std.kpi("1.4")
    assert kpi is not None
    rows = [obs("1.4", date(2026, 1, 1), date(2026, 12, 31), 2.0, component="safety"),
            obs("1.4", date(2026, 1, 1), date(2026, 12, 31), 20.0, component="education"),
            obs("1.4", date(2025, 1, 1), date(2025, 12, 31), 5.0, component="safety")]
    value = annual_value(kpi, 2026, rows)
    assert value is not None and value.components == {"education": 20.0, "safety": 2.0}
    assert annual_value(kpi, 2024, rows) is None
