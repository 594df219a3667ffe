"""What changed in the warehouse since KPI values and scores were computed: the staleness of stored results.

Every load, replacement and deletion of a batch is a row of ``data_changes`` (table, batch, settlement, the span of
time it touches, when). KPI values of a year are stale when raw records of that year changed after they were
computed; the scores of a year are stale when KPI values were computed again, or any data of that year (raw
records, observations, additional initiatives) changed, after the latest scoring run. ``cityscore compute`` and
``cityscore score`` say so until they are run again; the API and the dashboard show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

VALUE_TABLES = ("observations", "additional_initiatives")


class Reader(Protocol):
    """What these functions read through: a :class:`~cityscore.store.Warehouse`, or any object with its ``scalar``
    and ``rows`` (the publishing repository's short-lived read-only connection)."""

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any: ...

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]: ...


class ConnectionReader:
    """A :class:`Reader` over a bare DuckDB connection (the read model's and the API's short-lived ones)."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.con.execute(sql, params or []).fetchall()
        return rows


@dataclass(frozen=True)
class Staleness:
    since: datetime | None  # when the stored results were computed (None: never)
    changes: tuple[tuple[str, str, int, int], ...]  # (kind, table, batch, settlements)
    recomputed: bool = False  # KPI values were computed after the scores

    @property
    def stale(self) -> bool:
        return bool(self.changes) or self.recomputed

    def describe(self) -> str:
        parts = [f"batch {batch} {kind} ({table})" for kind, table, batch, _ in self.changes[:5]]
        if len(self.changes) > 5:
            parts.append(f"{len(self.changes) - 5} more")
        if self.recomputed:
            parts.append("KPI values computed again")
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        return {"stale": self.stale, "since": self.since.isoformat(sep=" ") if self.since else None,
                "changes": [{"kind": k, "table": t, "batch_id": b, "settlements": n} for k, t, b, n in self.changes],
                "kpi_values_recomputed": self.recomputed}


def _changes(wh: Reader, year: int, after: datetime, raw_only: bool) -> tuple[tuple[str, str, int, int], ...]:
    if not wh.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'data_changes'"):
        return ()
    tables = "" if not raw_only else f"AND table_name NOT IN {VALUE_TABLES!r}"
    rows = wh.rows(f"SELECT kind, table_name, batch_id, count(DISTINCT settlement) FROM data_changes "
                   f"WHERE changed_at > ? {tables} AND (first_at IS NULL OR (year(first_at) <= ? AND "
                   "year(last_at) >= ?)) GROUP BY ALL ORDER BY min(change_id)", [after, year, year])
    return tuple((str(k), str(t), int(b), int(n)) for k, t, b, n in rows)


def kpi_values_staleness(wh: Reader, year: int) -> Staleness:
    since = wh.scalar("SELECT max(computed_at) FROM kpi_values WHERE year(period_start) = ?", [year])
    if since is None:
        return Staleness(None, ())
    return Staleness(since, _changes(wh, year, since, raw_only=True))


def scores_staleness(wh: Reader, year: int, run_id: int | None = None) -> Staleness:
    """Of run ``run_id`` (default: the latest run of the year). Only the KPI values scores are computed from (per
    month, not the monitor's daily values) count as computed again: ``cityscore compute --grain day`` after a
    scoring run leaves its scores fresh. One query on ``data_changes``."""
    if run_id is None:
        since = wh.scalar("SELECT max(created_at) FROM score_runs WHERE year = ?", [year])
    else:
        since = wh.scalar("SELECT created_at FROM score_runs WHERE run_id = ?", [run_id])
    if since is None:
        return Staleness(None, ())
    computed = wh.scalar("SELECT max(computed_at) FROM kpi_values WHERE year(period_start) = ? "
                         "AND period_end > period_start", [year])
    changes = _changes(wh, year, since, raw_only=False)
    if computed is not None and computed < since:
        # scores computed again from KPI values that were stale already are stale too: raw records that changed
        # after the KPI values were computed are still missing from them
        earlier = _changes(wh, year, computed, raw_only=True)
        changes = tuple(dict.fromkeys([*earlier, *changes]))
    return Staleness(since, changes, recomputed=computed is not None and computed > since)
