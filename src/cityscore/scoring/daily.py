"""The monitor of one settlement's KPIs from their daily values: which KPIs, how each is judged, and the overall.

The one definition behind ``cityscore monitor`` on the warehouse, ``/api/v1/settlements/{kato}/monitor``, the
dashboard's monitor and the monitor that ``cityscore score`` and ``cityscore compute --grain day`` store
(decisions.md D-63). Pure: daily values in, scores out; the windows and the scores of a metric are those of
:mod:`.monitor` (D-30).

Rules:

- **Which KPIs.** Those that count for the settlement's category in the as-of date's year under the policy
  (:func:`~cityscore.scoring.selection.eligibility`: the KPI applies to the category (D-05), its initiative's stage
  has begun (D-16), the category has a target, …) and whose target is a level to compare with: a threshold («≥»,
  «≤») or a reduction, growth or stabilisation against the baseline. Compliance and qualitative targets are not
  monitored. Every KPI with daily values that is not monitored is in ``left_out`` with the reason, and so is every
  KPI that counts but has no daily value (sent per month or year, or no data): the monitor never hides a KPI.
- **How each is judged** (1.0 = on target; ranges resolve as the policy's ``range_target``, D-07):
  «≥» ``ratio_to_target`` (value ÷ target); «≤» ``target_over_value`` (target ÷ value; 0 is on target, D-64);
  a reduction of r % ``baseline_over_current`` against the level it aims at, baseline × (1 − r / 100); a growth of
  g % ``current_over_baseline`` against baseline × (1 + g / 100); a stabilisation against the baseline itself, in
  the KPI's direction. A dynamic KPI is compared on the days that have both a value and a baseline.
- **Monthly amounts.** A KPI whose measure (catalog ``measure.kind``) is a count, a sum or a rate per 1 000
  accumulates over a month, as its target does: its daily values are put on the monthly scale (× 365.25 / 12) in
  every window (D-39). Shares, means, medians, ratios and comparisons with a baseline are scale-free.
- **No day score for a KPI published monthly or more rarely** (catalog ``periodicity`` monthly, quarterly or
  annual): one day of it says nothing against its target, so its day window is null (D-63).
- **The overall** of a window: the mean of the non-null scores, each counted at most ``overall_cap``
  (:data:`~.monitor.MONITOR_OVERALL_CAP` = 2.0, D-39).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ..standard import KPI, Category, Standard
from ..standard.inputs import DAYS_PER_MONTH as DAYS_PER_MONTH  # re-exported
from .annual import POOL_SCALE
from .monitor import MONITOR_OVERALL_CAP, WINDOWS, MonitorRecord, monitor, overall_scores, window_bounds
from .normalise import resolve
from .policy import ScoringPolicy
from .selection import eligibility

MONTHLY_MEASURES = ("count", "sum", "rate_per_1000")  # measure kinds whose values accumulate over a month (D-39)
NO_DAY_SCORE = ("monthly", "quarterly", "annual")  # periodicities without a day score (D-63)
QUARTER_DAYS = WINDOWS["quarter"]
NO_DAILY_VALUES = "no daily values"  # counts in the score, but its values come per month or year (or not at all)


@dataclass(frozen=True)
class DailyValue:
    """One KPI value of one settlement for one civil day (``kpi_values`` with ``period_start = period_end``)."""

    kpi: str
    day: date
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    baseline: float | None = None


@dataclass(frozen=True)
class MonitoredKpi:
    """How one KPI is judged in the monitor."""

    kpi: str
    kind: str  # the metric kind of :mod:`.monitor`
    target_kind: str  # threshold, reduction, growth, stabilisation
    comparator: str | None
    target: float | None  # the level of a threshold; the change in % of a reduction or growth
    monthly: bool  # daily values put on the monthly scale
    day_score: bool  # False: published monthly or more rarely, no day score

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "target_kind": self.target_kind, "comparator": self.comparator,
                "target": self.target, "monthly": self.monthly, "day_score": self.day_score}


@dataclass(frozen=True)
class SettlementMonitor:
    """The monitor of one settlement as of one day: a score per monitored KPI and window, and the overall."""

    settlement: str
    category: Category
    as_of: date
    first_day: date
    last_day: date
    metrics: dict[str, dict[str, float | None]]
    overall: dict[str, float | None]
    overall_cap: float | None
    kpis: dict[str, MonitoredKpi]
    left_out: dict[str, str] = field(default_factory=dict)
    policy: str = "official"

    def windows(self) -> dict[str, dict[str, object]]:
        """Each window's first and last day and its length."""
        return {w: {"start": window_bounds(self.as_of, w)[0].isoformat(), "end": self.as_of.isoformat(), "days": n}
                for w, n in WINDOWS.items()}

    def to_json(self) -> dict[str, Any]:
        """The shape of ``/api/v1/settlements/{kato}/monitor`` and of ``cityscore monitor --format json``."""
        return {"settlement": self.settlement, "category": self.category, "as_of": self.as_of.isoformat(),
                "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "year": self.as_of.year, "windows": self.windows(), "metrics": self.metrics, "overall": self.overall,
                "overall_cap": self.overall_cap, "policy": self.policy,
                "kpis": {k: v.to_json() for k, v in self.kpis.items()}, "left_out": self.left_out}


def monthly_amount(kpi: KPI) -> bool:
    """Whether the KPI's daily values accumulate over a month (its catalog measure counts, sums or is a rate per
    1 000 per month): the monitor puts them on the monthly scale of the target (D-39)."""
    return kpi.measure is not None and kpi.measure.kind in MONTHLY_MEASURES


