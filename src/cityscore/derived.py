"""What is stored beside a scoring run so that no request re-scores anything: the monthly trend and the daily monitor.

Write side (``cityscore score``, ``cityscore demo``, ``cityscore compute --grain day``):

- :func:`store_trend` — every settlement's CityScore year to date after each month, by
  :func:`cityscore.scoring.trend.monthly_trend` from the run's own input and policy, in ``score_trend`` keyed by the
  run (decisions.md D-65);
- :func:`store_monitors` — every settlement's monitor as of its last day with daily values (what the dashboard
  shows by default), by :func:`cityscore.scoring.daily.settlement_monitor`, in ``monitor_runs`` /
  ``monitor_scores`` keyed by the computation, with the stamp of the daily values it read (D-66).

Read side, shared by the command line and the read model so that both give the same numbers from the same data:
:func:`daily_values` (the daily KPI values of the 90 days up to the as-of date), :func:`monitor_policy` (the policy
whose eligibility rules choose the monitored KPIs: that of the year's published run, else the official defaults)
and :func:`compute_monitors`. They read through any object with ``scalar`` and ``rows``
(:class:`cityscore.store.changes.Reader`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from .errors import NotFoundError
from .publishing.finite import finite
from .scoring import Evidence, Observation, ScoreRun, ScoringPolicy
from .scoring.daily import QUARTER_DAYS, DailyValue, SettlementMonitor, settlement_monitor
from .scoring.monitor import MONITOR_OVERALL_CAP, WINDOWS
from .scoring.trend import monthly_trend
from .settlements import Registry
from .standard import Standard
from .store.changes import Reader
from .store.warehouse import Warehouse, utcnow

DAILY = "period_end = period_start"
# the published run of each year: its latest run under the official policy, else its latest run (the last row wins)
PUBLISHED_RUNS = ("SELECT run_id, year, standard_version, policy_json, created_at FROM score_runs "
                  "ORDER BY year, (policy_json = ?), run_id")


def published_runs(reader: Reader) -> dict[int, tuple[Any, ...]]:
    """Year → ``(run_id, year, standard_version, policy_json, created_at)`` of the year's published run."""
    return {int(r[1]): r for r in reader.rows(PUBLISHED_RUNS, [ScoringPolicy().model_dump_json()])}


def policy_from_json(text: str) -> ScoringPolicy:
    """A stored run's policy; the official defaults when this program no longer knows one of its fields."""
    try:
        return ScoringPolicy.model_validate_json(text)
    except ValidationError:
        return ScoringPolicy()


def monitor_policy(reader: Reader, year: int) -> tuple[int | None, ScoringPolicy]:
    """The run whose policy decides which KPIs the monitor of ``year`` shows (its published run; None when the year
    has no run) and that policy (the official defaults without a run; decisions.md D-63)."""
    found = published_runs(reader).get(year)
    if found is None:
        return None, ScoringPolicy()
    return int(found[0]), policy_from_json(str(found[3]))


def daily_computed_at(reader: Reader) -> datetime | None:
    """When the daily KPI values were last computed (the stamp a stored monitor is checked against)."""
    stamp: datetime | None = reader.scalar(f"SELECT max(computed_at) FROM kpi_values WHERE {DAILY}")
    return stamp


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def daily_values(reader: Reader, *, settlement: str | None = None, as_of: date | None = None,
                 year: int | None = None) -> dict[str, tuple[tuple[date, date], list[DailyValue]]]:
    """Per settlement: the first and last day with daily KPI values, and the values of the 90 days up to ``as_of``
    (default: that last day). ``year`` limits the first and last day (so the default ``as_of``) to that year; the
    windows still reach back into the year before. A non-finite number is no value."""
    where: list[str] = [DAILY]
    params: list[Any] = []
    if settlement is not None:
        where.append("settlement = ?")
        params.append(settlement)
    if year is not None:
        where.append("year(period_start) = ?")
        params.append(year)
    end = "CAST(? AS DATE)" if as_of is not None else "s.last_day"
    rows = reader.rows(
        f"WITH span AS (SELECT settlement, min(period_start) AS first_day, max(period_start) AS last_day "
        f"FROM kpi_values WHERE {' AND '.join(where)} GROUP BY settlement) "
        f"SELECT v.settlement, v.kpi, v.period_start, v.value, v.numerator, v.denominator, v.baseline, s.first_day, "
        f"s.last_day FROM kpi_values v JOIN span s ON v.settlement = s.settlement WHERE v.{DAILY} "
        f"AND v.period_start BETWEEN {end} - {QUARTER_DAYS - 1} AND {end} ORDER BY v.settlement, v.period_start",
        [*params, *([as_of.isoformat()] * 2 if as_of is not None else [])])
    out: dict[str, tuple[tuple[date, date], list[DailyValue]]] = {}
    for kato, kpi, day, value, numerator, denominator, baseline, first, last in rows:
        entry = out.setdefault(kato, ((first, last), []))
        entry[1].append(DailyValue(kpi, day, _finite(value), _finite(numerator), _finite(denominator),
                                   _finite(baseline)))
    if as_of is not None:  # settlements whose span has no value within the windows still have a (null) monitor
        for kato, first, last in reader.rows(f"SELECT settlement, min(period_start), max(period_start) FROM kpi_values "
                                             f"WHERE {' AND '.join(where)} GROUP BY settlement", params):
            out.setdefault(kato, ((first, last), []))
    return out


