"""Where the warehouse's data came from: the batches the simulator wrote are marked ``simulated``, and a scoring run
knows which of its results were computed from them (decisions.md D-68).

A batch is marked when it is loaded by ``cityscore demo``, or by ``cityscore ingest`` from a file the simulator
wrote (:func:`cityscore.cli.provenance.simulated_file`). A result is simulated when a simulated batch still in the
warehouse holds a row of its settlement that can reach the run of ``year``: raw records dated in the year or the two
before it (the baselines of the year, and of the year before, whose rating gives the movement), value rows
(``observations``) of the year or the year before (what ``scoring_input`` reads), and any additional-initiative row
(the bonus reads them all). The run is simulated when any of its results is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ..records import SCHEMAS
from .changes import Reader

RAW_YEARS_BEFORE = 2  # raw records of the year and the two before can reach a run


def _has_column(wh: Reader, table: str, column: str) -> bool:
    return bool(wh.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND "
                          "column_name = ?", [table, column]))


def mark_simulated(wh: Any, batch_ids: Iterable[int]) -> int:
    """Mark ``batch_ids`` (of an open, writable :class:`~cityscore.store.Warehouse`) as written by the simulator;
    return how many were not marked yet."""
    ids = sorted({int(b) for b in batch_ids})
    if not ids:
        return 0
    marks = ", ".join("?" for _ in ids)
    todo = int(wh.scalar(f"SELECT count(*) FROM batches WHERE batch_id IN ({marks}) AND NOT simulated", ids) or 0)
    if todo:
        wh.con.execute(f"UPDATE batches SET simulated = true WHERE batch_id IN ({marks}) AND NOT simulated", ids)
    return todo


def simulated_batches(wh: Reader) -> dict[str, list[int]]:
    """Table → the simulated batches loaded into it (none in a warehouse older than migration 6)."""
    if not _has_column(wh, "batches", "simulated"):
        return {}
    out: dict[str, list[int]] = {}
    for table, batch in wh.rows("SELECT table_name, batch_id FROM batches WHERE simulated ORDER BY batch_id"):
        out.setdefault(str(table), []).append(int(batch))
    return out


def simulated_settlements(wh: Reader, year: int) -> frozenset[str]:
    """The settlements whose result for ``year`` is computed from simulated rows (see the module's rule). One query
    per table that holds simulated batches; none at all in a warehouse without them."""
    found: set[str] = set()
    # civil years of Kazakhstan (UTC+6 until March 2024, UTC+5 since) as UTC instants, on the generous side
    low = datetime(year - RAW_YEARS_BEFORE, 1, 1) - timedelta(hours=6)
    high = datetime(year + 1, 1, 1) - timedelta(hours=5)
    for table, ids in simulated_batches(wh).items():
        marks = ", ".join("?" for _ in ids)
        schema = SCHEMAS.get(table)
        params: list[Any] = list(ids)
        if schema is not None:
            columns = [c for c in (schema.time, getattr(schema, "time_fallback", None)) if c]
            when = "coalesce(" + ", ".join(f'"{c}"' for c in columns) + ")" if columns else "NULL"
            sql = (f"SELECT DISTINCT settlement FROM raw_{table} WHERE batch_id IN ({marks}) "
                   f"AND ({when} IS NULL OR ({when} >= ? AND {when} < ?))")
            params += [low, high]
        elif table == "observations":
            sql = (f"SELECT DISTINCT settlement FROM observations WHERE batch_id IN ({marks}) "
                   "AND year(period_start) BETWEEN ? AND ?")
            params += [year - 1, year]
        elif table == "additional_initiatives":
            sql = f"SELECT DISTINCT settlement FROM additional_initiatives WHERE batch_id IN ({marks})"
        else:
            continue
        found.update(str(r[0]) for r in wh.rows(sql, params))
    return frozenset(found)
