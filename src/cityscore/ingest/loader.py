"""``cityscore ingest``: one file into the warehouse, every row accepted or rejected with its reason.

1. The file's SHA-256 is compared with the batches already loaded: the same file twice changes nothing
   (``duplicate_batch``).
2. Its rows stream into a staging table as text (personal identifiers are pseudonymised on the way in, so they never
   reach the warehouse raw); the target table is the one given or the one whose columns the header matches.
3. The whole file is typed and checked in SQL (:mod:`.sqlcheck`); settlements are matched by KATO code or by name.
4. In one transaction: the batch, the good rows, and the bad rows in ``quarantine`` with file, row, column, code and
   message. Any failure rolls everything back: no partial file is ever stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import CityScoreError
from ..records import SCHEMAS, Schema
from ..settlements import Registry
from ..standard import Standard
from ..store.warehouse import Warehouse, utcnow
from .pseudonym import Pseudonymiser, sql_pseudonym_map
from .reading import RowBatch, Source, open_source
from .sqlcheck import error_queries, lit, q, typed_select
from .values import RowError

VALUE_TABLES = ("observations", "additional_initiatives")
Progress = Callable[[int], None]


class IngestError(ValueError, CityScoreError):
    """The file cannot be ingested at all (no table matches, no usable column)."""


@dataclass
class IngestReport:
    """What happened to one file. ``errors`` lists every rejected row's problems."""

    file: str
    table: str
    source: str = "native"
    batch_id: int | None = None
    rows: int = 0
    accepted: int = 0
    duplicate_batch: bool = False
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.rows - self.accepted

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file, "table": self.table, "source": self.source, "batch_id": self.batch_id,
            "rows": self.rows, "accepted": self.accepted, "rejected": self.rejected,
            "duplicate_batch": self.duplicate_batch, "encoding": self.encoding, "notes": self.notes,
            "errors": [{"row": e.row, "column": e.column, "code": e.code, "message": e.message} for e in self.errors],
        }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_header(header: list[str], schema: Schema) -> dict[int, str]:
    """Header positions → schema column names (exact names first, then aliases)."""
    out: dict[int, str] = {}
    for column in schema.columns:
        names = (column.name, *column.aliases)
        for position, name in enumerate(header):
            if position not in out and name in names:
                out[position] = column.name
                break
    return out


def guess_table(header: list[str]) -> str:
    """The raw table (or value table) whose required columns the header has; an error names the candidates."""
    candidates = []
    for schema in SCHEMAS.values():
        mapped = set(canonical_header(header, schema).values())
        if set(schema.required) <= mapped:
            candidates.append((len(mapped), schema.table))
    columns = set(header)
    if {"kpi", "period_start", "period_end"} <= columns:
        candidates.append((99, "observations"))
    if {"name", "in_roadmap", "report_signed"} <= columns:
        candidates.append((99, "additional_initiatives"))
    if not candidates:
        raise IngestError("No table matches the columns " + ", ".join(header) + ". Give --table (one of: "
                          + ", ".join([*SCHEMAS, *VALUE_TABLES]) + "); `cityscore tables` lists their columns.")
    candidates.sort(reverse=True)
    if len(candidates) > 1 and candidates[0][0] == candidates[1][0]:
        raise IngestError(f"The columns fit both {candidates[0][1]} and {candidates[1][1]}; give --table.")
    return candidates[0][1]


