"""The DuckDB warehouse's part of backup and restore (:mod:`.backup`).

Snapshot: the file opened read-only — so no other process can write it meanwhile (DuckDB: one writer, or readers)
— and every table of the ``main`` schema copied to Parquet inside one transaction, with the last value of every
sequence. A view or a table of another schema is refused rather than left out silently.

Restore: a new file is built beside the target — the migrations the backup's warehouse had applied (so the
tables, keys and sequences are this program's own), then every table loaded by column name from its verified
Parquet file and its row count checked, then every sequence advanced to its last value, all in one transaction —
and migrated to this program's schema when the backup is older. Only then does it replace the target by a rename
(its write-ahead log removed first, so nothing of the old file is replayed into the new). On any failure the new
file is deleted and the target is untouched.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path

import duckdb

from .backup import (
    SAFE_NAME,
    BackupError,
    Manifest,
    SequenceState,
    Snapshot,
    TableDump,
    UnreadableTargetError,
    sync_dir,
)
from .migrations import MIGRATIONS
from .warehouse import MIGRATIONS_TABLE, Warehouse, WarehouseBusyError, WarehouseError, connect

# types whose values Parquet cannot carry exactly (DuckDB writes HUGEINT as a DOUBLE)
LOSSY_TYPES = ("HUGEINT", "UHUGEINT")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self.scratch = path.parent if str(path.parent) else Path(".")

    # --- backup ---------------------------------------------------------------------------------------------
    def snapshot(self, folder: Path) -> Snapshot:
        if not self.path.exists():
            raise BackupError(f"No warehouse at {self.path}: nothing to back up.")
        con = connect(self.path, read_only=True)
        try:
            con.execute("BEGIN TRANSACTION")
            if not _has_table(con, "schema_migrations"):
                raise BackupError(f"{self.path} is not a CityScore-KZ warehouse (it has no schema_migrations).")
            migrations = tuple(int(v) for (v,) in con.execute(
                "SELECT version FROM schema_migrations ORDER BY version").fetchall())
            views = [v for (v,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal AND "
                                                "database_name = current_database()").fetchall()]
            names = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
                                "current_database() AND NOT temporary ORDER BY schema_name, table_name").fetchall()
            foreign = [f"{s}.{t}" for s, t in names if s != "main"]
            if views or foreign:
                raise BackupError(f"{self.path} holds {', '.join(views + foreign)}, which this backup format does "
                                  "not carry (tables of the main schema and sequences only); drop or move them "
                                  "first.")
            tables = tuple(self._dump(con, folder, i, table) for i, (_, table) in enumerate(names))
            sequences = tuple(SequenceState(str(n), None if v is None else int(v)) for n, v in con.execute(
                "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = current_database() "
                "ORDER BY sequence_name").fetchall())
            con.execute("COMMIT")
        except duckdb.Error as exc:
            raise BackupError(f"Cannot read the warehouse {self.path}: {exc}") from None
        finally:
            con.close()
        return Snapshot(migrations, tables, sequences)

    @staticmethod
    def _dump(con: duckdb.DuckDBPyConnection, folder: Path, index: int, table: str) -> TableDump:
        columns = tuple((str(n), str(t)) for n, t in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND "
            "schema_name = 'main' AND table_name = ? ORDER BY column_index", [table]).fetchall())
        lossy = [f"{n} {t}" for n, t in columns if t.upper() in LOSSY_TYPES]
        if lossy:
            raise BackupError(f"Table {table} has columns Parquet cannot hold exactly ({', '.join(lossy)}).")
        file = f"tables/{table}.parquet" if SAFE_NAME.match(table) else f"tables/table-{index:04d}.parquet"
        rows = int(con.execute(f"SELECT count(*) FROM {ident(table)}").fetchone()[0])  # type: ignore[index]
        con.execute(f"COPY (SELECT * FROM {ident(table)}) TO {lit(str(folder / file))} "
                    "(FORMAT parquet, COMPRESSION zstd)")
        return TableDump(table, file, rows, columns)

    # --- restore --------------------------------------------------------------------------------------------
    def occupied(self) -> dict[str, int]:
        if not self.path.exists():
            return {}
        try:
            con = connect(self.path, read_only=True)
        except WarehouseBusyError:
            raise
        except WarehouseError as exc:
            raise UnreadableTargetError(f"{self.path} exists but cannot be read as a warehouse ({exc}).") from None
        try:
            return self._held(con)
        finally:
            con.close()

    def _held(self, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        try:
            tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = "
                                                "current_database() AND NOT temporary").fetchall()]
            counts = {t: int(con.execute(f"SELECT count(*) FROM {ident(t)}").fetchone()[0])  # type: ignore[index]
                      for t in tables if t != "schema_migrations"}
        except duckdb.Error as exc:
            raise BackupError(f"Cannot read {self.path} to see whether it is empty: {exc}") from None
        fresh = fresh_counts()  # rows the migrations themselves insert (the audit chain's head) are not data
        return {t: n - fresh.get(t, 0) for t, n in counts.items() if n > fresh.get(t, 0)}

    def restore(self, folder: Path, manifest: Manifest, finish: Callable[[Warehouse], None] | None = None, *,
                force: bool = False) -> tuple[int, ...]:
        known = {m.version for m in MIGRATIONS}
        unknown = sorted(set(manifest.migrations) - known)
        if unknown:
            raise BackupError(f"The backup's warehouse has schema migrations {', '.join(map(str, unknown))}, which "
                              "this CityScore-KZ does not know: it was made by a newer version "
                              f"({manifest.program_version}). Upgrade to restore it.")
        later = tuple(m.version for m in MIGRATIONS if m.version not in manifest.migrations)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        building = self.path.parent / f".{self.path.name}.restore-{secrets.token_hex(4)}"
        try:
            self._build(building, folder, manifest)
            if later or finish:
                with Warehouse(building) as wh:  # this program's later migrations, as any older warehouse gets them
                    if finish:
                        finish(wh)
            if Path(f"{building}.wal").exists():
                raise BackupError(f"The restored warehouse {building} was not closed cleanly; nothing was replaced.")
            self._swap(building, force)
        except BaseException:
            building.unlink(missing_ok=True)
            Path(f"{building}.wal").unlink(missing_ok=True)
            raise
        return later

    def _swap(self, building: Path, force: bool) -> None:
        """Rename ``building`` over the target while holding the target's write lock, so that no CityScore-KZ
        process writes into the old file meanwhile (a writer waiting for the lock opens the new file once it is
        released); without ``force`` the target must still hold no data."""
        guard = None
        if self.path.exists():
            try:
                guard = connect(self.path, read_only=False)
            except WarehouseBusyError:
                raise
            except WarehouseError:
                if not force:
                    raise
        try:
            if guard is not None and not force and self._held(guard):
                raise BackupError(f"{self.path} received data while the backup was being restored; nothing was "
                                  "replaced. Run the restore again (with --force to replace that data).")
            Path(f"{self.path}.wal").unlink(missing_ok=True)  # nothing of the old file may be replayed into the new
            os.replace(building, self.path)
            sync_dir(self.path.parent)
        finally:
            if guard is not None:
                guard.close()

    def _build(self, building: Path, folder: Path, manifest: Manifest) -> None:
        con = duckdb.connect(str(building))
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(MIGRATIONS_TABLE)
            for migration in MIGRATIONS:
                if migration.version in manifest.migrations:
                    con.execute("BEGIN TRANSACTION")
                    for statement in migration.statements:
                        con.execute(statement)
                    con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")
            for table in manifest.tables:
                _load(con, table, folder / table.file)
            for sequence in manifest.sequences:
                _advance(con, sequence)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            raise BackupError(f"The backup could not be loaded ({exc}); nothing was replaced.") from None
        except WarehouseError as exc:
            raise BackupError(f"The backup could not be loaded ({exc}); nothing was replaced.") from None
        finally:
            con.close()


@cache
def fresh_counts() -> dict[str, int]:
    """The rows of each table of a warehouse just migrated by this program (in memory)."""
    con = duckdb.connect()
    try:
        con.execute(MIGRATIONS_TABLE)
        for migration in MIGRATIONS:
            for statement in migration.statements:
                con.execute(statement)
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: int(con.execute(f"SELECT count(*) FROM {ident(t)}").fetchone()[0])  # type: ignore[index]
                for t in tables}
    finally:
        con.close()


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND "
                            "schema_name = 'main' AND table_name = ?", [table]).fetchone()[0])  # type: ignore[index]


def _load(con: duckdb.DuckDBPyConnection, table: TableDump, file: Path) -> None:
    """The rows of ``file`` into ``table``, by column name; a table the migrations did not create is created from
    the file (its columns and types, without keys)."""
    source = f"read_parquet({lit(str(file))})"
    if _has_table(con, table.name):
        present = {str(n) for (n,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = "
            "'main' AND table_name = ?", [table.name]).fetchall()}
        absent = [n for n, _ in table.columns if n not in present]
        if absent:
            raise BackupError(f"Table {table.name} of the backup has columns its schema here lacks "
                              f"({', '.join(absent)}); nothing was replaced.")
        con.execute(f"DELETE FROM {ident(table.name)}")  # e.g. rows a migration itself inserted
        con.execute(f"INSERT INTO {ident(table.name)} BY NAME SELECT * FROM {source}")
    else:
        con.execute(f"CREATE TABLE {ident(table.name)} AS SELECT * FROM {source}")
    loaded = int(con.execute(f"SELECT count(*) FROM {ident(table.name)}").fetchone()[0])  # type: ignore[index]
    if loaded != table.rows:
        raise BackupError(f"Table {table.name}: the backup holds {loaded:,} rows, its manifest says {table.rows:,}; "
                          "nothing was replaced.")


def _advance(con: duckdb.DuckDBPyConnection, sequence: SequenceState) -> None:
    """Move the sequence on until its last value is the backup's (``nextval`` the needed number of times: no DDL,
    so a column default that uses the sequence is not in the way)."""
    row = con.execute("SELECT start_value, increment_by, last_value FROM duckdb_sequences() WHERE database_name = "
                      "current_database() AND sequence_name = ?", [sequence.name]).fetchone()
    if row is None:
        con.execute(f"CREATE SEQUENCE {ident(sequence.name)} START 1")
        row = (1, 1, None)
    start, step, last = (int(row[0]), int(row[1]), None if row[2] is None else int(row[2]))
    if sequence.last_value is None:
        if last is not None:
            raise BackupError(f"Sequence {sequence.name} was used by the migrations here but not in the backup.")
        return
    steps = (sequence.last_value - start) // step + 1 if last is None else (sequence.last_value - last) // step
    if steps < 0:
        raise BackupError(f"Sequence {sequence.name} is already past the backup's value {sequence.last_value}.")
    if steps:
        con.execute(f"SELECT max(nextval({lit(sequence.name)})) FROM range({steps})")
    now = con.execute("SELECT last_value FROM duckdb_sequences() WHERE database_name = current_database() AND "
                      "sequence_name = ?", [sequence.name]).fetchone()
    if now is None or now[0] != sequence.last_value:
        raise BackupError(f"Sequence {sequence.name} could not be set to {sequence.last_value}; nothing was "
                          "replaced.")
