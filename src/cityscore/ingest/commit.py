"""The write phase of a load: the only part that holds the warehouse's write lock.

In one transaction: the batch, its good rows, the rows of earlier batches it replaces, and its quarantine; then the
data changes that mark KPI values and scores computed before as stale. The staged tables are read as Arrow streams
from the staging database in the same process (the ids already stored were looked up before the lock, and are
looked up again only if a batch came in between), so the lock is held for the copy and the commit only, never for
reading or checking.

Corrections (decisions.md D-43): a table with a record id refuses a row whose id is stored (``already-stored``); to
replace such a file, delete its batch. A table without one (incidents, air quality, stop events, validations,
uptime checks) cannot tell a corrected row from a new one, so a file is taken as *the complete record of each stream
it holds — settlement and the table's scope columns — over the span of time it covers for that stream*: loading it
replaces what earlier batches held for the same stream in that span (``--replace span``, the default). ``--replace
none`` appends instead.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..records import Schema
from ..records.personal import sql_mask
from ..store.warehouse import Warehouse, utcnow
from .pseudonym import PseudonymKeyError
from .sqlcheck import lit, q
from .staging import REPORT_ERRORS, Staged, row_json_sql
from .values import RowError

REPLACE_POLICIES = ("span", "none")
FINGERPRINT = "pseudonym_key_fingerprint"
COMMIT_MEMORY = "300MB"  # the warehouse's memory while it appends a staged file


@dataclass
class Committed:
    batch_id: int | None = None
    accepted: int = 0
    duplicate_of: int | None = None
    conflicts: int = 0
    conflict_errors: list[RowError] = field(default_factory=list)  # the first REPORT_ERRORS of them
    replaced: list[dict[str, Any]] = field(default_factory=list)


def check_key(wh: Warehouse, fingerprint: str) -> None:
    """Refuse a key other than the one the warehouse was written with; record it on first use."""
    stored = wh.rows("SELECT value FROM meta WHERE key = ?", [FINGERPRINT])
    if not stored:
        wh.con.execute("INSERT INTO meta VALUES (?, ?)", [FINGERPRINT, fingerprint])
    elif stored[0][0] != fingerprint:
        raise PseudonymKeyError(
            f"The warehouse {wh.path} was written with another pseudonymisation key (fingerprint {stored[0][0]}; "
            f"this key's is {fingerprint}). The same person would get another pseudonym and records could no longer "
            "be linked. Set CITYSCORE_PSEUDONYM_KEY to the key used before, or restore the pseudonym.key file of "
            "CITYSCORE_HOME; use another warehouse (--db) for a new key.")


def duplicate_batch(wh: Warehouse, digest: str, table: str, source: str) -> int | None:
    found = wh.rows("SELECT batch_id FROM batches WHERE content_sha256 = ? AND table_name = ? AND source = ?",
                    [digest, table, source])
    return int(found[0][0]) if found else None


def commit_raw(wh: Warehouse, staged: Staged, *, path: Path, digest: str, source: str, settlement: str | None,
               replace: str, fingerprint: str, actor: str | None = None, sender: str | None = None) -> Committed:
    schema = staged.schema
    con = wh.con
    out = Committed()
    good, coverage = "stage_good", "stage_coverage"

    def attach(name: str) -> None:  # each statement reading a staged table gets a fresh stream of it
        con.register(f"stage_{name}", staged.stream(name))

    limit = wh.scalar("SELECT current_setting('memory_limit')")
    con.execute(f"SET memory_limit = '{COMMIT_MEMORY}'")  # with the staged rows in memory, the peak stays under 1 GB
    try:
        with wh.transaction():
            check_key(wh, fingerprint)
            out.duplicate_of = duplicate_batch(wh, digest, schema.table, source)
            if out.duplicate_of is not None:
                return out
            batch_id = int(wh.scalar("SELECT nextval('batch_ids')"))
            now = utcnow()
            con.execute("CREATE OR REPLACE TEMP TABLE conflicts (_row BIGINT, stored_in BIGINT)")
            if schema.key is not None:
                latest = wh.scalar("SELECT coalesce(max(batch_id), 0) FROM batches WHERE table_name = ?",
                                   [schema.table])
                if staged.conflicts_at is not None and int(latest) == staged.conflicts_at:  # found before the lock
                    con.register("stage_conflicts", staged.stream("conflicts"))
                    con.execute("INSERT INTO conflicts SELECT _row, stored_in FROM stage_conflicts")
                    con.unregister("stage_conflicts")
                else:
                    key = q(schema.key)
                    attach("good")
                    con.execute(f"INSERT INTO conflicts SELECT g._row, min(r.batch_id) FROM {good} g "
                                f"JOIN raw_{schema.table} r ON r.{key} = g.{key} GROUP BY g._row")
                out.conflicts = int(wh.scalar("SELECT count(*) FROM conflicts") or 0)
            elif replace == "span":  # coverage is small and read several times: a temporary copy
                con.register("stage_coverage_stream", staged.stream("coverage"))
                con.execute("CREATE OR REPLACE TEMP TABLE stage_coverage AS SELECT * FROM stage_coverage_stream")
                con.unregister("stage_coverage_stream")
                out.replaced = _replace(wh, schema, batch_id, now, coverage)
            columns = ", ".join(f"g.{q(c.name)}" for c in schema.columns)
            attach("good")
            names = ", ".join(q(c.name) for c in schema.columns)  # by name: migrations append columns at the end
            con.execute(f"INSERT INTO raw_{schema.table} (batch_id, row_number, {names}) "
                        f"SELECT {batch_id}, g._row, {columns} FROM {good} g "
                        "WHERE g._row NOT IN (SELECT _row FROM conflicts)")
            out.accepted = int(wh.scalar(f"SELECT count(*) FROM raw_{schema.table} WHERE batch_id = ?",
                                         [batch_id]) or 0)
            quarantine = ("INSERT INTO quarantine (batch_id, file_name, row_number, column_name, code, message, raw, "
                          "fix, quarantined_at) ")
            attach("quarantine")
            con.execute(quarantine + f"SELECT {batch_id}, file_name, row_number, column_name, code, message, raw, "
                        "fix, ? FROM stage_quarantine", [now])
            if out.conflicts:
                from .codes import fix_for

                message = lit("%s is already in the warehouse (batch %d)")
                key_name = schema.key or ""
                shown = sql_mask("g." + q(key_name))
                attach("good")
                con.execute(quarantine + f"SELECT {batch_id}, {lit(staged.file_name)}, g._row, {lit(key_name)}, "
                            f"'already-stored', printf({message}, {shown}, c.stored_in), "
                            f"{row_json_sql(schema, 'g', typed_only=True)}, {lit(fix_for('already-stored'))}, ? "
                            f"FROM {good} g JOIN conflicts c USING (_row)", [now])
                out.conflict_errors = [
                    RowError(staged.file_name, int(r[0]), r[1], r[2], r[3], r[4] or "") for r in wh.rows(
                        "SELECT row_number, column_name, code, message, fix FROM quarantine WHERE batch_id = ? "
                        f"AND code = 'already-stored' ORDER BY row_number LIMIT {REPORT_ERRORS}", [batch_id])]
            replaced = sum(int(r["rows"]) for r in out.replaced)
            rows = staged.rows
            con.execute(
                "INSERT INTO batches (batch_id, table_name, file_name, file_path, content_sha256, source, file_format, "
                "encoding, settlement_override, rows_total, rows_accepted, rows_rejected, ingested_at, rows_replaced, "
                "uploaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [batch_id, schema.table, path.name, str(path.resolve()), digest, source, staged.format,
                 staged.encoding, settlement, rows, out.accepted, rows - out.accepted, now, replaced, sender])
            record_loaded(wh, schema.table, batch_id, now)
            audit_loaded(wh, actor, table=schema.table, batch_id=batch_id, file_name=path.name, digest=digest,
                         source=source, rows=rows, accepted=out.accepted, replaced=replaced)
            out.batch_id = batch_id
    finally:
        con.execute("DROP TABLE IF EXISTS conflicts")
        con.execute("DROP TABLE IF EXISTS stage_coverage")
        con.execute(f"SET memory_limit = {lit(str(limit))}")
        for name in ("good", "quarantine"):
            with suppress(duckdb.Error):  # not registered
                con.unregister(f"stage_{name}")
    return out


def _replace(wh: Warehouse, schema: Schema, batch_id: int, now: Any, coverage: str) -> list[dict[str, Any]]:
    """Delete the rows of earlier batches in the streams and spans the new file covers; return what was replaced."""
    time = schema.time_sql("r")
    match = " AND ".join([f"r.{q(c)} IS NOT DISTINCT FROM v.{q(c)}" for c in ("settlement", *schema.scope)]
                         + [f"{time} BETWEEN v.first AND v.last"])
    where = f"FROM raw_{schema.table} r JOIN {coverage} v ON {match}"
    found = wh.rows(f"SELECT r.batch_id, r.settlement, min({time}), max({time}), count(*) {where} "
                    "GROUP BY r.batch_id, r.settlement ORDER BY r.batch_id, r.settlement")
    if not found:
        return []
    wh.con.execute(f"DELETE FROM raw_{schema.table} WHERE rowid IN (SELECT r.rowid {where})")
    out = []
    for old_batch, settlement, first, last, rows in found:
        wh.con.execute("INSERT INTO data_changes VALUES (nextval('change_ids'), 'replaced', ?, ?, ?, ?, ?, ?, ?, ?, "
                       "NULL)", [schema.table, old_batch, batch_id, settlement, first, last, rows, now])
        wh.con.execute("UPDATE batches SET rows_accepted = rows_accepted - ? WHERE batch_id = ?", [rows, old_batch])
        out.append({"batch_id": int(old_batch), "settlement": settlement, "first": str(first), "last": str(last),
                    "rows": int(rows)})
    return out


LOAD_ACTIONS = {"observations": "observations.upload", "additional_initiatives": "evidence.upload"}


def audit_loaded(wh: Warehouse, actor: str | None, *, table: str, batch_id: int, file_name: str, digest: str,
                 source: str, rows: int, accepted: int, replaced: int = 0) -> int:
    """The audit entry of a stored batch, in the load's transaction: ``ingest`` for a raw table,
    ``observations.upload`` / ``evidence.upload`` for a value file (decisions.md D-71). ``actor``: the account's
    login, or None for the command line (``cli:<os user>``)."""
    from .. import audit

    return audit.record(wh, who=actor or audit.cli_actor(), action=LOAD_ACTIONS.get(table, "ingest"),
                        object=f"batch {batch_id}",
                        summary={"batch_id": batch_id, "table": table, "file": file_name, "sha256": digest,
                                 "source": source, "rows": rows, "accepted": accepted, "rejected": rows - accepted,
                                 "replaced": replaced})


def record_loaded(wh: Warehouse, table: str, batch_id: int, now: Any) -> None:
    """A data change per settlement the batch brought rows for, with the span of time of those rows."""
    _record(wh, "loaded", table, batch_id, now)


def record_deleted(wh: Warehouse, table: str, batch_id: int) -> None:
    """Before a batch's rows are deleted: what it held, per settlement (so what was computed from it is stale)."""
    _record(wh, "deleted", table, batch_id, utcnow())


def _record(wh: Warehouse, kind: str, table: str, batch_id: int, now: Any) -> None:
    from ..records import SCHEMAS

    schema = SCHEMAS.get(table)
    if schema is not None:
        time = schema.time_sql() if schema.time else "NULL"
        span, source = f"CAST(min({time}) AS TIMESTAMP), CAST(max({time}) AS TIMESTAMP)", f"raw_{table}"
    elif table == "observations":
        span, source = "CAST(min(period_start) AS TIMESTAMP), CAST(max(period_end) AS TIMESTAMP)", table
    else:
        span, source = "NULL, NULL", table
    wh.con.execute(f"INSERT INTO data_changes SELECT nextval('change_ids'), {lit(kind)}, {lit(table)}, {batch_id}, "
                   f"NULL, settlement, {span}, count(*), ?, NULL FROM {source} WHERE batch_id = {batch_id} "
                   "GROUP BY settlement", [now])
