"""The published read model: what the API and the dashboard show, read from the warehouse and cached.

The published rating of a year is its latest scoring run under the official policy (or, when there is none, its
latest run). Everything here is read-only and holds no connection between reads: each read opens the warehouse
read-only and closes it, so ``cityscore score`` or ``cityscore ingest`` can write to the file while the server
runs (a read that meets a write in progress waits up to two seconds, then fails with
:class:`~cityscore.store.WarehouseBusyError`, which the API answers with 503 and ``Retry-After``).

Results are cached until the warehouse file changes (checked at most once a second), so a page or an API call
costs a dictionary lookup once its data has been read; a new run is picked up on the next request. A value read
while the warehouse changed is not kept. The staleness of a run (:meth:`Repository.staleness`: data loaded,
replaced or deleted, or KPI values computed again, after it) is cached the same way, so a data change shows within
a second. A non-finite number read from the warehouse (NaN, ±inf) is published as no value (``None``;
:mod:`.finite`).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from ..errors import NotFoundError
from ..scoring import MonitorRecord, ScoringPolicy, monitor, score_settlement
from ..scoring.annual import POOL_SCALE, Observation, annual_value
from ..scoring.monitor import WINDOWS, window_bounds
from ..scoring.normalise import resolve
from ..settlements import Registry, Settlement
from ..standard import Category, Standard
from ..store import WarehouseError, connect
from ..store.changes import Staleness, scores_staleness
from .finite import finite, loads

READ_WAIT_SECONDS = 2.0
CACHE_ENTRIES = 4000
DAYS_PER_MONTH = 365.25 / 12
MONITOR_OVERALL_CAP = 2.0  # decisions.md D-39


@cache
def _monthly_kpis() -> frozenset[str]:
    """KPIs whose value accumulates over a month (counts, sums, complaints per 1 000 residents per month): their
    daily values are put back on the monthly scale of the target in the monitor (decisions.md D-39)."""
    from ..measures.specs import MEASURES

    return frozenset(m.kpi for m in MEASURES if m.kind in ("count", "sum", "rate_per_1000"))


@dataclass(frozen=True)
class RunInfo:
    run_id: int
    year: int
    standard_version: str
    policy: dict[str, Any]
    created_at: str

    def to_json(self) -> dict[str, object]:
        return {"run_id": self.run_id, "year": self.year, "standard_version": self.standard_version,
                "policy": self.policy, "created_at": self.created_at}


class _Connection:
    """A read-only DuckDB connection with the ``scalar`` / ``rows`` that :mod:`cityscore.store.changes` reads
    through."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()


@dataclass(frozen=True)
class _Snapshot:
    stamp: tuple[int, ...]
    runs: dict[int, RunInfo]  # year → published run


