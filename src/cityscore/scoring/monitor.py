"""The operational monitor, in the manner of Boston CityScore: day / week / month / quarter scores per metric.

A metric's score is a ratio where 1.0 means "on target"; it is not capped, so 1.7 says "70 % better than target"
(seed of the standard, Appendix 1; the presentation's table shows 0.58 … 1.72). Kinds:

- ``ratio_to_target`` — (Σ numerator / Σ denominator) ÷ target, or (mean of the values) ÷ target when the records
  carry values (e.g. the share of calls answered within 30 s ÷ 95 %); for a metric that is a KPI of the catalog the
  pooled ratio is expressed in the KPI's unit (× 100 for a percentage), as its target is;
- ``target_over_value`` — target ÷ value, the value being Σ numerator / Σ denominator or the median of the values
  (e.g. target minutes ÷ the median response time);
- ``baseline_over_current`` — Σ baseline ÷ Σ current (fewer is better, e.g. crimes against the same days of past
  years);
- ``current_over_baseline`` — Σ current ÷ Σ baseline (more is better).

Windows end at the as-of date (inclusive) and are trailing: day = 1 day, week = 7 days, month = 30 days, quarter =
90 days. A window without records gives null. A zero where the ratio would divide by it follows the annual rules
(decisions.md D-64): a «fewer is better» metric at 0 is on target (``target_over_value`` and
``baseline_over_current`` give 1.0), a ``current_over_baseline`` metric from a baseline of 0 is met when it is above
0, and a ``ratio_to_target`` metric with a target of 0 is met when it is not below it. The overall score of a window
is the mean of the metrics' non-null scores, each counted at most ``overall_cap`` (:data:`MONITOR_OVERALL_CAP`, D-39;
None: Boston's plain mean). Records may be daily (a ``date``) or already aggregated per window (a ``window`` of
day|week|month|quarter, optionally with the ``date`` it ends on), the way Boston publishes its data.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ..standard.inputs import METRIC_KINDS as METRIC_KINDS
from ..standard.inputs import WINDOWS as WINDOWS
from ..standard.inputs import MetricKind as MetricKind
from ..standard.inputs import MonitorRecord as MonitorRecord

MONITOR_OVERALL_CAP = 2.0  # each metric counts at most this much in the overall of a window (decisions.md D-39)


def window_bounds(as_of: date, window: str) -> tuple[date, date]:
    """First and last day (inclusive) of ``window`` ending at ``as_of``."""
    return as_of - timedelta(days=WINDOWS[window] - 1), as_of


def metric_score(kind: str, rows: list[MonitorRecord]) -> float | None:
    """The score of one metric over the records of one window (None when undefined)."""
    if not rows:
        return None
    pooled = all(r.numerator is not None and r.denominator is not None for r in rows)
    if kind in ("baseline_over_current", "current_over_baseline"):
        if not all(r.baseline is not None for r in rows):
            return None
        current = sum((r.numerator if pooled else r.value) or 0.0 for r in rows)
        baseline = sum(r.baseline or 0.0 for r in rows)
        if kind == "baseline_over_current":
            return baseline / current if current else 1.0  # nothing left: on target (D-64)
        return current / baseline if baseline else (1.0 if current > 0 else 0.0)  # from 0: met when above it
    targets = [r.target for r in rows if r.target is not None]
    if not targets:
        return None
    target = sum(targets) / len(targets)
    if pooled:
        den = sum(r.denominator or 0.0 for r in rows)
        if not den:
            return None
        value: float | None = rows[0].scale * sum(r.numerator or 0.0 for r in rows) / den
    else:
        values = [r.value for r in rows if r.value is not None]
        if not values:
            return None
        value = statistics.fmean(values) if kind == "ratio_to_target" else statistics.median(values)
    if value is None:
        return None
    if kind == "ratio_to_target":
        return value / target if target else (1.0 if value >= target else 0.0)
    return target / value if value else 1.0  # «≤» at 0: on target (D-64)


@dataclass(frozen=True)
class MonitorResult:
    """Scores per metric and window for one settlement (or for records without a settlement)."""

    settlement: str | None
    as_of: date
    metrics: dict[str, dict[str, float | None]]
    overall: dict[str, float | None]

    def to_json(self) -> dict[str, object]:
        return {"settlement": self.settlement, "metrics": self.metrics, "overall": self.overall}


def monitor(records: Iterable[MonitorRecord], *, as_of: date | None = None,
            overall_cap: float | None = MONITOR_OVERALL_CAP) -> list[MonitorResult]:
    """Monitor scores per settlement. ``as_of`` defaults to the latest date in the records. ``overall_cap``: each
    metric's score counts at most this much in the overall mean (default 2.0; None: Boston's plain mean; decisions.md
    D-39, D-63)."""
    rows = list(records)
    if as_of is None:
        dates = [r.date for r in rows if r.date is not None]
        if not dates:
            raise ValueError("no dates in the records: give --as-of")
        as_of = max(dates)
    by_settlement: dict[str | None, list[MonitorRecord]] = defaultdict(list)
    for r in rows:
        by_settlement[r.settlement].append(r)
    results = []
    for settlement in sorted(by_settlement, key=lambda s: s or ""):
        results.append(_monitor_one(settlement, by_settlement[settlement], as_of, overall_cap))
    return results


def _monitor_one(settlement: str | None, rows: list[MonitorRecord], as_of: date,
                 overall_cap: float | None = None) -> MonitorResult:
    by_metric: dict[str, list[MonitorRecord]] = defaultdict(list)
    for r in rows:
        by_metric[r.metric].append(r)
    metrics: dict[str, dict[str, float | None]] = {}
    for metric, items in sorted(by_metric.items()):
        kind = items[0].kind
        metrics[metric] = {}
        for window in WINDOWS:
            pre = [r for r in items if r.window == window and (r.date is None or r.date == as_of)]
            if pre:
                metrics[metric][window] = metric_score(kind, pre)
                continue
            start, end = window_bounds(as_of, window)
            daily = [r for r in items if r.window is None and r.date is not None and start <= r.date <= end]
            metrics[metric][window] = metric_score(kind, daily)
    return MonitorResult(settlement, as_of, metrics, overall_scores(metrics, overall_cap))


def overall_scores(metrics: dict[str, dict[str, float | None]], overall_cap: float | None) -> dict[str, float | None]:
    """The overall of each window: the mean of the metrics' non-null scores, each counted at most ``overall_cap``
    (None: not capped); null for a window where no metric has a score."""
    overall: dict[str, float | None] = {}
    for window in WINDOWS:
        scores = [float(v) for m in metrics.values() if (v := m.get(window)) is not None]
        if overall_cap is not None:
            scores = [min(v, overall_cap) for v in scores]
        overall[window] = statistics.fmean(scores) if scores else None
    return overall
