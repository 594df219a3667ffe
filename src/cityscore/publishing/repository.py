"""The published read model: what the API and the dashboard show, read from the warehouse and cached.

The published rating of a year is its latest scoring run under the official policy (or, when there is none, its
latest run). Everything here is read-only and holds no connection between reads: each read opens the warehouse
read-only and closes it, so ``cityscore score`` or ``cityscore ingest`` can write to the file while the server
runs (a read that meets a write in progress waits up to two seconds, then fails with
:class:`~cityscore.store.WarehouseBusyError`, which the API answers with 503 and ``Retry-After``).

Nothing here scores: the annual results, the monthly trend of each run and the daily monitor are read as
``cityscore score`` (or ``demo``, or ``compute --grain day`` for the monitor) stored them (:mod:`cityscore.derived`,
decisions.md D-66). The one exception is a monitor for an ``as_of`` or ``overall_cap`` that was not stored, or
one stored before the daily values were computed again: it is computed from the stored daily values by the same pure
function (:func:`cityscore.scoring.daily.settlement_monitor`) and says ``"source": "computed"``.

Results are cached until the warehouse file changes (checked at most once a second of the injectable ``clock``), so
a page or an API call costs a dictionary lookup once its data has been read; a new run is picked up on the next
request. Each value is built once however many requests ask for it at the same time (the others wait for it), and a
value read while the warehouse changed is not kept. :meth:`Repository.warm` reads what the latest year's pages show
before the first request. The staleness of a run (:meth:`Repository.staleness`: data loaded, replaced or deleted, or
KPI values computed again, after it) is cached the same way, so a data change shows within a second. A non-finite
number read from the warehouse (NaN, ±inf) is published as no value (``None``; :mod:`.finite`).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .. import derived
from ..errors import NotFoundError
from ..scoring.monitor import MONITOR_OVERALL_CAP
from ..settlements import Registry, Settlement
from ..standard import Standard
from ..store import WarehouseError, connect
from ..store.changes import ConnectionReader, Staleness, scores_staleness
from .finite import finite, loads

READ_WAIT_SECONDS = 2.0
CACHE_ENTRIES = 4000
STAMP_SECONDS = 1.0  # the warehouse file is looked at at most this often
STORED_TABLES = ("score_trend", "monitor_runs", "monitor_scores")
__all__ = ["MONITOR_OVERALL_CAP", "Repository", "RunInfo"]


@dataclass(frozen=True)
class RunInfo:
    run_id: int
    year: int
    standard_version: str
    policy: dict[str, Any]
    created_at: str
    simulated: bool = False  # a result of the run was computed from data the simulator wrote (decisions.md D-68)

    def to_json(self) -> dict[str, object]:
        return {"run_id": self.run_id, "year": self.year, "standard_version": self.standard_version,
                "policy": self.policy, "created_at": self.created_at, "simulated": self.simulated}


def _simulated_runs(reader: ConnectionReader) -> frozenset[int]:
    """The scoring runs marked simulated (none in a warehouse older than migration 6)."""
    if not reader.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'score_runs' AND "
                         "column_name = 'simulated'"):
        return frozenset()
    return frozenset(int(r[0]) for r in reader.rows("SELECT run_id FROM score_runs WHERE simulated"))


@dataclass(frozen=True)
class _Snapshot:
    stamp: tuple[int, ...]
    runs: dict[int, RunInfo]  # year → published run
    tables: frozenset[str]  # which of STORED_TABLES the warehouse has (none before migration 5)
    monitor_run: int | None  # the stored monitor computation, when it is of the daily values stored now
    monitor_cap: float | None  # the overall cap it was stored with


class Repository:
    """Read access to the published ratings, KPI values and monitor of one warehouse.

    ``clock`` (default :func:`time.monotonic`) says when to look at the warehouse file again: tests pass one they
    move forward instead of sleeping.
    """

    def __init__(self, db: Path, std: Standard, registry: Registry, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db = Path(db)
        if not self.db.exists():
            raise WarehouseError(f"No warehouse at {self.db}: run `cityscore demo`, or ingest data and score it.")
        self.std = std
        self.registry = registry
        self.clock = clock
        self._lock = threading.Lock()
        self._building: dict[tuple[Any, ...], threading.Lock] = {}
        self._state_lock = threading.Lock()
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
        """The file's stamp, looked at most once a second (of ``clock``)."""
        now = self.clock()
        if self._last_stamp is None or now - self._checked >= STAMP_SECONDS:
            self._last_stamp = self._stamp()
            self._checked = now
        return self._last_stamp

    def _state(self) -> _Snapshot:
        """The published runs and the stored monitor, re-read when the warehouse file has changed (by one request;
        the others that need it meanwhile wait for it)."""
        stamp = self._current_stamp()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.stamp == stamp:
            return snapshot
        with self._state_lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.stamp == stamp:
                return snapshot
            with closing(connect(self.db, read_only=True, wait=READ_WAIT_SECONDS)) as con:
                fresh = self._read_state(ConnectionReader(con), stamp)
            with self._lock:
                self._snapshot = fresh
                self._cache.clear()
            return fresh

    def _read_state(self, reader: ConnectionReader, stamp: tuple[int, ...]) -> _Snapshot:
        flagged = _simulated_runs(reader)
        runs = {year: RunInfo(int(r[0]), year, str(r[2]), loads(r[3]), str(r[4]), simulated=int(r[0]) in flagged)
                for year, r in derived.published_runs(reader).items()}
        tables = frozenset(str(r[0]) for r in reader.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_name IN (?, ?, ?)", list(STORED_TABLES)))
        monitor_run, cap = None, None
        if "monitor_runs" in tables:
            found = reader.rows("SELECT monitor_run_id, daily_computed_at, overall_cap, standard_version "
                                "FROM monitor_runs ORDER BY monitor_run_id DESC LIMIT 1")
            # served only while it is of the daily values stored now and of this catalog (decisions.md D-66)
            if found and found[0][3] == self.std.id and found[0][1] == derived.daily_computed_at(reader):
                monitor_run, cap = int(found[0][0]), found[0][2]
        return _Snapshot(stamp, runs, tables, monitor_run, cap)

    def _cached(self, key: tuple[Any, ...], build: Any) -> Any:
        """The value of ``key``, built once per warehouse state: concurrent requests for it wait for one build."""
        state = self._state()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            try:
                value = build()
                with self._lock:
                    if self._snapshot is state:  # else the warehouse changed while building: what was read may be older
                        if len(self._cache) > CACHE_ENTRIES:
                            self._cache.clear()
                        self._cache[key] = value
            finally:
                with self._lock:
                    if self._building.get(key) is building:
                        del self._building[key]
        return value

    def rendered(self, key: tuple[Any, ...], render: Callable[[], bytes]) -> bytes:
        """An answer serialised once per warehouse state under ``key`` (which names everything it depends on besides
        the warehouse): the API keeps each settlement's score document this way, and renders the latest year's while
        it starts (decisions.md D-67)."""
        body: bytes = self._cached(("rendered", *key), render)
        return body

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
                return scores_staleness(ConnectionReader(con), run.year, run.run_id)

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

    def lineage(self, kato: str, kpi_id: str, year: int | None = None) -> dict[str, Any]:
        """Where one KPI's published number comes from (:func:`cityscore.publishing.lineage.lineage`)."""
        from .lineage import lineage

        run = self.run(year)
        data: dict[str, Any] = self._cached(("lineage", run.run_id, kato, kpi_id), lambda: lineage(self, kato, kpi_id,
                                                                                                    run.year))
        return data

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
    def monitor(self, kato: str, as_of: date | None = None,
                overall_cap: float | None = MONITOR_OVERALL_CAP) -> dict[str, Any]:
        """Day / week / month / quarter scores of the settlement's KPIs (1.0 = on target); in the overall of a
        window each KPI counts at most ``overall_cap`` (None: not capped). The stored monitor (``"source":
        "stored"``) when it answers the question: the default ``as_of`` (the settlement's last day with daily
        values) or that very day, the stored cap, the daily values it was computed from still the stored ones and
        its KPIs chosen by the policy of the year's published run. Otherwise computed from the stored daily values
        by the same function (``"source": "computed"``; decisions.md D-66)."""
        settlement = self.settlement(kato)
        state = self._state()
        if state.monitor_run is not None and overall_cap == state.monitor_cap:
            stored = self._stored_monitors(state.monitor_run).get(settlement.kato)
            if stored is not None:
                day, policy_run, data = stored
                published = state.runs.get(day.year)
                if (as_of is None or as_of == day) and policy_run == (published.run_id if published else None):
                    return data

        def build() -> dict[str, Any]:
            with closing(connect(self.db, read_only=True, wait=READ_WAIT_SECONDS)) as con:
                found = derived.compute_monitors(ConnectionReader(con), self.std, self.registry,
                                                 settlement=settlement.kato, as_of=as_of, overall_cap=overall_cap)
            if not found:
                raise NotFoundError(f"No daily KPI values for {kato}: run "
                                    "`cityscore compute --year YEAR --grain day`.")
            data: dict[str, Any] = finite(found[0][1].to_json())
            return {**data, "source": "computed"}

        computed: dict[str, Any] = self._cached(("monitor", settlement.kato, as_of, overall_cap), build)
        return computed

    def _stored_monitors(self, monitor_run: int) -> dict[str, tuple[date, int | None, dict[str, Any]]]:
        """Every settlement's stored monitor of one computation: its as-of day, the run whose policy chose its KPIs,
        and its JSON — read once, with one query."""
        def build() -> dict[str, tuple[date, int | None, dict[str, Any]]]:
            rows = self._rows("SELECT settlement, as_of, policy_run_id, result_json FROM monitor_scores "
                              "WHERE monitor_run_id = ?", [monitor_run])
            return {str(kato): (day, None if run is None else int(run), {**loads(text), "source": "stored"})
                    for kato, day, run, text in rows}

        stored: dict[str, tuple[date, int | None, dict[str, Any]]] = self._cached(("monitors", monitor_run), build)
        return stored

    def trend(self, kato: str, year: int | None = None, series: str = "run") -> list[dict[str, Any]]:
        """The settlement's CityScore year to date after each month, as ``cityscore score`` stored it with the run
        (:mod:`cityscore.scoring.trend`): ``series="run"`` is the official score under the run's own policy, whose
        last point is the headline; ``"monitoring"`` leaves KPIs without data out (a labelled second line). Empty
        for a run scored before trends were stored."""
        settlement = self.settlement(kato)
        run = self.run(year)
        if "score_trend" not in self._state().tables:
            return []

        def build() -> dict[str, list[dict[str, object]]]:
            with closing(connect(self.db, read_only=True, wait=READ_WAIT_SECONDS)) as con:
                return derived.trend_rows(ConnectionReader(con), run.run_id, series)

        points: dict[str, list[dict[str, Any]]] = self._cached(("trend", run.run_id, series), build)
        return points.get(settlement.kato, [])

    def warm(self, year: int | None = None) -> None:
        """Read what the pages and the API show of the latest year (or ``year``) — results, staleness, trends,
        stored monitors — so that the first request for each settlement finds it read. Nothing when there are no
        scores yet."""
        runs = self._state().runs
        if not runs:
            return
        run = self.run(year)
        self.results(run.year)
        self.staleness(run.year)
        any_settlement = self.registry.settlements[0].kato
        for series in ("run", "monitoring"):
            self.trend(any_settlement, run.year, series)
        state = self._state()
        if state.monitor_run is not None:
            self._stored_monitors(state.monitor_run)