class Repository:
    """Read access to the published ratings, KPI values and monitor of one warehouse."""

    def __init__(self, db: Path, std: Standard, registry: Registry) -> None:
        self.db = Path(db)
        if not self.db.exists():
            raise WarehouseError(f"No warehouse at {self.db}: run `cityscore demo`, or ingest data and score it.")
        self.std = std
        self.registry = registry
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._snapshot: _Snapshot | None = None
        self._last_stamp: tuple[int, ...] | None = None
        self._checked = 0.0

    # --- plumbing ---------------------------------------------------------------------------------------------
    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._read((sql, params or []))[0]

    def _read(self, *queries: tuple[str, list[Any]]) -> list[list[tuple[Any, ...]]]:
        """The rows of each query, all read through one short-lived read-only connection."""
        with closing(connect(self.db, read_only=True, wait=READ_WAIT_SECONDS)) as con:
            return [con.execute(sql, params).fetchall() for sql, params in queries]

    def _stamp(self) -> tuple[int, ...]:
        stamp: list[int] = []
        for path in (self.db, self.db.with_name(self.db.name + ".wal")):
            try:
                info = path.stat()
                stamp += [info.st_mtime_ns, info.st_size]
            except FileNotFoundError:
                stamp += [0, 0]
        return tuple(stamp)

    def _current_stamp(self) -> tuple[int, ...]:
        """The file's stamp, looked at most once a second."""
        now = time.monotonic()
        if self._last_stamp is None or now - self._checked >= 1.0:
            self._last_stamp = self._stamp()
            self._checked = now
        return self._last_stamp

    def _state(self) -> _Snapshot:
        """The published runs, re-read when the warehouse file has changed."""
        stamp = self._current_stamp()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.stamp == stamp:
            return snapshot
        official = ScoringPolicy().model_dump_json()
        runs: dict[int, RunInfo] = {}
        rows = self._rows("SELECT run_id, year, standard_version, policy_json, created_at FROM score_runs "
                          "ORDER BY year, (policy_json = ?), run_id", [official])
        for run_id, year, version, policy, created in rows:  # the last of each year wins
            runs[int(year)] = RunInfo(int(run_id), int(year), str(version), loads(policy), str(created))
        fresh = _Snapshot(stamp, runs)
        with self._lock:
            self._snapshot = fresh
            self._cache.clear()
        return fresh

    def _cached(self, key: tuple[Any, ...], build: Any) -> Any:
        state = self._state()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = build()
        with self._lock:
            if self._snapshot is state:  # else the warehouse changed while building: what was read may be older
                if len(self._cache) > CACHE_ENTRIES:
                    self._cache.clear()
                self._cache[key] = value
        return value

    def fingerprint(self) -> str:
        """Changes whenever the warehouse changes (for ETags); looked at most once a second, without reading it."""
        return "-".join(map(str, self._current_stamp()))

    def close(self) -> None:
        """Nothing to release: no connection is held between reads (kept for callers that close)."""

    # --- runs -------------------------------------------------------------------------------------------------
    def years(self) -> list[int]:
        return sorted(self._state().runs)

    def latest_year(self) -> int | None:
        years = self.years()
        return years[-1] if years else None

    def run(self, year: int | None = None) -> RunInfo:
        """The published run of ``year`` (default: the latest year)."""
        runs = self._state().runs
        year = year if year is not None else self.latest_year()
        if year is None:
            raise NotFoundError("No scores yet: run `cityscore score --year YEAR` (or `cityscore demo`).")
        if year not in runs:
            raise NotFoundError(f"No scores for {year}. Years with scores: "
                                f"{', '.join(map(str, sorted(runs))) or 'none'}.")
        return runs[year]

    def staleness(self, year: int | None = None) -> Staleness:
        """Whether the published run of ``year`` (default: the latest year) is stale: data of that year loaded,
        replaced or deleted, or its KPI values computed again, after the run (:mod:`cityscore.store.changes`; one
        query on ``data_changes``). Cached until the warehouse changes, like every read here."""
        run = self.run(year)

        def build() -> Staleness:
            with closing(connect(self.db, read_only=True, wait=READ_WAIT_SECONDS)) as con:
                return scores_staleness(_Connection(con), run.year, run.run_id)

        found: Staleness = self._cached(("staleness", run.run_id), build)
        return found

    # --- ratings ----------------------------------------------------------------------------------------------
    def results(self, year: int | None = None, category: str | None = None) -> list[dict[str, Any]]:
        """Every settlement's result of the published run (the shape of ``cityscore score --format json``)."""
        run = self.run(year)
        all_results: list[dict[str, Any]] = self._cached(("results", run.run_id), lambda: [
            loads(r[0]) for r in self._rows(
                "SELECT result_json FROM scores WHERE run_id = ? ORDER BY CASE category WHEN 'republican' THEN 0 "
                "WHEN 'oblast' THEN 1 ELSE 2 END, rank, settlement", [run.run_id])])
        return [r for r in all_results if category is None or r["category"] == category]

    def result(self, kato: str, year: int | None = None) -> dict[str, Any]:
        settlement = self.settlement(kato)
        found = next((r for r in self.results(year) if r["settlement"] == settlement.kato), None)
        if found is None:
            raise NotFoundError(f"{settlement.name_ru} ({settlement.kato}) has no score for "
                                f"{year or self.latest_year()}.")
        return found

    def settlement(self, kato: str) -> Settlement:
        found = self.registry.get(kato)
        if found is None:
            raise NotFoundError(f"No settlement with KATO code {kato}; see /api/v1/settlements.")
        return found

    def distribution(self, kpi_id: str, year: int | None = None) -> dict[str, Any]:
        """Every settlement's value, target and score of one KPI in the published run, with a summary per
        category."""
        kpi = self.std.kpi(kpi_id)
        if kpi is None:
            raise NotFoundError(f"No KPI '{kpi_id}'; see /api/v1/standard/kpis.")
        run = self.run(year)

        def build() -> dict[str, Any]:
            rows = self._rows("SELECT k.settlement, s.category, k.actual, k.target, k.score, k.counts, k.reason "
                              "FROM score_kpis k JOIN scores s ON s.run_id = k.run_id AND s.settlement = k.settlement "
                              "WHERE k.run_id = ? AND k.kpi = ? ORDER BY s.category, k.score DESC NULLS LAST, "
                              "k.settlement", [run.run_id, kpi_id])
            values = []
            for settlement, category, actual, target, score, counts, reason in rows:
                actual, target, score = finite(actual), finite(target), finite(score)
                record = self.registry.get(settlement)
                values.append({"settlement": settlement, "name_ru": record.name_ru if record else settlement,
                               "name_kk": record.name_kk if record else settlement,
                               "name_en": record.name_en if record else settlement, "category": category,
                               "actual": actual, "target": target, "score": score, "counts": counts,
                               "reason": reason})
            summary: dict[str, dict[str, Any]] = {}
            by_category: dict[str, list[float]] = defaultdict(list)
            for v in values:
                if v["counts"] and v["actual"] is not None:
                    by_category[v["category"]].append(float(v["actual"]))
            for category, numbers in by_category.items():
                summary[category] = {"count": len(numbers), "min": min(numbers), "max": max(numbers),
                                     "mean": statistics.fmean(numbers), "median": statistics.median(numbers)}
            return {"kpi": kpi_id, "year": run.year, "run_id": run.run_id, "unit": kpi.unit, "values": values,
                    "summary": summary}

        result: dict[str, Any] = self._cached(("distribution", run.run_id, kpi_id), build)
        return result

    # --- monitor and trend ------------------------------------------------------------------------------------
    def daily_records(self, kato: str) -> list[MonitorRecord]:
        """The settlement's daily KPI values (``cityscore compute --grain day``) as monitor records, targets from
        its category (≥ targets: ratio_to_target; ≤ targets: target_over_value). Values that accumulate over a
        month are scaled to a month (× 365.25 / 12), the period of their targets."""
        settlement = self.settlement(kato)
        monthly = _monthly_kpis()
        rows = self._rows("SELECT kpi, period_start, value, numerator, denominator FROM kpi_values "
                          "WHERE settlement = ? AND period_end = period_start ORDER BY period_start", [settlement.kato])
        records = []
        for kpi_id, day, value, numerator, denominator in rows:
            value, numerator, denominator = finite(value), finite(numerator), finite(denominator)
            kpi = self.std.kpi(kpi_id)
            target = kpi.targets.target(settlement.category) if kpi else None
            if kpi is None or target is None or target.kind != "threshold" or target.value is None:
                continue
            goal = resolve(target.value, target.comparator, "lenient")
            kind = "ratio_to_target" if target.comparator == "≥" else "target_over_value"
            per = DAYS_PER_MONTH if kpi_id in monthly else 1.0
            pooled = numerator is not None and denominator is not None
            records.append(MonitorRecord(metric=kpi_id, kind=kind, settlement=settlement.kato, date=day,
                                         numerator=numerator if pooled else None,
                                         denominator=denominator if pooled else None,
                                         value=None if pooled or value is None else value * per, target=goal,
                                         scale=POOL_SCALE.get(kpi.unit, 1.0) * per))
        return records

    def monitor(self, kato: str, as_of: date | None = None,
                overall_cap: float | None = MONITOR_OVERALL_CAP) -> dict[str, Any]:
        """Day / week / month / quarter scores of the settlement's KPIs (1.0 = on target); in the overall of a
        window each KPI counts at most ``overall_cap`` (None: not capped)."""
        def build() -> dict[str, Any]:
            records = self.daily_records(kato)
            if not records:
                raise NotFoundError(f"No daily KPI values for {kato}: run "
                                    "`cityscore compute --year YEAR --grain day`.")
            days = [r.date for r in records if r.date is not None]
            result = monitor(records, as_of=as_of, overall_cap=overall_cap)[0]
            windows = {w: {"start": window_bounds(result.as_of, w)[0].isoformat(), "end": result.as_of.isoformat(),
                           "days": n} for w, n in WINDOWS.items()}
            return {"settlement": kato, "as_of": result.as_of.isoformat(), "first_day": min(days).isoformat(),
                    "last_day": max(days).isoformat(), "windows": windows, "metrics": finite(result.metrics),
                    "overall": finite(result.overall), "overall_cap": overall_cap}

        data: dict[str, Any] = self._cached(("monitor", kato, as_of, overall_cap), build)
        return data

    def trend(self, kato: str, year: int | None = None) -> list[dict[str, Any]]:
        """CityScore year to date after each month (monitoring mode: KPIs without data yet are left out), from the
        monthly KPI values of the warehouse."""
        settlement = self.settlement(kato)
        run = self.run(year)

        def build() -> list[dict[str, Any]]:
            columns = "kpi, period_start, period_end, value, numerator, denominator, baseline, component"
            computed, sent = self._read(
                (f"SELECT {columns} FROM kpi_values WHERE settlement = ? AND year(period_start) = ? "
                 "AND period_end > period_start", [settlement.kato, run.year]),
                (f"SELECT {columns} FROM observations WHERE settlement = ? AND year(period_start) = ?",
                 [settlement.kato, run.year]))
            from_raw = {r[0] for r in computed}  # computed values win over sent ones (decisions.md D-35)
            observations = [Observation(settlement.kato, r[0], r[1], r[2], finite(r[3]), finite(r[4]), finite(r[5]),
                                        finite(r[6]), r[7])
                            for r in [*computed, *(r for r in sent if r[0] not in from_raw)]]
            policy = ScoringPolicy.monitoring()
            points = []
            for month in range(1, 13):
                cut = [o for o in observations if o.period_end.month <= month]
                if not any(o.period_end.month == month for o in observations):
                    continue
                annual = {}
                for kpi_id in {o.kpi for o in cut}:
                    kpi = self.std.kpi(kpi_id)
                    value = annual_value(kpi, run.year, [o for o in cut if o.kpi == kpi_id]) if kpi else None
                    if value is not None:
                        annual[kpi_id] = value
                category: Category = settlement.category
                result = score_settlement(self.std, policy, settlement=settlement.kato, category=category,
                                          year=run.year, annual=annual)
                points.append(finite({"month": f"{run.year}-{month:02d}", "cityscore": result.cityscore,
                                      "coverage": result.coverage}))
            return points

        points: list[dict[str, Any]] = self._cached(("trend", run.run_id, kato), build)
        return points
