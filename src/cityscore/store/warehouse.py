"""The warehouse: one DuckDB file, created and migrated on first use.

Where: the ``path`` given, else ``$CITYSCORE_DB``, else ``./cityscore.duckdb``. Every session runs in UTC; civil
dates are computed explicitly (``cityscore.measures.civil``). Writes that must not be half-done run inside
:meth:`Warehouse.transaction`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import CityScoreError
from .migrations import LATEST, MIGRATIONS

DEFAULT_FILE = "cityscore.duckdb"


class WarehouseError(RuntimeError, CityScoreError):
    """The warehouse cannot be opened or is newer than this program."""


def default_path() -> Path:
    return Path(os.environ.get("CITYSCORE_DB") or DEFAULT_FILE)


def utcnow() -> datetime:
    """Now, as a naive UTC timestamp (how the warehouse stores instants)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Warehouse:
    """A connection to the warehouse file, migrated to the latest schema."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_path()
        if read_only and not self.path.exists():
            raise WarehouseError(f"No warehouse at {self.path}: ingest data first (cityscore ingest / cityscore demo).")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise WarehouseError(f"Cannot open the warehouse {self.path}: {exc}") from None
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self.migrate()
        elif self.version() < LATEST:
            raise WarehouseError(f"The warehouse {self.path} is at schema {self.version()}; open it once for writing "
                                 f"to migrate it to {LATEST}.")

    # --- schema ---------------------------------------------------------------------------------------------
    def version(self) -> int:
        exists = self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'")
        if not exists:
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations") or 0)

    def migrate(self) -> list[int]:
        """Apply the migrations not applied yet; return their versions."""
        self.con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
        current = self.version()
        if current > LATEST:
            raise WarehouseError(f"The warehouse {self.path} has schema {current}, newer than this program's {LATEST}; "
                                 "upgrade CityScore-KZ.")
        applied = []
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            with self.transaction():
                for statement in migration.statements:
                    self.con.execute(statement)
                self.con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                                 [migration.version, migration.description, utcnow()])
            applied.append(migration.version)
        return applied

    # --- helpers --------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN … COMMIT, or ROLLBACK on any error: nothing of a failed write is kept."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table}") or 0)

    def ibis(self) -> Any:
        """An Ibis backend on this connection (for the KPI measures)."""
        import ibis

        return ibis.duckdb.from_connection(self.con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
