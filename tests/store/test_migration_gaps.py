"""Migrations are applied by what is missing, not by the highest version: a warehouse migrated by a build that had
a later migration but not yet an earlier one still gets the earlier one."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityscore.store import Warehouse, WarehouseError
from cityscore.store.migrations import LATEST, MIGRATIONS


def test_a_missing_migration_below_the_latest_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        assert wh.pending() == []
        first = MIGRATIONS[0].version  # its statements create what does not exist: safe to apply twice
        wh.con.execute("DELETE FROM schema_migrations WHERE version = ?", [first])
        assert wh.version() == LATEST and wh.pending() == [first]
    with pytest.raises(WarehouseError, match="open it once for writing"):
        Warehouse(path, read_only=True)
    with Warehouse(path) as wh:
        assert wh.pending() == []
        assert wh.scalar("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)


def test_the_stored_trend_and_monitor_tables_exist(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        tables = {r[0] for r in wh.rows("SELECT table_name FROM information_schema.tables")}
        assert {"score_trend", "monitor_runs", "monitor_scores"} <= tables
        assert 5 in {m.version for m in MIGRATIONS}
