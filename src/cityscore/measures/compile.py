"""Compile the measures to Ibis and run them: all measures of one table and time column in one pass.

Each raw table is joined to the settlement parameters (category, residents, the category's thresholds from the
catalog), its time column is turned into the civil month (or day), and one ``group_by(settlement, period)
.aggregate(...)`` computes every measure's numerator, denominator or value at once. Baselines come from the same
query over the previous year. The result is a list of :class:`KpiValue`, one per settlement × KPI × period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa

from ..scoring.annual import POOL_SCALE
from ..scoring.normalise import resolve
from ..scoring.policy import ScoringPolicy
from ..settlements import Registry
from ..standard import CATEGORIES, Standard
from .civil import civil, month_end
from .norms import DAILY_NORMS_UG_M3
from .specs import MAX_HEADWAY_MINUTES, MEASURES, Measure


@dataclass(frozen=True)
class KpiValue:
    """One computed KPI value of one settlement for one period (a civil month or day)."""

    settlement: str
    kpi: str
    period_start: date
    period_end: date
    value: float | None
    numerator: float | None
    denominator: float | None
    baseline: float | None
    measure: str
    source_table: str
    rows_used: int


def settlement_params(std: Standard, registry: Registry, policy: ScoringPolicy) -> pa.Table:
    """Per settlement: category, residents and the category's formula parameters (D-08)."""
    answer: dict[str, float] = {}
    arrival: dict[str, float] = {}
    for category in CATEGORIES:
        for kpi_id, name, out in (("1.8", "answer_within_seconds", answer), ("1.11", "arrival_within_minutes",
                                                                            arrival)):
            kpi = std.kpi(kpi_id)
            value = kpi.parameters[name][category] if kpi and name in kpi.parameters else None
            resolved = resolve(value, "≤", policy.range_parameter) if isinstance(value, int | float | tuple) else None
            out[category] = float(resolved) if resolved is not None else float("nan")
    settlements = registry.settlements
    return pa.table({
        "p_kato": [s.kato for s in settlements],
        "p_category": [s.category for s in settlements],
        "p_population": pa.array([float(s.population) if s.population else None for s in settlements], pa.float64()),
        "p_answer_within_seconds": [answer[s.category] for s in settlements],
        "p_arrival_within_minutes": [arrival[s.category] for s in settlements],
    })


def _period(column: Any, grain: str, since: date) -> Any:
    """The civil month (or day) of each row, as the timestamp of its start (cast to a date after aggregating)."""
    local = column if column.type().is_date() else civil(column, since=since)
    return local.truncate("M" if grain == "month" else "D")


def _zero(total: Any) -> Any:
    """A sum over no rows is 0 here, not NULL: nothing in scope is a count of zero."""
    return ibis.coalesce(total, 0)


def _aggregates(t: Any, measures: list[Measure], weighted: bool) -> dict[str, Any]:
    """The aggregates of all ``measures`` over one table, for one ``group_by``.

    With ``weighted`` (the table carries a ``weight`` column with values: a sample or summary row stands for
    ``weight`` records) counts are Σ weight and means are weighted; otherwise plain counts, and the number of rows
    in scope is the denominator itself (one aggregate fewer per measure). A NULL condition counts as false, as SQL's
    FILTER does.
    """
    out: dict[str, Any] = {}
    w = t.weight.fill_null(1.0) if weighted else None
    for m in measures:
        scope = m.scope(t) if m.scope else None
        rows = t.count(where=scope) if scope is not None else t.count()
        counted = _zero(w.sum(where=scope) if scope is not None else w.sum()) if w is not None else rows
        key = m.id.replace(".", "_")
        if m.kind in ("share", "uptime"):
            weight = t.interval_seconds if m.kind == "uptime" else (m.weight(t) if m.weight else w)
            hit = t.up if m.kind == "uptime" or m.condition is None else m.condition(t)
            both = hit if scope is None else scope & hit
            if weight is None:
                out[f"{key}__num"] = t.count(where=both)
                out[f"{key}__den"] = counted
            else:
                out[f"{key}__num"] = _zero(weight.sum(where=both))
                out[f"{key}__den"] = _zero(weight.sum(where=scope) if scope is not None else weight.sum())
        elif m.kind == "mean" and m.value is not None:
            value = m.value(t)
            valued = value.notnull() if scope is None else scope & value.notnull()
            if w is None:
                out[f"{key}__num"] = value.sum(where=valued)
                out[f"{key}__den"] = value.count(where=valued)
            else:
                out[f"{key}__num"] = (value * w).sum(where=valued)
                out[f"{key}__den"] = _zero(w.sum(where=valued))
        elif m.kind == "median" and m.value is not None:
            out[f"{key}__val"] = m.value(t).median(where=scope)
        elif m.kind == "sum" and m.value is not None:
            out[f"{key}__val"] = m.value(t).sum(where=scope)
        elif m.kind == "count":
            out[f"{key}__val"] = counted
        elif m.kind == "rate_per_1000":
            out[f"{key}__num"] = counted
            out[f"{key}__den"] = t.p_population.max()
        if w is not None or m.kind not in ("share", "mean", "count"):
            out[f"{key}__rows"] = rows
    return out


