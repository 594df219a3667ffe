"""The warehouse: created on first use, migrated once, raw tables matching the record schemas."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityscore.records import SCHEMAS
from cityscore.store import LATEST, Warehouse, WarehouseError
from cityscore.store.migrations import SQL_TYPES


def test_created_and_migrated_once(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "wh.duckdb"
    with Warehouse(path) as wh:
        assert wh.version() == LATEST
        assert wh.migrate() == []  # nothing left to apply
    with Warehouse(path) as wh:
        assert wh.rows("SELECT version FROM schema_migrations ORDER BY version") == [(v,) for v in
                                                                                     range(1, LATEST + 1)]


def test_default_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYSCORE_DB", str(tmp_path / "env.duckdb"))
    with Warehouse() as wh:
        assert wh.path == tmp_path / "env.duckdb"
    assert (tmp_path / "env.duckdb").exists()


def test_read_only_needs_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="No warehouse"):
        Warehouse(tmp_path / "missing.duckdb", read_only=True)


def test_raw_tables_match_the_record_schemas(tmp_path: Path) -> None:
    """A change to a raw record schema needs a migration: this fails until the warehouse follows."""
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        for schema in SCHEMAS.values():
            columns = wh.rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                              "ORDER BY ordinal_position", [f"raw_{schema.table}"])
            expected = [("batch_id", "BIGINT"), ("row_number", "BIGINT")] + [
                (c.name, SQL_TYPES[c.type]) for c in schema.columns]
            assert columns == expected, schema.table


def test_transactions_roll_back(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        def interrupted() -> None:
            with wh.transaction():
                wh.con.execute("INSERT INTO raw_incidents VALUES (1, 2, '710000000', DATE '2026-01-01', 'fire', 1, "
                               "true)")
                raise RuntimeError("interrupted")

        with pytest.raises(RuntimeError):
            interrupted()
        assert wh.count("raw_incidents") == 0
