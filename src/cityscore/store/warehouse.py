"""The warehouse: one DuckDB file, created and migrated on first use.

Where: the ``path`` given, else ``$CITYSCORE_DB``, else ``./cityscore.duckdb``. Every session runs in UTC; civil
dates are computed explicitly (``cityscore.measures.civil``). Writes that must not be half-done run inside
:meth:`Warehouse.transaction`.

DuckDB lets one process write a file, or several processes read it. A command that finds the file locked by another
process (``cityscore serve`` reading it, another command writing it) waits up to ``CITYSCORE_LOCK_WAIT`` seconds
(default 30) for the lock before giving up with :class:`WarehouseBusyError`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import CityScoreError
from .migrations import LATEST, MIGRATIONS

DEFAULT_FILE = "cityscore.duckdb"
DEFAULT_LOCK_WAIT = 30.0
MIGRATIONS_TABLE = ("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")


class WarehouseError(RuntimeError, CityScoreError):
    """The warehouse cannot be opened or is newer than this program."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the warehouse's lock (a write in progress); retrying later will work."""


def lock_wait() -> float:
    try:
        return max(0.0, float(os.environ.get("CITYSCORE_LOCK_WAIT", DEFAULT_LOCK_WAIT)))
    except ValueError:
        return DEFAULT_LOCK_WAIT


def connect(path: Path, *, read_only: bool, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open ``path``, waiting up to ``wait`` seconds (default :func:`lock_wait`) while another process holds its
    lock."""
    deadline = time.monotonic() + (lock_wait() if wait is None else wait)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.ConnectionException as exc:
            # this process already holds the file with the other configuration (the server writes while it
            # reads, D-85): a read joins the open read-write instance (its transactions see committed data); a
            # write waits for the short reads to close
            if "different configuration" not in str(exc):
                raise WarehouseError(f"Cannot open the warehouse {path.name}: {exc}") from None
            if read_only:
                with suppress(duckdb.ConnectionException):
                    return duckdb.connect(str(path), read_only=False)
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(f"The warehouse {path.name} is busy; try again.") from None
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseError(f"Cannot open the warehouse {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"The warehouse {path} is locked by another process ({str(exc).split(': ', 1)[-1]}); "
                    "wait for it to finish, or stop it, and try again.") from None
        except duckdb.Error as exc:
            raise WarehouseError(f"Cannot open the warehouse {path}: {exc}") from None
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def default_path() -> Path:
    return Path(os.environ.get("CITYSCORE_DB") or DEFAULT_FILE)


def utcnow() -> datetime:
    """Now, as a naive UTC timestamp (how the warehouse stores instants)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Warehouse:
    """A connection to the warehouse file, migrated to the latest schema."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.read_only = read_only
        self.in_transaction = False  # inside :meth:`transaction` (which then joins the open one)
        if read_only and not self.path.exists():
            raise WarehouseError(f"No warehouse at {self.path}: ingest data first (cityscore ingest / cityscore demo).")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.path, read_only=read_only)
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self.migrate()
        elif self.version() < LATEST or self.pending():
            raise WarehouseError(f"The warehouse {self.path} is at schema {self.version()}; open it once for writing "
                                 f"to migrate it to {LATEST}.")

    # --- schema ---------------------------------------------------------------------------------------------
    def version(self) -> int:
        exists = self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'")
        if not exists:
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations") or 0)

    def pending(self) -> list[int]:
        """The versions of the migrations not recorded in ``schema_migrations``, gaps included (a warehouse migrated
        by a build that had migration 5 but not yet 4 gets 4 too)."""
        if not self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"):
            return [m.version for m in MIGRATIONS]
        done = {int(r[0]) for r in self.rows("SELECT version FROM schema_migrations")}
        return [m.version for m in MIGRATIONS if m.version not in done]

    def migrate(self) -> list[int]:
        """Apply the migrations not applied yet, in order (a missing one below the latest applied too); return their
        versions."""
        self.con.execute(MIGRATIONS_TABLE)
        current = self.version()
        if current > LATEST:
            raise WarehouseError(f"The warehouse {self.path} has schema {current}, newer than this program's {LATEST}; "
                                 "upgrade CityScore-KZ.")
        todo = set(self.pending())
        applied = []
        for migration in MIGRATIONS:
            if migration.version not in todo:
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
        """BEGIN … COMMIT, or ROLLBACK on any error: nothing of a failed write is kept. Inside an open transaction it
        joins that one, which commits or rolls back everything (so a step such as ``audit.record`` can be called both
        on its own and as part of a larger write)."""
        if self.in_transaction:
            yield self.con
            return
        self.con.execute("BEGIN TRANSACTION")
        self.in_transaction = True
        try:
            yield self.con
        except BaseException:
            self.in_transaction = False
            self.con.execute("ROLLBACK")
            raise
        self.in_transaction = False
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