def day_scored(kpi: KPI) -> bool:
    """Whether the KPI gets a day score: not when it is published monthly or more rarely (D-63)."""
    return kpi.periodicity not in NO_DAY_SCORE


def plan(std: Standard, kpi: KPI, category: Category, year: int, policy: ScoringPolicy) -> MonitoredKpi | str:
    """How ``kpi`` is monitored for a settlement of ``category`` in ``year``, or why it is not."""
    decided = eligibility(std, kpi, category, year, policy)
    if not decided.counts or decided.target is None:
        return decided.reason or "does not count"
    target = decided.target
    monthly, day = monthly_amount(kpi), day_scored(kpi)
    if target.kind == "threshold":
        goal = resolve(target.value, target.comparator, policy.range_target)
        if goal is None:
            return f"target «{target.text}» has no level to compare with"
        kind = "target_over_value" if target.comparator == "≤" else "ratio_to_target"
        return MonitoredKpi(kpi.id, kind, "threshold", target.comparator, goal, monthly, day)
    if target.kind in ("reduction", "growth", "stabilisation"):
        change = None if target.kind == "stabilisation" else resolve(target.value, "≥", policy.range_target)
        fewer = (kpi.direction == "lower_is_better") if target.kind == "stabilisation" else target.kind == "reduction"
        kind = "baseline_over_current" if fewer else "current_over_baseline"
        return MonitoredKpi(kpi.id, kind, target.kind, None, change, False, day)  # a ratio of two sums: no scale
    return f"a {target.kind} target «{target.text}» is not monitored"


def _record(item: MonitoredKpi, unit: str, settlement: str, v: DailyValue) -> MonitorRecord | None:
    per = DAYS_PER_MONTH if item.monthly else 1.0
    if item.target_kind != "threshold":
        if v.value is None or v.baseline is None:
            return None
        change = (item.target or 0.0) / 100.0
        level = 1.0 - change if item.target_kind == "reduction" else 1.0 + change
        return MonitorRecord(metric=item.kpi, kind=item.kind, settlement=settlement, date=v.day, value=v.value,
                             baseline=v.baseline * level)
    if v.numerator is not None and v.denominator is not None:
        return MonitorRecord(metric=item.kpi, kind=item.kind, settlement=settlement, date=v.day,
                             numerator=v.numerator, denominator=v.denominator, target=item.target,
                             scale=POOL_SCALE.get(unit, 1.0) * per)
    if v.value is None:
        return None
    return MonitorRecord(metric=item.kpi, kind=item.kind, settlement=settlement, date=v.day, value=v.value * per,
                         target=item.target)


def settlement_monitor(std: Standard, policy: ScoringPolicy, *, settlement: str, category: Category,
                       values: Iterable[DailyValue], as_of: date | None = None,
                       span: tuple[date, date] | None = None,
                       overall_cap: float | None = MONITOR_OVERALL_CAP) -> SettlementMonitor:
    """The monitor of one settlement from its daily KPI values (see the module docstring for every rule).

    ``as_of`` defaults to the last day of ``span``; ``span`` (the first and last day with daily values) defaults to
    that of ``values``: a caller may pass only the values of the 90 days up to ``as_of``. Raises ``ValueError``
    when there is no daily value at all.
    """
    rows = list(values)
    if span is None:
        if not rows:
            raise ValueError(f"no daily KPI values for {settlement}")
        days = [v.day for v in rows]
        span = (min(days), max(days))
    as_of = as_of or span[1]
    start = as_of - timedelta(days=QUARTER_DAYS - 1)
    kpis: dict[str, MonitoredKpi] = {}
    left_out: dict[str, str] = {}
    records: list[MonitorRecord] = []
    by_kpi: dict[str, list[DailyValue]] = defaultdict(list)
    for v in rows:
        by_kpi[v.kpi].append(v)
    for kpi_id in sorted(by_kpi, key=_kpi_order):
        kpi = std.kpi(kpi_id)
        judged = plan(std, kpi, category, as_of.year, policy) if kpi is not None else f"not a KPI of {std.id}"
        if isinstance(judged, str):
            left_out[kpi_id] = judged
            continue
        assert kpi is not None
        kpis[kpi_id] = judged
        for v in by_kpi[kpi_id]:
            if start <= v.day <= as_of and (record := _record(judged, kpi.unit, settlement, v)) is not None:
                records.append(record)
    for kpi in std.kpis:  # a KPI that counts but has no daily value is left out, and says so
        if kpi.id not in by_kpi and isinstance(plan(std, kpi, category, as_of.year, policy), MonitoredKpi):
            left_out[kpi.id] = NO_DAILY_VALUES
    left_out = dict(sorted(left_out.items(), key=lambda item: _kpi_order(item[0])))
    found = monitor(records, as_of=as_of, overall_cap=overall_cap)[0].metrics if records else {}
    metrics: dict[str, dict[str, float | None]] = {k: found.get(k, dict.fromkeys(WINDOWS)) for k in kpis}
    for kpi_id, item in kpis.items():
        if not item.day_score:
            metrics[kpi_id]["day"] = None
    return SettlementMonitor(settlement, category, as_of, span[0], span[1], metrics,
                             overall_scores(metrics, overall_cap), overall_cap, kpis, left_out, policy.name)


def _kpi_order(kpi_id: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in kpi_id.split("."))
    except ValueError:
        return (10**6,)
