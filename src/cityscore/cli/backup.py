"""``cityscore backup`` and ``cityscore restore``: the whole warehouse — every table, the sequences, the schema
version, the audit chain — into one checked file and back (:mod:`cityscore.store.backup`, decisions.md D-80)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..store import default_path
from ..store.backup import BackupResult, Manifest, RestoreResult, backup, restore
from ..store.warehouse import Warehouse
from .common import FormatOption, domain_errors, err_console
from .output import Column, OutputFormat, console, print_csv, print_json, print_table

WarehouseOption = Annotated[str | None, typer.Option("--db", help="Warehouse file (default $CITYSCORE_DB or "
                                                                  "./cityscore.duckdb).", show_default=False)]


def _tables(manifest: Manifest, fmt: OutputFormat) -> None:
    rows = [{"table": t.name, "rows": t.rows} for t in manifest.tables]
    columns = [Column("Table", lambda r: r["table"], no_wrap=True),
               Column("Rows", lambda r: f"{r['rows']:,}" if fmt is OutputFormat.table else r["rows"],
                      justify="right", no_wrap=True)]
    (print_csv if fmt is OutputFormat.csv else print_table)(rows, columns)


@domain_errors
def backup_cmd(
    path: Annotated[Path, typer.Argument(help="File to write (a directory: a file named after the time in it).")],
    db: WarehouseOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace PATH when it exists.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Write a consistent snapshot of the warehouse to one file: every table (Parquet) and a
    manifest with row counts, SHA-256 of every file, the sequences and the schema version.

    The warehouse is read in one transaction while no other process can write it (the server may
    keep reading). The file appears under its name only when complete, readable by its owner only:
    it holds every table, accounts and the audit log included. The pseudonymisation key is not in
    it: keep that apart. Restore it with `cityscore restore PATH`.
    """
    result: BackupResult = backup(db or default_path(), path, force=force)
    if fmt is OutputFormat.json:
        print_json(result.to_json())
        return
    if fmt is OutputFormat.table:
        m = result.manifest
        console().print(f"Backup of {m.source} (schema {m.schema_version}): {len(m.tables)} tables, {m.rows:,} rows "
                        f"→ [bold]{result.path}[/] ({result.bytes:,} bytes, SHA-256 {result.sha256}).")
    _tables(result.manifest, fmt)


def log_restore(wh: Warehouse, manifest: Manifest, sha256: str) -> None:
    """The restore, as the last entry of the restored audit chain (part of what replaces the target)."""
    from ..audit import cli_actor, record
    from ..audit.log import has_log

    if has_log(wh):
        record(wh, who=cli_actor(), action="warehouse.restore", object=f"backup of {manifest.created_at}",
               summary={"sha256": sha256, "created_at": manifest.created_at, "schema_version": manifest.schema_version,
                        "tables": len(manifest.tables), "rows": manifest.rows})


@domain_errors
def restore_cmd(
    path: Annotated[Path, typer.Argument(help="A backup written by `cityscore backup`.")],
    db: WarehouseOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a warehouse that holds data.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Restore a backup into the warehouse: refused when the warehouse holds data, unless --force.

    Every file of the backup is checked against its manifest (size, SHA-256) before anything is
    written; the restored warehouse is built beside the target and replaces it in one rename only
    when every table and sequence is in, so a failure leaves the target as it was. A backup of an
    older schema is migrated to this program's. The restore is appended to the audit log of the
    restored warehouse.
    """
    result: RestoreResult = restore(path, db or default_path(), force=force, finish=log_restore)
    if fmt is OutputFormat.json:
        print_json(result.to_json())
        return
    if fmt is OutputFormat.table:
        m = result.manifest
        replaced = f", replacing {sum(result.replaced.values()):,} rows" if result.replaced else ""
        migrated = f"; migrated to schema {max(result.migrated)}" if result.migrated else ""
        console().print(f"Restored {path} (made {m.created_at} from {m.source}, schema {m.schema_version}) into "
                        f"[bold]{result.target}[/]: {len(m.tables)} tables, {m.rows:,} rows{replaced}{migrated}.")
        if result.replaced:
            err_console.print("The warehouse's earlier contents were replaced (--force).")
        if result.unreadable:
            err_console.print(f"The earlier file could not be read and was replaced (--force): {result.unreadable}")
    _tables(result.manifest, fmt)