def _has_weights(raw: Any) -> bool:
    """Whether any row in range carries a weight (a sample or summary row); plain data has none."""
    if "weight" not in raw.columns:
        return False
    return bool(raw.weight.count().to_pyarrow().as_py())


def _run_table(backend: Any, params: Any, table: str, time: str, measures: list[Measure], start: date, end: date,
               grain: str) -> list[dict[str, Any]]:
    raw = backend.table(f"raw_{table}")
    if raw[time].type().is_date():
        raw = raw.filter((raw[time] >= start) & (raw[time] <= end))
    else:  # prune on the stored UTC instant first (row groups, zone maps), then place each row in its civil period
        lower = datetime.combine(start, datetime.min.time()) - timedelta(hours=6)
        upper = datetime.combine(end, datetime.min.time()) + timedelta(days=1)
        raw = raw.filter((raw[time] >= ibis.timestamp(lower)) & (raw[time] < ibis.timestamp(upper)))
    t = raw.join(params, raw.settlement == params.p_kato) if any(m.params for m in measures) else raw
    t = t.mutate(_period=_period(t[time], grain, start))  # periods just outside [start, end] are dropped later
    plain = [m for m in measures if m.kind not in ("wait_time", "daily_compliance", "ratio")]
    rows: list[dict[str, Any]] = []
    if plain:
        aggregates = _aggregates(t, plain, _has_weights(raw))
        result = t.group_by([t.settlement, t._period]).aggregate(**aggregates).to_pyarrow()
        rows += result.to_pylist()
    for m in measures:
        if m.kind == "wait_time":
            rows += _wait_time(t, m)
        elif m.kind == "daily_compliance":
            rows += _daily_compliance(t, m)
    return rows


def _wait_time(t: Any, m: Measure) -> list[dict[str, Any]]:
    day = civil(t.actual_at).truncate("D")
    window = ibis.window(group_by=[t.settlement, t.route_id, t.stop_id, day], order_by=t.actual_at)
    headway = (t.actual_at.epoch_seconds() - t.actual_at.lag().over(window).epoch_seconds()) / 60.0
    h = t.mutate(_h=headway)
    h = h.filter(h._h.notnull() & (h._h > 0) & (h._h <= MAX_HEADWAY_MINUTES))
    key = m.id.replace(".", "_")
    rows: list[dict[str, Any]] = h.group_by([h.settlement, h._period]).aggregate(**{
        f"{key}__num": (h._h * h._h).sum() / 2.0, f"{key}__den": h._h.sum(), f"{key}__rows": h.count(),
    }).to_pyarrow().to_pylist()
    return rows


def _daily_compliance(t: Any, m: Measure) -> list[dict[str, Any]]:
    norms = ibis.memtable(pa.table({"n_pollutant": list(DAILY_NORMS_UG_M3),
                                    "n_norm": list(DAILY_NORMS_UG_M3.values())}))
    day = civil(t.measured_at).truncate("D")
    daily = t.group_by([t.settlement, t._period, t.station_id, t.pollutant, day.name("_day")]).aggregate(
        _mean=t.value.mean())
    joined = daily.join(norms, daily.pollutant == norms.n_pollutant)
    key = m.id.replace(".", "_")
    rows: list[dict[str, Any]] = joined.group_by([joined.settlement, joined._period]).aggregate(**{
        f"{key}__num": (joined._mean <= joined.n_norm).sum(), f"{key}__den": joined.count(),
        f"{key}__rows": joined.count(),
    }).to_pyarrow().to_pylist()
    return rows