def compute_monitors(reader: Reader, std: Standard, registry: Registry, *, settlement: str | None = None,
                     as_of: date | None = None, year: int | None = None,
                     overall_cap: float | None = MONITOR_OVERALL_CAP) -> list[tuple[int | None, SettlementMonitor]]:
    """The monitor of every settlement with daily values (or of ``settlement``), from the warehouse: each with the
    run whose policy chose its KPIs (:func:`monitor_policy`)."""
    policies: dict[int, tuple[int | None, ScoringPolicy]] = {}
    out = []
    for kato, (span, values) in sorted(daily_values(reader, settlement=settlement, as_of=as_of, year=year).items()):
        found = registry.get(kato)
        if found is None:
            continue
        day = as_of or span[1]
        if day.year not in policies:
            policies[day.year] = monitor_policy(reader, day.year)
        run_id, policy = policies[day.year]
        if settlement is not None and (day < span[0] or (day - span[1]).days >= QUARTER_DAYS):
            raise NotFoundError(f"{found.name_ru} ({kato}) has no daily KPI values in the {QUARTER_DAYS} days up to "
                                f"{day.isoformat()}: they run from {span[0].isoformat()} to {span[1].isoformat()}.")
        out.append((run_id, settlement_monitor(std, policy, settlement=kato, category=found.category, values=values,
                                               as_of=day, span=span, overall_cap=overall_cap)))
    return out


def store_monitors(wh: Warehouse, std: Standard, registry: Registry, *, trigger: str) -> int | None:
    """Compute every settlement's monitor as of its last day with daily values and store it; return the id of the
    stored computation (None when there are no daily values). Earlier computations are removed."""
    stamp = daily_computed_at(wh)
    if stamp is None:
        return None
    monitors = compute_monitors(wh, std, registry)
    with wh.transaction():
        monitor_run_id = int(wh.scalar("SELECT nextval('monitor_run_ids')"))
        wh.con.execute("DELETE FROM monitor_scores")
        wh.con.execute("DELETE FROM monitor_runs")
        wh.con.execute("INSERT INTO monitor_runs VALUES (?, ?, ?, ?, ?, ?)",
                       [monitor_run_id, stamp, MONITOR_OVERALL_CAP, std.id, trigger, utcnow()])
        wh.con.executemany("INSERT INTO monitor_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (monitor_run_id, m.settlement, m.as_of, run_id, *(m.overall[w] for w in WINDOWS),
             json.dumps(finite(m.to_json()), ensure_ascii=False, allow_nan=False))
            for run_id, m in monitors])
    return monitor_run_id


def store_trend(wh: Warehouse, std: Standard, registry: Registry, run: ScoreRun, run_id: int, *,
                observations: Sequence[Observation], evidence: Sequence[Evidence]) -> int:
    """Compute and store the monthly trend of scoring run ``run_id`` from the observations and evidence it was
    scored from (:func:`cityscore.scoring.trend.monthly_trend`); return the number of points."""
    points = monthly_trend(std, run.policy, registry, observations=observations, evidence=evidence, year=run.year,
                           settlements=[r.settlement for r in run.results])
    with wh.transaction():
        wh.con.execute("DELETE FROM score_trend WHERE run_id = ?", [run_id])
        wh.con.executemany("INSERT INTO score_trend VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (run_id, p.settlement, p.series, p.month, p.cityscore, p.exact, p.base, p.bonus, p.coverage, p.band)
            for p in points])
    return len(points)


def store_published(wh: Warehouse, std: Standard, registry: Registry, run: ScoreRun, run_id: int, *,
                    observations: Sequence[Observation], evidence: Sequence[Evidence]) -> int | None:
    """Everything the pages and the API show of a new scoring run beside its results: its monthly trend, and the
    daily monitor again (the run may have changed the policy that chooses the monitored KPIs). Returns the id of
    the stored monitor (None: no daily values to monitor)."""
    store_trend(wh, std, registry, run, run_id, observations=observations, evidence=evidence)
    return store_monitors(wh, std, registry, trigger=f"score run {run_id}")


def trend_rows(reader: Reader, run_id: int, series: str = "run") -> dict[str, list[dict[str, object]]]:
    """The stored trend of run ``run_id``: settlement → its points in month order (the API's ``trend``)."""
    out: dict[str, list[dict[str, object]]] = defaultdict(list)
    for kato, month, cityscore, coverage, base, bonus, band in reader.rows(
            "SELECT settlement, month, cityscore, coverage, base, bonus, band FROM score_trend "
            "WHERE run_id = ? AND series = ? ORDER BY settlement, month", [run_id, series]):
        out[kato].append({"month": f"{month:%Y-%m}", "cityscore": _finite(cityscore), "coverage": _finite(coverage),
                          "base": _finite(base), "bonus": _finite(bonus), "band_id": band})
    return dict(out)