def ingest_file(
    wh: Warehouse,
    path: Path,
    *,
    std: Standard,
    registry: Registry,
    pseudonymiser: Pseudonymiser,
    table: str | None = None,
    settlement: str | None = None,
    source: str = "native",
    opened: Source | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Load ``path`` (or an already ``opened`` adapter source) into the warehouse; see the module docstring."""
    path = Path(path)
    digest = sha256_of(path)
    src = opened or open_source(path)
    name = table or guess_table(src.header)
    if name not in SCHEMAS and name not in VALUE_TABLES:
        raise IngestError(f"Unknown table '{name}'. Tables: {', '.join([*SCHEMAS, *VALUE_TABLES])}.")
    report = IngestReport(str(path), name, source, encoding=src.encoding, notes=list(src.notes))
    existing = wh.rows("SELECT batch_id, rows_accepted FROM batches WHERE content_sha256 = ? AND table_name = ? "
                       "AND source = ?", [digest, name, source])
    if existing:
        report.batch_id, report.duplicate_batch = existing[0][0], True
        report.notes.append(f"already loaded as batch {existing[0][0]}; nothing changed")
        return report
    if settlement is not None and registry.resolve(settlement) is None:
        raise IngestError(f"--settlement '{settlement}' is not a rated settlement; use its KATO code.")
    if name in VALUE_TABLES:
        return _ingest_values(wh, path, src, report, digest, std, registry, settlement)
    return _ingest_raw(wh, path, src, SCHEMAS[name], report, digest, registry, pseudonymiser, settlement, progress)


# --- raw record tables ----------------------------------------------------------------------------------------
def _ingest_raw(wh: Warehouse, path: Path, src: Source, schema: Schema, report: IngestReport, digest: str,
                registry: Registry, pseudonymiser: Pseudonymiser, settlement: str | None,
                progress: Progress | None) -> IngestReport:
    con = wh.con
    positions = canonical_header(src.header, schema)
    unknown = [h for i, h in enumerate(src.header) if i not in positions and h]
    if unknown:
        report.notes.append("columns not in the schema, ignored: " + ", ".join(unknown))
    present = set(positions.values())
    missing = [c for c in schema.required if c not in present and not (c == "settlement" and settlement)]
    if missing:
        report.errors = [RowError(path.name, 1, c, "missing-column", f"the file has no column '{c}' (nor any of its "
                                  f"other names: {', '.join(schema.column(c).aliases) or '—'})") for c in missing]
        report.rows = sum(len(b.rows) for b in src.batches)
        return report
    columns = [c.name for c in schema.columns]
    con.execute("DROP TABLE IF EXISTS stg")
    con.execute("CREATE TEMP TABLE stg (_row BIGINT, " + ", ".join(f"{q(c)} VARCHAR" for c in columns) + ")")
    problems: list[RowError] = []
    pii: dict[str, str] = {c.name: c.pseudonymise for c in schema.columns if c.pseudonymise}
    if src.format == "parquet" and src.path == path:
        report.rows = _stage_parquet(con, path, src.header, positions, columns, pii, settlement, pseudonymiser,
                                     problems)
        if progress:
            progress(report.rows)
    else:
        for batch in src.batches:
            _stage(con, batch, positions, columns, pii, settlement, pseudonymiser, problems, path.name)
            report.rows += len(batch.rows)
            if progress:
                progress(len(batch.rows))
    con.execute("DROP TABLE IF EXISTS typed")
    con.execute(f"CREATE TEMP TABLE typed AS {typed_select(schema)}")
    _map_settlements(con, registry)
    errors = [*problems, *_sql_errors(con, schema, path.name)]
    # a row the reader or adapter already rejected keeps that reason only: its other errors follow from it
    flagged = {e.row for e in problems if e.code not in ("invalid-phone", "invalid-iin")}
    errors = [*problems, *(e for e in errors[len(problems):] if e.row not in flagged)]
    bad_rows = {e.row for e in errors}
    report.errors = sorted(errors, key=lambda e: (e.row, e.column or "", e.code))
    con.execute("DROP TABLE IF EXISTS bad")
    con.execute("CREATE TEMP TABLE bad (_row BIGINT)")
    if bad_rows:
        con.register("bad_rows", pa.table({"_row": pa.array(sorted(bad_rows), pa.int64())}))
        con.execute("INSERT INTO bad SELECT _row FROM bad_rows")
        con.unregister("bad_rows")
    select = ", ".join("m.kato" if c == "settlement" else f"t.{q(c)}" for c in columns)
    with wh.transaction():
        batch_id = int(wh.scalar("SELECT nextval('batch_ids')"))
        con.execute(f"INSERT INTO raw_{schema.table} SELECT {batch_id}, t._row, {select} FROM typed t "
                    "JOIN settlement_map m ON m.raw = t.settlement WHERE t._row NOT IN (SELECT _row FROM bad)")
        accepted = int(wh.scalar(f"SELECT count(*) FROM raw_{schema.table} WHERE batch_id = ?", [batch_id]) or 0)
        _record_batch(wh, batch_id, schema.table, path, digest, report, src, settlement, accepted)
        _quarantine(wh, batch_id, path.name, report.errors)
    report.batch_id, report.accepted = batch_id, accepted
    return report


def _stage(con: Any, batch: RowBatch, positions: dict[int, str], columns: list[str], pii: dict[str, str],
           settlement: str | None, pseudonymiser: Pseudonymiser, problems: list[RowError], file_name: str) -> None:
    data: dict[str, list[str | None]] = {c: [None] * len(batch.rows) for c in columns}
    rows = [n for n, _ in batch.rows]
    for i, (number, cells) in enumerate(batch.rows):
        for position, column in positions.items():
            if position < len(cells):
                data[column][i] = cells[position]
        if settlement and (data["settlement"][i] is None or not str(data["settlement"][i]).strip()):
            data["settlement"][i] = settlement
        for column, kind in pii.items():
            value = data[column][i]
            if value is not None and value.strip() and kind:
                data[column][i], problem = pseudonymiser.pseudonymise(kind, value)
                if problem:
                    problems.append(RowError(file_name, number, column, f"invalid-{kind}", problem))
    for number, (code, message) in batch.problems.items():
        problems.append(RowError(file_name, number, None, code, message))
    table = pa.table({"_row": pa.array(rows, pa.int64()), **{c: pa.array(v, pa.string()) for c, v in data.items()}})
    con.register("batch_rows", table)
    con.execute("INSERT INTO stg SELECT * FROM batch_rows")
    con.unregister("batch_rows")


def _stage_parquet(con: Any, path: Path, header: list[str], positions: dict[int, str], columns: list[str],
                   pii: dict[str, str], settlement: str | None, pseudonymiser: Pseudonymiser,
                   problems: list[RowError]) -> int:
    """Stage a Parquet file inside DuckDB, without passing its rows through Python: every column as text, the row
    number as the position in the file. Personal identifiers are pseudonymised per distinct value."""
    import duckdb

    names = duckdb.connect().execute(f"SELECT name FROM parquet_schema({lit(str(path))})").fetchall()
    original = {header[i]: str(n[0]) for i, n in enumerate(names[1:]) if i < len(header)}  # skip the root node
    by_column = {column: original[header[position]] for position, column in positions.items()}
    selects = []
    for column in columns:
        source = by_column.get(column)
        text = f"CAST({q(source)} AS VARCHAR)" if source else "CAST(NULL AS VARCHAR)"
        if column == "settlement" and settlement:
            text = f"COALESCE(NULLIF(trim({text}), ''), {lit(settlement)})"
        selects.append(f"{text} AS {q(column)}")
    con.execute(f"INSERT INTO stg SELECT file_row_number + 1 AS _row, {', '.join(selects)} "
                f"FROM read_parquet({lit(str(path))}, file_row_number = true)")
    replaced = []
    for column, kind in pii.items():
        if column not in by_column:
            continue
        mapping = f"pii_{column}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {mapping} AS "
                    + sql_pseudonym_map(kind, f"SELECT {q(column)} AS raw FROM stg", pseudonymiser.key))
        for row, value in con.execute(f"SELECT s._row, s.{q(column)} FROM stg s JOIN {mapping} m "
                                      f"ON s.{q(column)} = m.raw WHERE NOT m.valid").fetchall():
            _, message = pseudonymiser.pseudonymise(kind, value)
            problems.append(RowError(path.name, int(row), column, f"invalid-{kind}", message or "invalid"))
        replaced.append((column, mapping))
    if replaced:  # one rewrite of the staging table with every identifier replaced by its pseudonym
        swaps = ", ".join(f"COALESCE(m{i}.token, s.{q(c)}) AS {q(c)}" for i, (c, _) in enumerate(replaced))
        joins = " ".join(f"LEFT JOIN {m} m{i} ON s.{q(c)} = m{i}.raw" for i, (c, m) in enumerate(replaced))
        con.execute(f"CREATE OR REPLACE TEMP TABLE stg_pseudonymised AS SELECT s.* REPLACE ({swaps}) "
                    f"FROM stg s {joins}")
        con.execute("DROP TABLE stg")
        con.execute("ALTER TABLE stg_pseudonymised RENAME TO stg")
    return int(con.execute("SELECT count(*) FROM stg").fetchall()[0][0])


def _map_settlements(con: Any, registry: Registry) -> None:
    """Distinct settlement cells → KATO codes (or the reason they are not one)."""
    values = [r[0] for r in con.execute("SELECT DISTINCT settlement FROM typed WHERE settlement IS NOT NULL")
              .fetchall()]
    kato: list[str | None] = []
    problem: list[str | None] = []
    for value in values:
        found = registry.resolve(value)
        kato.append(found.kato if found else None)
        if found:
            problem.append(None)
        elif len(registry.by_name(value)) > 1:
            problem.append("ambiguous-settlement")
        else:
            problem.append("unknown-settlement")
    con.execute("DROP TABLE IF EXISTS settlement_map")
    con.execute("CREATE TEMP TABLE settlement_map (raw VARCHAR, kato VARCHAR, problem VARCHAR)")
    if values:
        con.register("mapped", pa.table({"raw": pa.array(values, pa.string()), "kato": pa.array(kato, pa.string()),
                                         "problem": pa.array(problem, pa.string())}))
        con.execute("INSERT INTO settlement_map SELECT * FROM mapped")
        con.unregister("mapped")


def _sql_errors(con: Any, schema: Schema, file_name: str) -> list[RowError]:
    queries = list(error_queries(schema))
    queries.append(
        "SELECT t._row, 'settlement', m.problem, CASE m.problem WHEN 'ambiguous-settlement' THEN printf('''%s'' names "
        "several settlements; use the 9-digit KATO code', t.settlement) ELSE printf('''%s'' is neither a KATO code nor "
        "the name of a rated settlement; use the 9-digit KATO code (cityscore settlements --search NAME)', "
        "t.settlement) END FROM typed t JOIN settlement_map m ON m.raw = t.settlement WHERE m.problem IS NOT NULL")
    rows = con.execute(" UNION ALL ".join(f"({sql})" for sql in queries)).fetchall()
    return [RowError(file_name, int(r[0]), r[1], r[2], r[3]) for r in rows]


# --- value tables (observations, additional initiatives) ------------------------------------------------------
def _ingest_values(wh: Warehouse, path: Path, src: Source, report: IngestReport, digest: str, std: Standard,
                   registry: Registry, settlement: str | None) -> IngestReport:
    from .evidence import parse_evidence_rows
    from .observations import parse_observation_rows

    header = src.header
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: dict[int, tuple[str, str]] = {}
    for batch in src.batches:
        rows += [(n, dict(zip(header, cells, strict=False))) for n, cells in batch.rows]
        problems.update(batch.problems)
    if settlement:
        if "settlement" not in header:
            header = [*header, "settlement"]
        for _, cells in rows:
            if not (cells.get("settlement") or "").strip():
                cells["settlement"] = settlement
    report.rows = len(rows)
    values: list[tuple[Any, ...]]
    if report.table == "observations":
        records, errors = parse_observation_rows(path.name, header, rows, std, registry, problems=problems,
                                                 existing=_stored_periods(wh))
        values = [(_row_of(o.source), o.settlement, o.kpi, o.period_start, o.period_end, o.value, o.numerator,
                   o.denominator, o.baseline, o.component) for o in records]
        insert = ("INSERT INTO observations (batch_id, row_number, settlement, kpi, period_start, period_end, value, "
                  "numerator, denominator, baseline, component) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    else:
        items, errors = parse_evidence_rows(path.name, header, rows, registry, problems=problems)
        values = [(_row_of(e.source), e.settlement, e.name, e.sphere, e.in_roadmap, e.report_signed,
                   e.indicator_count, e.started, e.completed) for e in items]
        insert = ("INSERT INTO additional_initiatives (batch_id, row_number, settlement, name, sphere, in_roadmap, "
                  "report_signed, indicator_count, started, completed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    report.errors = sorted(errors, key=lambda e: (e.row, e.column or "", e.code))
    raw = {n: json.dumps(cells, ensure_ascii=False, default=str) for n, cells in rows}
    with wh.transaction():
        batch_id = int(wh.scalar("SELECT nextval('batch_ids')"))
        if values:
            wh.con.executemany(insert, [(batch_id, *v) for v in values])
        _record_batch(wh, batch_id, report.table, path, digest, report, src, settlement, len(values))
        _quarantine(wh, batch_id, path.name, report.errors, raw=[raw.get(e.row) for e in report.errors])
    report.batch_id, report.accepted = batch_id, len(values)
    return report


def _row_of(source: str | None) -> int:
    return int(source.rsplit(":", 1)[1]) if source else 0


def _stored_periods(wh: Warehouse) -> dict[tuple[str, str, str | None], list[tuple[Any, Any, int]]]:
    out: dict[tuple[str, str, str | None], list[tuple[Any, Any, int]]] = {}
    for settlement, kpi, component, start, end, batch in wh.rows(
            "SELECT settlement, kpi, component, period_start, period_end, batch_id FROM observations"):
        out.setdefault((settlement, kpi, component), []).append((start, end, batch))
    return out


# --- bookkeeping ----------------------------------------------------------------------------------------------
def _record_batch(wh: Warehouse, batch_id: int, table: str, path: Path, digest: str, report: IngestReport,
                  src: Source, settlement: str | None, accepted: int) -> None:
    wh.con.execute(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, table, path.name, str(path.resolve()), digest, report.source, src.format, src.encoding,
         settlement, report.rows, accepted, report.rows - accepted, utcnow()])


def _quarantine(wh: Warehouse, batch_id: int, file_name: str, errors: list[RowError], *,
                raw: list[str | None] | None = None) -> None:
    """Rejected rows with their reasons; ``raw`` is the row as read (else taken from the staging table)."""
    if not errors:
        return
    table = pa.table({
        "batch_id": pa.array([batch_id] * len(errors), pa.int64()),
        "file_name": pa.array([file_name] * len(errors), pa.string()),
        "row_number": pa.array([e.row for e in errors], pa.int64()),
        "column_name": pa.array([e.column for e in errors], pa.string()),
        "code": pa.array([e.code for e in errors], pa.string()),
        "message": pa.array([e.message for e in errors], pa.string()),
        "raw": pa.array(raw if raw is not None else [None] * len(errors), pa.string()),
    })
    wh.con.register("errs", table)
    if raw is None:
        wh.con.execute("INSERT INTO quarantine SELECT e.batch_id, e.file_name, e.row_number, e.column_name, e.code, "
                       "e.message, to_json(s) FROM errs e LEFT JOIN stg s ON s._row = e.row_number")
    else:
        wh.con.execute("INSERT INTO quarantine SELECT * FROM errs")
    wh.con.unregister("errs")


__all__ = ["IngestError", "IngestReport", "guess_table", "ingest_file", "lit"]
