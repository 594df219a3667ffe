"""The monitor of a settlement's KPIs from daily values (scoring/daily.py): which KPIs, how each is judged, the
overall — hand-computed on the packaged catalog."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cityscore.scoring import ScoringPolicy
from cityscore.scoring.daily import DAYS_PER_MONTH, DailyValue, MonitoredKpi, plan, settlement_monitor
from cityscore.scoring.monitor import MonitorRecord, metric_score
from cityscore.standard import Standard

from .helpers import ASTANA, KASKELEN

AS_OF = date(2026, 6, 30)


def days(kpi: str, n: int, **values: float) -> list[DailyValue]:
    """``n`` daily values of ``kpi`` ending on AS_OF."""
    return [DailyValue(kpi, AS_OF - timedelta(days=i), **values) for i in range(n)]  # type: ignore[arg-type]


def test_only_kpis_that_count_for_the_category_and_stage(std: Standard) -> None:
    """A district centre in 2026: 7.5 (initiative 7, due there from 2029) and 10.1 (not for district centres) are
    left out with the reason; 1.8 is monitored."""
    values = days("1.8", 3, numerator=70, denominator=100) + days("7.5", 3, numerator=1, denominator=2) + days(
        "10.1", 3, numerator=1, denominator=2)
    result = settlement_monitor(std, ScoringPolicy(), settlement=KASKELEN, category="district", values=values)
    assert list(result.metrics) == ["1.8"]
    reasons = {k: v for k, v in result.left_out.items() if v != "no daily values"}
    assert reasons == {"7.5": "initiative 7 is due from 2029", "10.1": "does not apply to district settlements"}
    assert result.metrics["1.8"]["week"] == pytest.approx(70 / 70)  # 70 % against ≥ 70 %
    # every other KPI that counts for a district centre is listed as without daily values: nothing is hidden
    counting = {k.id for k in std.kpis if isinstance(plan(std, k, "district", 2026, ScoringPolicy()), MonitoredKpi)}
    assert {k for k, v in result.left_out.items() if v == "no daily values"} == counting - {"1.8"}
    assert "1.20" in result.left_out and "1.16" in result.left_out


def test_a_reduction_is_judged_against_its_baseline(std: Standard) -> None:
    """1.13 for a city of republican significance: «снижение на 5–10 %» (lenient: 5 %). Days with 9 and 8 serious
    crimes against 10 each a year earlier, and a day without a baseline (left out of the comparison)."""
    values = [DailyValue("1.13", AS_OF, value=9, baseline=10), DailyValue("1.13", AS_OF - timedelta(days=1), value=8,
                                                                          baseline=10),
              DailyValue("1.13", AS_OF - timedelta(days=2), value=30)]
    result = settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=values)
    assert result.kpis["1.13"].kind == "baseline_over_current" and result.kpis["1.13"].target == 5.0
    # the level aimed at is the baseline less 5 %: (10 + 10) × 0.95 against 9 + 8
    assert result.metrics["1.13"]["week"] == pytest.approx(20 * 0.95 / 17)
    assert result.metrics["1.13"]["day"] is None  # published monthly: no day score


def test_a_le_metric_at_zero_is_on_target(std: Standard) -> None:
    """1.1 (≤ 15 minutes, published daily): a day at 0 minutes is on target, not «no data»."""
    values = [DailyValue("1.1", AS_OF, value=0.0), DailyValue("1.1", AS_OF - timedelta(days=1), value=30.0)]
    result = settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=values)
    assert result.metrics["1.1"]["day"] == 1.0
    assert result.metrics["1.1"]["week"] == pytest.approx(15 / 15)  # the median of 0 and 30 is 15


def test_zero_divisors_follow_the_annual_rules() -> None:
    def one(kind: str, **kw: float) -> float | None:
        return metric_score(kind, [MonitorRecord(metric="m", kind=kind, date=AS_OF, **kw)])  # type: ignore[arg-type]

    assert one("target_over_value", value=0, target=4) == 1.0
    assert one("baseline_over_current", value=0, baseline=3) == 1.0
    assert one("baseline_over_current", value=2, baseline=0) == 0.0
    assert one("current_over_baseline", value=2, baseline=0) == 1.0
    assert one("current_over_baseline", value=0, baseline=0) == 0.0


def test_monthly_amounts_are_put_on_the_monthly_scale(std: Standard) -> None:
    """3.3 (payments per month, ≥ 1 000 000 for a republican city; its measure counts): 40 000 payments a day
    are 40 000 × 365.25 / 12 a month."""
    values = days("3.3", 30, value=40_000)
    result = settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=values)
    assert result.kpis["3.3"].monthly is True
    assert result.metrics["3.3"]["month"] == pytest.approx(40_000 * DAYS_PER_MONTH / 1_000_000)
    assert DAYS_PER_MONTH == 365.25 / 12


def test_a_kpi_published_monthly_has_no_day_score(std: Standard) -> None:
    """3.3 is published monthly: no day score even with a value on the day; 1.8 (daily) has one."""
    values = days("3.3", 2, value=40_000) + days("1.8", 2, numerator=90, denominator=100)
    result = settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=values)
    assert result.metrics["3.3"]["day"] is None and result.metrics["3.3"]["week"] is not None
    assert result.metrics["1.8"]["day"] == pytest.approx(90 / 95)
    assert result.overall["day"] == pytest.approx(90 / 95)  # the day's overall has only 1.8


def test_the_overall_caps_each_kpi(std: Standard) -> None:
    """3.3 five times its target counts 2.0 in the overall (D-39); None gives Boston's plain mean."""
    per_day = 5 * 1_000_000 / DAYS_PER_MONTH
    values = days("3.3", 7, value=per_day) + days("1.8", 7, numerator=95, denominator=100)
    capped = settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=values)
    assert capped.metrics["3.3"]["week"] == pytest.approx(5.0)
    assert capped.overall["week"] == pytest.approx((2.0 + 1.0) / 2)
    plain = settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=values,
                               overall_cap=None)
    assert plain.overall["week"] == pytest.approx((5.0 + 1.0) / 2)


def test_the_policy_decides_what_counts(std: Standard) -> None:
    """Under ``not_started = counted`` 7.5 counts in a district centre before its initiative's stage."""
    values = days("7.5", 3, numerator=1, denominator=2)
    counted = settlement_monitor(std, ScoringPolicy(not_started="counted"), settlement=KASKELEN,
                                 category="district", values=values)
    assert "7.5" in counted.metrics and "7.5" not in counted.left_out
    assert set(counted.left_out.values()) == {"no daily values"}


def test_windows_and_span(std: Standard) -> None:
    values = days("1.8", 100, numerator=1, denominator=1)
    result = settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=values,
                                as_of=date(2026, 5, 31))
    assert (result.first_day, result.last_day) == (AS_OF - timedelta(days=99), AS_OF)
    assert result.windows()["quarter"] == {"start": "2026-03-03", "end": "2026-05-31", "days": 90}
    with pytest.raises(ValueError, match="no daily KPI values"):
        settlement_monitor(std, ScoringPolicy(), settlement=ASTANA, category="republican", values=[])
