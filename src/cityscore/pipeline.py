"""The steps that move data through the warehouse: compute KPI values, gather scoring input, store scores.

Each step is one transaction: a failed step leaves the warehouse as it was.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime

import pyarrow as pa

from . import audit
from .errors import CityScoreError
from .measures import KpiValue, LineageRow, compute, measured_kpis
from .scoring import Evidence, Observation, ScoreRun, ScoringPolicy
from .scoring.views import result_json
from .settlements import Registry
from .standard import Standard
from .store.provenance import simulated_settlements
from .store.warehouse import Warehouse, utcnow


class StandardMismatchError(CityScoreError):
    """Stored KPI values were computed under another version of the standard than the one in force."""


def compute_kpis(wh: Warehouse, std: Standard, registry: Registry, policy: ScoringPolicy, *, year: int,
                 grain: str = "month", as_of: datetime | None = None) -> list[KpiValue]:
    """Compute every measure of the catalog for ``year`` from the raw tables and replace that year's computed
    values (of the grain). ``as_of`` (UTC) is when the data is judged, for the running year (default: the end of
    the year). Monthly values also record the batches they came from (``kpi_value_batches``)."""
    lineage: list[LineageRow] | None = [] if grain == "month" else None
    values = compute(wh.ibis(), std, registry, policy, year=year, grain=grain, as_of=as_of, lineage=lineage)
    kpis = sorted(measured_kpis(std))
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
        "baseline_numerator": pa.array([v.baseline_numerator for v in values], pa.float64()),
        "baseline_denominator": pa.array([v.baseline_denominator for v in values], pa.float64()),
    })
    if not kpis:
        return values
    placeholders = ", ".join("?" for _ in kpis)
    grain_sql = "(period_end - period_start) " + ("> 0" if grain == "month" else "= 0")
    with wh.transaction():
        wh.con.execute(f"DELETE FROM kpi_values WHERE kpi IN ({placeholders}) AND year(period_start) = ? "
                       f"AND {grain_sql}", [*kpis, year])
        if values:
            wh.con.register("computed", table)
            wh.con.execute(f"INSERT INTO kpi_values ({', '.join(table.column_names)}) "
                           f"SELECT {', '.join(table.column_names)} FROM computed")
            wh.con.unregister("computed")
        if lineage is not None:
            wh.con.execute(f"DELETE FROM kpi_value_batches WHERE kpi IN ({placeholders}) AND "
                           f"year(period_start) = ? AND {grain_sql}", [*kpis, year])
            if lineage:
                batches = pa.table({
                    "settlement": [r.settlement for r in lineage], "kpi": [r.kpi for r in lineage],
                    "period_start": pa.array([r.period_start for r in lineage], pa.date32()),
                    "period_end": pa.array([r.period_end for r in lineage], pa.date32()),
                    "source_table": [r.source_table for r in lineage],
                    "batch_id": pa.array([r.batch_id for r in lineage], pa.int64()),
                    "rows_used": pa.array([r.rows_used for r in lineage], pa.int64()),
                    "role": [r.role for r in lineage]})
                wh.con.register("lineage", batches)
                wh.con.execute(f"INSERT INTO kpi_value_batches ({', '.join(batches.column_names)}) "
                               f"SELECT {', '.join(batches.column_names)} FROM lineage")
                wh.con.unregister("lineage")
    return values


def check_standard_of_values(wh: Warehouse, std: Standard, year: int) -> None:
    """Refuse to score ``year`` under ``std`` when its stored KPI values (monthly, or daily for the monitor) were
    computed under another version of the standard: the run would be labelled with one definition and hold numbers
    of another."""
    rows = wh.rows("SELECT CASE WHEN period_end > period_start THEN 'month' ELSE 'day' END AS grain, "
                   "standard_version FROM kpi_values WHERE year(period_start) = ? AND standard_version <> ? "
                   "GROUP BY ALL ORDER BY ALL", [year, std.id])
    if not rows:
        return
    found = "; ".join(f"{ {'month': 'monthly', 'day': 'daily'}[str(grain)]} values under '{version}'"
                      for grain, version in rows)
    grains = sorted({str(grain) for grain, _ in rows})
    again = " and ".join(f"`cityscore compute --year {year} --standard '{std.id}'"
                         + (" --grain day" if g == "day" else "") + "`" for g in grains)
    raise StandardMismatchError(
        f"The KPI values of {year} in {wh.path} were computed under another standard ({found}), not '{std.id}', "
        f"the standard this run would be labelled with. Compute them again under it ({again}), or score with "
        f"--standard '{rows[0][1]}'.")


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


def store_scores(wh: Warehouse, std: Standard, registry: Registry, run: ScoreRun, source: str, *,
                 simulated: Collection[str] = (), actor: str | None = None) -> int:
    """Record a scoring run with its standard version and policy; return its id. A result is marked simulated when
    its settlement's data in the warehouse came from the simulator, or its settlement is in ``simulated`` (rows read
    from a simulated file outside the warehouse); the run is when any result is (store/provenance.py, D-68). The run
    is in the audit log (``run.score``) as done by ``actor`` (an account's login; None: ``cli:<os user>``)."""
    marked = simulated_settlements(wh, run.year) | frozenset(simulated)
    run_simulated = any(r.settlement in marked for r in run.results)
    with wh.transaction():
        run_id = int(wh.scalar("SELECT nextval('score_run_ids')"))
        wh.con.execute("INSERT INTO score_runs (run_id, year, standard_version, policy_name, policy_json, source, "
                       "created_at, simulated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [run_id, run.year, run.standard_id, run.policy.name, run.policy.model_dump_json(), source,
                        utcnow(), run_simulated])
        wh.con.executemany("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (run_id, r.year, r.settlement, r.category, r.cityscore, r.exact, r.uncapped, r.base, r.bonus, r.band,
             r.rank, r.previous_rank, r.coverage,
             json.dumps(result_json(std, registry, r, simulated=r.settlement in marked), ensure_ascii=False,
                        default=str))
            for r in run.results])
        wh.con.executemany("INSERT INTO score_kpis VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (run_id, r.settlement, o.kpi, o.section, o.counts, o.reason, o.actual, o.target, o.score, o.weight,
             o.points_at_stake) for r in run.results for o in r.kpis])
        audit.record(wh, who=actor or audit.cli_actor(), action="run.score", object=f"run {run_id}",
                     summary={"run_id": run_id, "year": run.year, "standard": run.standard_id,
                              "policy": run.policy.name, "simulated": run_simulated,
                              "settlements": len(run.results)})
    return run_id
