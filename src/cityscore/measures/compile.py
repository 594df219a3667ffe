"""Compile the catalog's measures to Ibis and run them: all measures of one table and time column in one pass.

Each raw table is joined to the settlement parameters (category, residents, the KPIs' formula parameters for the
settlement's category), its time column is turned into the civil month (or day), and one ``group_by(settlement,
period).aggregate(...)`` computes every measure's numerator, denominator or value at once. Baselines come from the
same query over the previous year. Kinds (all per settlement × civil period, keeping numerator and denominator so
scores can pool them):

- ``share`` — numerator = rows in scope meeting the condition (Σ ``weight`` when given, or the table's ``weight``
  column), denominator = rows in scope;
- ``mean`` — Σ value / number of values; ``median`` — the median value (medians do not pool);
- ``sum`` — Σ value; ``count`` — the number of rows in scope (Σ weight in a weighted table);
- ``rate_per_1000`` — numerator = rows in scope, denominator = residents (the unit scales it per 1 000);
- ``wait_time`` — the expected wait of a passenger arriving at random, Σ h² / (2 Σ h) over the headways h between
  consecutive arrivals in a series (the ``group`` columns and the civil day); a headway over ``max_gap_minutes`` is
  a gap in service, not a wait;
- ``daily_compliance`` — share of series × civil-day means of ``value`` within the norm of their ``norm_column``;
- ``ratio`` — Σ numerator part / Σ denominator part, scaled to the unit (events per 1 000 or per million of another
  table's rows).

In tables with a ``weight`` column (a sampled or summarised row stands for ``weight`` records) counts are Σ weight
and means and shares are weighted; ``rows_used`` counts the rows themselves. ``as_of`` in an expression is the
instant the data is judged at: the end of the year computed, or the ``as_of`` given (decisions.md D-45).

Beside the values, :func:`compute` can report each value's lineage: the batches whose rows of the table fall in the
settlement's period (and, for a baseline, in the same period a year earlier).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import ibis
import pyarrow as pa

from ..settlements import Registry
from ..standard import CATEGORIES, Standard
from ..standard.units import pool_scale, resolve
from .civil import civil, day_end_utc, month_end
from .expr import to_ibis
from .parts import BoundMeasure, Part, key_of, measures_of

PLAIN_KINDS = ("share", "mean", "median", "sum", "count", "rate_per_1000")


class RangeRule(Protocol):
    """What the measures need of the scoring policy: how a range parameter (60–90 s) becomes one number (D-08)."""

    @property
    def range_parameter(self) -> str: ...


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
    baseline_numerator: float | None = None
    baseline_denominator: float | None = None


@dataclass(frozen=True)
class LineageRow:
    """A batch that a computed KPI value (``role`` "value") or its baseline ("baseline") was computed from."""

    settlement: str
    kpi: str
    period_start: date
    period_end: date
    source_table: str
    batch_id: int
    rows_used: int
    role: str


def param_column(kpi_id: str, name: str) -> str:
    return f"p_{key_of(kpi_id)}__{name}"


def settlement_params(std: Standard, registry: Registry, policy: RangeRule,
                      measures: Iterable[BoundMeasure] | None = None) -> pa.Table:
    """Per settlement: category, residents and, for each measure's formula parameters, the value for the
    settlement's category (a range resolved by the policy's ``range_parameter``, D-08)."""
    settlements = registry.settlements
    columns: dict[str, Any] = {
        "p_kato": [s.kato for s in settlements],
        "p_category": [s.category for s in settlements],
        "p_population": pa.array([float(s.population) if s.population else None for s in settlements], pa.float64()),
    }
    for bound in measures if measures is not None else measures_of(std):
        kpi = std.kpi(bound.kpi)
        for name in sorted(frozenset().union(*(p.params for p in bound.parts))):
            parameter = kpi.parameters.get(name) if kpi else None
            by_category: dict[str, float] = {}
            for category in CATEGORIES:
                value = parameter[category] if parameter is not None else None
                number = resolve(value, "≤", policy.range_parameter) if isinstance(value, int | float | tuple) \
                    else None
                by_category[category] = float(number) if number is not None else float("nan")
            columns[param_column(bound.kpi, name)] = pa.array([by_category[s.category] for s in settlements],
                                                              pa.float64())
    return pa.table(columns)


def year_end_utc(year: int) -> datetime:
    """The UTC instant at which civil ``year`` ends (1 January of the next year, 00:00 local)."""
    return day_end_utc(date(year, 12, 31))


def _period(column: Any, grain: str, since: date) -> Any:
    """The civil month (or day) of each row, as the timestamp of its start (cast to a date after aggregating)."""
    local = column if column.type().is_date() else civil(column, since=since)
    return local.truncate("M" if grain == "month" else "D")


def _zero(total: Any) -> Any:
    """A sum over no rows is 0 here, not NULL: nothing in scope is a count of zero."""
    return ibis.coalesce(total, 0)


class _Compiler:
    def __init__(self, t: Any, as_of: datetime, weighted: bool) -> None:
        self.t = t
        self.as_of = as_of
        self.w = t.weight.fill_null(1.0) if weighted else None

    def expr(self, part: Part, which: str) -> Any:
        expression = getattr(part, which)
        if expression is None:
            return None
        params = {name: param_column(part.kpi, name) for name in expression.params}
        return to_ibis(expression, self.t, params=params, as_of=self.as_of)

    def aggregates(self, parts: list[Part]) -> dict[str, Any]:
        """The aggregates of all ``parts`` over one table, for one ``group_by``.

        Without weights the number of rows in scope is the denominator itself (one aggregate fewer per measure).
        A NULL condition counts as false, as SQL's FILTER does.
        """
        t, w = self.t, self.w
        out: dict[str, Any] = {}
        for p in parts:
            scope = self.expr(p, "scope")
            rows = t.count(where=scope) if scope is not None else t.count()
            counted = _zero(w.sum(where=scope) if scope is not None else w.sum()) if w is not None else rows
            key = p.key
            if p.kind == "share":
                weight = self.expr(p, "weight")
                weight = weight if weight is not None else w
                hit = self.expr(p, "condition")
                both = hit if scope is None else scope & hit
                if weight is None:
                    out[f"{key}__num"] = t.count(where=both)
                    out[f"{key}__den"] = counted
                else:
                    out[f"{key}__num"] = _zero(weight.sum(where=both))
                    out[f"{key}__den"] = _zero(weight.sum(where=scope) if scope is not None else weight.sum())
            elif p.kind == "mean":
                value = self.expr(p, "value")
                valued = value.notnull() if scope is None else scope & value.notnull()
                if w is None:
                    out[f"{key}__num"] = value.sum(where=valued)
                    out[f"{key}__den"] = value.count(where=valued)
                else:
                    out[f"{key}__num"] = (value * w).sum(where=valued)
                    out[f"{key}__den"] = _zero(w.sum(where=valued))
            elif p.kind == "median":
                out[f"{key}__val"] = self.expr(p, "value").median(where=scope)
            elif p.kind == "sum":
                out[f"{key}__val"] = self.expr(p, "value").sum(where=scope)
            elif p.kind == "count":
                out[f"{key}__val"] = counted
            elif p.kind == "rate_per_1000":
                out[f"{key}__num"] = counted
                out[f"{key}__den"] = t.p_population.max()
            if w is not None or p.weight is not None or p.kind not in ("share", "mean", "count"):
                out[f"{key}__rows"] = rows  # the rows themselves, where the denominator is not their number
        return out


def _has_weights(raw: Any) -> bool:
    """Whether any row in range carries a weight (a sample or summary row); plain data has none."""
    if "weight" not in raw.columns:
        return False
    return bool(raw.weight.count().to_pyarrow().as_py())


def _run_table(backend: Any, params: Any, table: str, time: str, parts: list[Part], start: date, end: date,
               grain: str, as_of: datetime, lineage: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    raw = backend.table(f"raw_{table}")
    if raw[time].type().is_date():
        raw = raw.filter((raw[time] >= start) & (raw[time] <= end))
    else:  # prune on the stored UTC instant first (row groups, zone maps), then place each row in its civil period
        lower = datetime.combine(start, datetime.min.time()) - timedelta(hours=6)
        upper = datetime.combine(end, datetime.min.time()) + timedelta(days=1)
        raw = raw.filter((raw[time] >= ibis.timestamp(lower)) & (raw[time] < ibis.timestamp(upper)))
    needs_params = any(p.params for p in parts) or any(p.kind == "rate_per_1000" for p in parts)
    t = raw.join(params, raw.settlement == params.p_kato) if needs_params else raw
    t = t.mutate(_period=_period(t[time], grain, start))  # periods just outside [start, end] are dropped later
    compiler = _Compiler(t, as_of, _has_weights(raw))
    plain = [p for p in parts if p.kind in PLAIN_KINDS]
    rows: list[dict[str, Any]] = []
    if plain:
        result = t.group_by([t.settlement, t._period]).aggregate(**compiler.aggregates(plain)).to_pyarrow()
        rows += result.to_pylist()
    for p in parts:
        if p.kind == "wait_time":
            rows += _wait_time(t, p)
        elif p.kind == "daily_compliance":
            rows += _daily_compliance(compiler, p)
    batches: list[dict[str, Any]] = []
    if lineage:
        batches = t.group_by([t.settlement, t._period, t.batch_id]).aggregate(_rows=t.count()).to_pyarrow() \
            .to_pylist()
    return rows, batches


def _wait_time(t: Any, p: Part) -> list[dict[str, Any]]:
    at = t[p.time]
    day = civil(at).truncate("D")
    window = ibis.window(group_by=[t.settlement, *(t[c] for c in p.group), day], order_by=at)
    headway = (at.epoch_seconds() - at.lag().over(window).epoch_seconds()) / 60.0
    h = t.filter(at.notnull()).mutate(_h=headway)
    h = h.filter(h._h.notnull() & (h._h > 0) & (h._h <= (p.max_gap_minutes or float("inf"))))
    rows: list[dict[str, Any]] = h.group_by([h.settlement, h._period]).aggregate(**{
        f"{p.key}__num": (h._h * h._h).sum() / 2.0, f"{p.key}__den": h._h.sum(), f"{p.key}__rows": h.count(),
    }).to_pyarrow().to_pylist()
    return rows


def _daily_compliance(compiler: _Compiler, p: Part) -> list[dict[str, Any]]:
    t = compiler.t
    assert p.norm_column is not None
    norms = ibis.memtable(pa.table({"n_name": list(p.norms), "n_norm": pa.array(list(p.norms.values()),
                                                                                   pa.float64())}))
    day = civil(t[p.time]).truncate("D")
    scoped = t.filter(compiler.expr(p, "scope")) if p.scope is not None else t
    value = to_ibis(p.value, scoped, params={}, as_of=compiler.as_of) if p.value else scoped.value
    daily = scoped.group_by([scoped.settlement, scoped._period, *(scoped[c] for c in p.group),
                             scoped[p.norm_column].name("_norm_of"), day.name("_day")]).aggregate(_mean=value.mean())
    joined = daily.join(norms, daily._norm_of == norms.n_name)
    rows: list[dict[str, Any]] = joined.group_by([joined.settlement, joined._period]).aggregate(**{
        f"{p.key}__num": (joined._mean <= joined.n_norm).sum(), f"{p.key}__den": joined.count(),
        f"{p.key}__rows": joined.count(),
    }).to_pyarrow().to_pylist()
    return rows


def compute(backend: Any, std: Standard, registry: Registry, policy: RangeRule, *, year: int,
            grain: str = "month", measures: Iterable[BoundMeasure] | None = None,
            kpis: Iterable[str] | None = None, tables: Iterable[str] | None = None, as_of: datetime | None = None,
            lineage: list[LineageRow] | None = None) -> list[KpiValue]:
    """Every measure of the catalog for ``year`` (and the previous year for baselines) from the raw tables.

    ``kpis`` / ``tables`` restrict the measures; ``as_of`` (a UTC instant) is when the data is judged (default: the
    end of the year); when ``lineage`` is a list, the batches behind each value are appended to it.
    """
    wanted = set(kpis) if kpis is not None else None
    chosen = [b for b in (measures if measures is not None else measures_of(std))
              if (wanted is None or b.kpi in wanted) and (tables is None or set(b.tables) <= set(tables))]
    cutoff = as_of if as_of is not None else year_end_utc(year)
    params = ibis.memtable(settlement_params(std, registry, policy, chosen))
    needs_baseline = any(b.baseline for b in chosen)
    start = date(year - 1 if needs_baseline else year, 1, 1)
    end = date(year, 12, 31)
    by_table: dict[tuple[str, str], list[Part]] = defaultdict(list)
    for b in chosen:
        for part in b.parts:
            by_table[(part.table, part.time)].append(part)
    merged: dict[tuple[str, date], dict[str, Any]] = defaultdict(dict)
    reporting: dict[str, set[str]] = defaultdict(set)  # table → settlements with rows in the year
    found: dict[tuple[str, str, date], list[tuple[int, int]]] = defaultdict(list)  # (table, settlement, period)
    for (table, time), group in by_table.items():
        rows, batches = _run_table(backend, params, table, time, group, start, end, grain, cutoff,
                                   lineage is not None)
        for row in rows:
            period = _as_date(row.pop("_period"))
            if start <= period <= end:
                settlement = row.pop("settlement")
                merged[(settlement, period)].update(row)
                if period.year == year:
                    reporting[table].add(settlement)
        for row in batches:
            period = _as_date(row["_period"])
            if start <= period <= end:
                found[(table, row["settlement"], period)].append((int(row["batch_id"]), int(row["_rows"])))
    out: list[KpiValue] = []
    for (settlement, period), cells in sorted(merged.items()):
        if period.year != year:
            continue
        previous = merged.get((settlement, _year_before(period)), {}) if needs_baseline else {}
        for b in chosen:
            value = _value(b, cells, settlement in reporting[b.parts[0].table])
            if value is None:
                continue
            number, num, den, used = value
            base: tuple[float | None, float | None, float | None, int] | None = None
            if b.baseline:
                base = _value(b, previous, True) if previous else None
            stop = month_end(period) if grain == "month" else period
            out.append(KpiValue(settlement, b.kpi, period, stop, number, num, den, base[0] if base else None,
                                b.kind, b.parts[-1].table if b.kind == "ratio" else b.parts[0].table, used,
                                base[1] if base else None, base[2] if base else None))
            if lineage is not None:
                roles = [("value", period)] + ([("baseline", _year_before(period))] if base else [])
                for role, when in roles:
                    for table in b.tables:
                        for batch_id, used in found.get((table, settlement, when), []):
                            lineage.append(LineageRow(settlement, b.kpi, period, stop, table, batch_id, used, role))
    return out


def _as_date(period: Any) -> date:
    return period.date() if isinstance(period, datetime) else period


def _year_before(period: date) -> date:
    """The same civil period a year earlier; 29 February has none, so its baseline is 28 February."""
    try:
        return period.replace(year=period.year - 1)
    except ValueError:
        return period.replace(year=period.year - 1, day=28)


def _value(b: BoundMeasure, cells: dict[str, Any],
           reports: bool) -> tuple[float | None, float | None, float | None, int] | None:
    """(value, numerator, denominator, rows used) of ``b`` from one settlement × period's aggregates."""
    if b.kind == "ratio":
        numerator, denominator = b.parts
        num = cells.get(f"{numerator.key}__val")
        den = cells.get(f"{denominator.key}__val")
        if num is None and den and reports:
            num = 0.0  # the settlement reports the numerator's table this year but had nothing in scope this month
        if num is None or not den:
            return None
        rows = sum(int(cells.get(f"{part.key}__rows", cells.get(f"{part.key}__val") if part.kind == "count" else 0)
                       or 0) for part in b.parts)
        return pool_scale(b.unit) * float(num) / float(den), float(num), float(den), rows
    key = b.parts[0].key
    rows = int(cells.get(f"{key}__rows", cells.get(f"{key}__den", cells.get(f"{key}__val"))) or 0)
    if f"{key}__val" in cells:
        val = cells[f"{key}__val"]
        if val is None and b.kind in ("sum", "count"):
            val = 0.0  # the table has this settlement's month, but nothing in scope: zero, not missing
        if val is None:
            return None
        return float(val), None, None, rows
    num, den = cells.get(f"{key}__num"), cells.get(f"{key}__den")
    if num is None or den is None or float(den) == 0:
        return None
    scale = 1.0 if b.kind == "mean" else pool_scale(b.unit)
    return scale * float(num) / float(den), float(num), float(den), rows
