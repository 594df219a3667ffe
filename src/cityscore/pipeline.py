"""The steps that move data through the warehouse: compute KPI values, gather scoring input, store scores.

Each step is one transaction: a failed step leaves the warehouse as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pyarrow as pa

from .measures import MEASURES, KpiValue, compute
from .scoring import Evidence, Observation, ScoreRun, ScoringPolicy
from .scoring.views import result_json
from .settlements import Registry
from .standard import Standard
from .store.warehouse import Warehouse, utcnow


def compute_kpis(wh: Warehouse, std: Standard, registry: Registry, policy: ScoringPolicy, *, year: int,
                 grain: str = "month") -> list[KpiValue]:
    """Compute every measure for ``year`` from the raw tables and replace that year's computed values."""
    values = compute(wh.ibis(), std, registry, policy, year=year, grain=grain)
    kpis = sorted({m.kpi for m in MEASURES if not m.kpi.startswith("_")})
    now = utcnow()
    table = pa.table({
        "settlement": [v.settlement for v in values], "kpi": [v.kpi for v in values],
        "period_start": pa.array([v.period_start for v in values], pa.date32()),
        "period_end": pa.array([v.period_end for v in values], pa.date32()),
        "value": pa.array([v.value for v in values], pa.float64()),
        "numerator": pa.array([v.numerator for v in values], pa.float64()),
        "denominator": pa.array([v.denominator for v in values], pa.float64()),
        "baseline": pa.array([v.baseline for v in values], pa.float64()),
        "component": pa.array([None] * len(values), pa.string()),
        "measure": [v.measure for v in values], "source_table": [v.source_table for v in values],
        "rows_used": pa.array([v.rows_used for v in values], pa.int64()),
        "standard_version": [std.id] * len(values),
        "computed_at": pa.array([now] * len(values), pa.timestamp("us")),
    })
    placeholders = ", ".join("?" for _ in kpis)
    with wh.transaction():
        wh.con.execute(f"DELETE FROM kpi_values WHERE kpi IN ({placeholders}) AND year(period_start) = ? "
                       "AND (period_end - period_start) " + ("> 0" if grain == "month" else "= 0"), [*kpis, year])
        if values:
            wh.con.register("computed", table)
            wh.con.execute("INSERT INTO kpi_values SELECT * FROM computed")
            wh.con.unregister("computed")
    return values


# a stored value that is not a finite number never reaches scoring (ingestion rejects them; this is the second line)
FINITE = " AND ".join(f"isfinite(coalesce({c}, 0))" for c in ("value", "numerator", "denominator", "baseline"))


def scoring_input(wh: Warehouse, years: Iterable[int]) -> list[Observation]:
    """Observations for the given years: KPI values computed from raw records, and the ingested value rows for the
    KPIs (of a settlement and year) that raw records did not give. Rows holding a non-finite number are left out."""
    wanted = sorted(set(years))
    marks = ", ".join("?" for _ in wanted)
    computed = wh.rows(
        f"SELECT settlement, kpi, period_start, period_end, value, numerator, denominator, baseline, component, "
        f"measure FROM kpi_values WHERE year(period_start) IN ({marks}) AND period_end > period_start "
        f"AND {FINITE}", wanted)
    covered = {(r[0], r[1], r[2].year) for r in computed}
    out = [Observation(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], f"kpi_values:{r[9]}") for r in computed]
    for r in wh.rows(f"SELECT settlement, kpi, period_start, period_end, value, numerator, denominator, baseline, "
                     f"component, batch_id, row_number FROM observations WHERE year(period_start) IN ({marks}) "
                     f"AND {FINITE}",
                     wanted):
        if (r[0], r[1], r[2].year) not in covered:
            out.append(Observation(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], f"batch {r[9]}:{r[10]}"))
    return out


def evidence_input(wh: Warehouse) -> list[Evidence]:
    """All additional-initiative evidence (each verdict checks the completion year itself)."""
    rows = wh.rows("SELECT settlement, name, sphere, in_roadmap, report_signed, indicator_count, started, completed, "
                   "batch_id, row_number FROM additional_initiatives")
    return [Evidence(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], f"batch {r[8]}:{r[9]}") for r in rows]


def store_scores(wh: Warehouse, std: Standard, registry: Registry, run: ScoreRun, source: str) -> int:
    """Record a scoring run with its standard version and policy; return its id."""
    with wh.transaction():
        run_id = int(wh.scalar("SELECT nextval('score_run_ids')"))
        wh.con.execute("INSERT INTO score_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [run_id, run.year, run.standard_id, run.policy.name, run.policy.model_dump_json(), source,
                        utcnow()])
        wh.con.executemany("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (run_id, r.year, r.settlement, r.category, r.cityscore, r.exact, r.uncapped, r.base, r.bonus, r.band,
             r.rank, r.previous_rank, r.coverage, json.dumps(result_json(std, registry, r), ensure_ascii=False,
                                                             default=str))
            for r in run.results])
        wh.con.executemany("INSERT INTO score_kpis VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (run_id, r.settlement, o.kpi, o.section, o.counts, o.reason, o.actual, o.target, o.score, o.weight,
             o.points_at_stake) for r in run.results for o in r.kpis])
    return run_id