def compute(backend: Any, std: Standard, registry: Registry, policy: ScoringPolicy, *, year: int,
            grain: str = "month", measures: Iterable[Measure] = MEASURES,
            tables: Iterable[str] | None = None) -> list[KpiValue]:
    """Every measure for ``year`` (and the previous year for baselines) from the raw tables in ``backend``."""
    chosen = [m for m in measures if tables is None or m.table in tables]
    params = ibis.memtable(settlement_params(std, registry, policy))
    needs_baseline = any(m.baseline for m in chosen)
    start = date(year - 1 if needs_baseline else year, 1, 1)
    end = date(year, 12, 31)
    by_table: dict[tuple[str, str], list[Measure]] = defaultdict(list)
    ratio = [m for m in chosen if m.kind == "ratio"]
    parts = {p for m in ratio for p in m.parts}
    for m in [*chosen, *(x for x in measures if x.id in parts and x not in chosen)]:
        if m.kind != "ratio":
            by_table[(m.table, m.time)].append(m)
    merged: dict[tuple[str, date], dict[str, Any]] = defaultdict(dict)
    for (table, time), group in by_table.items():
        for row in _run_table(backend, params, table, time, group, start, end, grain):
            period = row.pop("_period")
            period = period.date() if isinstance(period, datetime) else period
            if start <= period <= end:
                merged[(row.pop("settlement"), period)].update(row)
    units = {k.id: k.unit for k in std.kpis}
    # a ratio's numerator table may have no rows in a month (no transport accident at all): zero, as long as the
    # settlement reports that table in the year at all
    for m in ratio:
        num_key = f"{m.parts[0].replace('.', '_')}__val"
        reporting = {s for (s, p), cells in merged.items() if num_key in cells and p.year == year}
        for (settlement, _period), cells in merged.items():
            if settlement in reporting and num_key not in cells:
                cells[num_key] = 0.0
    out: list[KpiValue] = []
    for (settlement, period), cells in sorted(merged.items()):
        if period.year != year:
            continue
        previous = merged.get((settlement, period.replace(year=year - 1)), {}) if needs_baseline else {}
        for m in chosen:
            value = _value(m, cells, units.get(m.kpi, ""))
            if value is None or m.kpi.startswith("_"):
                continue
            baseline = None
            if m.baseline:
                prior = _value(m, previous, units.get(m.kpi, ""))
                baseline = prior[0] if prior else None
            number, num, den, rows = value
            out.append(KpiValue(settlement, m.kpi, period, month_end(period) if grain == "month" else period,
                                number, num, den, baseline, m.kind, m.table, rows))
    return out


def _value(m: Measure, cells: dict[str, Any], unit: str) -> tuple[float | None, float | None, float | None, int] | None:
    key = m.id.replace(".", "_")
    if m.kind == "ratio":
        num_key, den_key = (p.replace(".", "_") for p in m.parts)
        num = cells.get(f"{num_key}__val")
        den = cells.get(f"{den_key}__val")
        if num is None or not den:
            return None
        return POOL_SCALE.get(unit, 1.0) * float(num) / float(den), float(num), float(den), int(den)
    rows = int(cells.get(f"{key}__rows", cells.get(f"{key}__den", cells.get(f"{key}__val"))) or 0)
    if f"{key}__val" in cells:
        val = cells[f"{key}__val"]
        if val is None and m.kind in ("sum", "count"):
            val = 0.0  # the table has this settlement's month, but nothing in scope: zero, not missing
        if val is None:
            return None
        return float(val), None, None, rows
    num, den = cells.get(f"{key}__num"), cells.get(f"{key}__den")
    if num is None or den is None or float(den) == 0:
        return None
    scale = 1.0 if m.kind == "mean" else POOL_SCALE.get(unit, 1.0)
    return scale * float(num) / float(den), float(num), float(den), rows
