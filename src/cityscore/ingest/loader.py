"""``cityscore ingest``: one file into the warehouse, every row stored once or quarantined with its reason.

1. The file's SHA-256 is compared with the batches already loaded: the same file twice changes nothing
   (``duplicate_batch``).
2. Outside the warehouse's lock, in a private staging database (:mod:`.staging`): the file is read (CSV by DuckDB's
   reader, after a look at the whole file for its encoding; Parquet by DuckDB; XLSX, JSON and NDJSON streamed in
   Python), typed and checked in SQL (:mod:`.sqlcheck`), settlements matched by KATO code or name, personal
   identifiers pseudonymised or, where they do not belong, the row rejected (:mod:`cityscore.records.personal`).
3. Under the lock, in one transaction (:mod:`.commit`): the batch, the good rows, the quarantine, what the batch
   replaces, the data changes. Any failure rolls everything back: no partial file is ever stored.

Invariant: ``accepted + rejected == rows``, the data rows of the file (blank lines and all-blank records are not data
rows); every rejected row is in ``quarantine`` with file, row, column, code, message, fix and its cells, masked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import CityScoreError
from ..records import SCHEMAS, Schema
from ..records.personal import mask
from ..settlements import Registry
from ..standard import Standard
from ..store.warehouse import Warehouse, utcnow
from . import staging
from .commit import REPLACE_POLICIES, audit_loaded, check_key, commit_raw, duplicate_batch, record_loaded
from .pseudonym import Pseudonymiser, key_fingerprint
from .reading import Source, file_format, open_source
from .sqlcheck import TimeWindow, lit
from .values import RowError

VALUE_TABLES = ("observations", "additional_initiatives")
Progress = Callable[[int], None]


class IngestError(ValueError, CityScoreError):
    """The file cannot be ingested at all (no table matches, no usable column)."""


@dataclass
class IngestReport:
    """What happened to one file. ``errors`` lists the rejected rows' problems (the first
    :data:`~.staging.REPORT_ERRORS`; ``errors_total`` counts them all, all are in the quarantine table)."""

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
    errors_total: int | None = None
    replaced: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.rows - self.accepted

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file, "table": self.table, "source": self.source, "batch_id": self.batch_id,
            "rows": self.rows, "accepted": self.accepted, "rejected": self.rejected,
            "duplicate_batch": self.duplicate_batch, "encoding": self.encoding, "notes": self.notes,
            "errors": [{k: v for k, v in e.to_json().items() if k != "file"} for e in self.errors],
            "errors_total": len(self.errors) if self.errors_total is None else self.errors_total,
            "replaced": self.replaced,
        }


def _check_readable(path: Path) -> None:
    """A clear error for a path that is not a readable file (before anything else is done)."""
    if not path.exists():
        raise IngestError(f"{path}: no such file; check the path (and that the file was copied completely).")
    if path.is_dir():
        raise IngestError(f"{path} is a folder, not a file; give the files in it, e.g. "
                          f"`cityscore ingest {path}/*.csv`.")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror}); check its permissions.") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


canonical_header = staging.canonical_header


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


@dataclass(frozen=True)
class Options:
    table: str | None = None
    settlement: str | None = None
    source: str = "native"
    encoding: str = "auto"
    replace: str = "span"
    window: TimeWindow = field(default_factory=TimeWindow)
    scope: frozenset[str] | None = None  # the settlements the sender may write; None: any
    actor: str | None = None  # who loads it, for the audit log: an account's login; None: cli:<os user>

    @property
    def sender(self) -> str | None:
        """The account that sent the file through the service (``batches.uploaded_by``); None on the command line."""
        return self.actor if self.actor and not self.actor.startswith("cli:") else None

    @property
    def batch_source(self) -> str:
        """The source a batch is stored and recognised under: a file sent by a city account is its own, so the same
        file from another account is loaded for that account's settlements (decisions.md D-81)."""
        return self.source if self.scope is None or self.sender is None else f"{self.source}@{self.sender}"


def ingest_file(
    target: Warehouse | Path,
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
    encoding: str = "auto",
    replace: str = "span",
    window: TimeWindow | None = None,
    scope: frozenset[str] | None = None,
    actor: str | None = None,
) -> IngestReport:
    """Load ``path`` (or an already ``opened`` adapter source) into ``target``: an open warehouse (held for the
    whole load), or a warehouse file, opened for writing only to commit, so that readers (the dashboard, the API)
    never wait while the file is read and checked. A stored batch is in the audit log, in the same transaction, as
    done by ``actor`` (an account's login; None: ``cli:<os user>``)."""
    options = Options(table, settlement, source, encoding, replace, window or TimeWindow(), scope, actor)
    held = target if isinstance(target, Warehouse) else None
    db = target.path if isinstance(target, Warehouse) else Path(target)

    def open_wh() -> AbstractContextManager[Warehouse]:
        return nullcontext(held) if held is not None else Warehouse(db)

    return _ingest(open_wh, db, Path(path), std=std, registry=registry, pseudonymiser=pseudonymiser,
                   options=options, opened=opened, progress=progress, held=held)


def _ingest(open_wh: Callable[[], AbstractContextManager[Warehouse]], db: Path, path: Path, *, std: Standard,
            registry: Registry, pseudonymiser: Pseudonymiser, options: Options, opened: Source | None,
            progress: Progress | None, held: Warehouse | None) -> IngestReport:
    if options.replace not in REPLACE_POLICIES:
        raise IngestError(f"--replace {options.replace}: use one of {', '.join(REPLACE_POLICIES)}.")
    if options.settlement is not None and registry.resolve(options.settlement) is None:
        raise IngestError(f"--settlement '{options.settlement}' is not a rated settlement; use its KATO code.")
    _check_readable(path)
    digest = sha256_of(path)
    fingerprint = key_fingerprint(pseudonymiser.key)
    with staging.workspace(db) as workdir:
        fmt = "adapter" if opened is not None else file_format(path)
        csvf = None
        if opened is not None:
            src: Source | None = opened
            header = opened.header
        elif fmt == "csv":
            from .csvsource import prepare_csv

            csvf = prepare_csv(path, workdir, encoding=options.encoding)
            src, header = None, csvf.header
        else:
            src = open_source(path)
            header = src.header
        name = options.table or guess_table(header)
        if name not in SCHEMAS and name not in VALUE_TABLES:
            raise IngestError(f"Unknown table '{name}'. Tables: {', '.join([*SCHEMAS, *VALUE_TABLES])}.")
        report = IngestReport(str(path), name, options.source)
        stored = _already_loaded(held, db, digest, name, options.batch_source)
        if stored is not None:
            return _duplicate(report, stored, _batch_counts(held, db, stored))
        if name in VALUE_TABLES:  # read and checked before the lock; stored periods looked at again under it
            if src is None:
                src = open_source(path)
            values = _ValueFile.read(path, src, report, options.settlement)
            version, periods = _stored_snapshot(held, db) if name == "observations" else (None, {})
            values.parse(std, registry, periods, options.scope)
            with open_wh() as wh:
                check_key(wh, fingerprint)
                if name == "observations" and _version(wh) != version:  # another load came in between
                    values.parse(std, registry, _stored_periods(wh), options.scope)
                return values.store(wh, digest, options.actor, options.batch_source, options.sender)
        schema = SCHEMAS[name]
        missing = staging.missing_columns(path.name, header, schema, options.settlement)
        if missing:
            report.errors, report.encoding = missing, csvf.encoding if csvf else (src.encoding if src else None)
            report.rows = _count_rows(csvf, src)
            return report
        staged = _stage(workdir, path, fmt, csvf, src, schema, registry, pseudonymiser, options, progress)
        if held is None:  # the warehouse is not ours yet: look for stored ids before taking the lock
            staging.precheck_conflicts(staged, db)
        try:
            report.encoding, report.notes = staged.encoding, staged.notes
            with open_wh() as wh:
                done = commit_raw(wh, staged, path=path, digest=digest, source=options.batch_source,
                                  settlement=options.settlement, replace=options.replace, fingerprint=fingerprint,
                                  actor=options.actor, sender=options.sender)
        finally:
            staged.close()
    if done.duplicate_of is not None:
        return _duplicate(report, done.duplicate_of)
    report.batch_id, report.rows, report.accepted = done.batch_id, staged.rows, done.accepted
    report.errors, report.errors_total = staged.errors, staged.errors_total + done.conflicts
    if done.conflicts:
        report.errors = sorted([*staged.errors, *done.conflict_errors],
                               key=lambda e: (e.row, e.column or "", e.code))[:staging.REPORT_ERRORS]
    report.replaced = done.replaced
    for item in done.replaced:
        report.notes.append(f"replaced {item['rows']} row(s) of batch {item['batch_id']} for {item['settlement']} "
                            f"from {item['first']} to {item['last']}")
    return report


def _stage(workdir: Path, path: Path, fmt: str, csvf: Any, src: Source | None, schema: Schema, registry: Registry,
           pseudonymiser: Pseudonymiser, options: Options, progress: Progress | None) -> staging.Staged:
    defaults = {"settlement": options.settlement} if options.settlement else {}
    con = staging.connect_staging(workdir)
    key = pseudonymiser.key
    ok = False
    try:
        notes: list[str] = []
        encoding = None
        as_written: staging.AsWritten | None = None
        if csvf is not None:
            regular = staging.stage_csv(con, csvf, schema, options.window, defaults, key)
            notes, encoding = list(csvf.notes), csvf.encoding
            as_written = staging.written_from_csv(csvf, schema)
            if not regular:
                notes.append("quoted values span lines: read by the exact reader")
                staging.stage_rows(con, staging.read_csv_python(csvf), schema, options.window, defaults, key,
                                   progress)
                as_written = staging.written_from_src(csvf.header, schema)
        elif (src is not None and src.format == "parquet" and src.path == path and fmt == "parquet"
              and staging.parquet_is_flat(con, path, src.header, schema)):
            staging.stage_parquet(con, path, src.header, schema, options.window, defaults, key)
            as_written = staging.written_from_parquet(path, src.header, schema)
        elif src is not None:
            notes, encoding = list(src.notes), src.encoding
            staging.stage_rows(con, src, schema, options.window, defaults, key, progress)
            as_written = staging.written_from_src(src.header, schema)
        staging.check(con, schema, options.window, registry, pseudonymiser, path.name, as_written, options.scope)
        staging.coverage(con, schema)
        staged = staging.Staged(con, schema, path.name, src.format if src is not None else "csv", encoding,
                                notes=notes)
        staging.summary(con, staged)
        staging.release(con)
        if progress:
            progress(staged.rows)
        ok = True
        return staged
    finally:
        if not ok:
            con.close()


def _count_rows(csvf: Any, src: Source | None) -> int:
    if csvf is not None:
        return max(0, int(csvf.physical_lines) - 1 - len(csvf.blank_lines))
    return sum(len(b.rows) for b in src.batches) if src is not None else 0


def _duplicate(report: IngestReport, batch_id: int, counts: tuple[int, int] | None = None) -> IngestReport:
    """The file is the batch ``batch_id`` already: nothing changes; the report gives that batch's counts."""
    report.batch_id, report.duplicate_batch = batch_id, True
    if counts is not None:
        report.rows, report.accepted = counts
    report.notes.append(f"already loaded as batch {batch_id}; nothing changed")
    return report


def _batch_counts(held: Warehouse | None, db: Path, batch_id: int) -> tuple[int, int] | None:
    """(rows, accepted) of a stored batch, read without the write lock."""
    sql = "SELECT rows_total, rows_total - rows_rejected FROM batches WHERE batch_id = ?"  # as it was loaded
    try:
        if held is not None:
            found = held.rows(sql, [batch_id])
        else:
            with Warehouse(db, read_only=True) as wh:
                found = wh.rows(sql, [batch_id])
    except CityScoreError:
        return None
    return (int(found[0][0]), int(found[0][1])) if found else None


def _already_loaded(held: Warehouse | None, db: Path, digest: str, table: str, source: str) -> int | None:
    """The batch that holds this very file, looked up without taking the write lock."""
    if held is not None:
        return duplicate_batch(held, digest, table, source)
    if not db.exists():
        return None
    try:
        with Warehouse(db, read_only=True) as wh:
            return duplicate_batch(wh, digest, table, source)
    except CityScoreError:
        return None  # an older schema, or busy: the write phase checks again


# --- value tables (observations, additional initiatives) ------------------------------------------------------
@dataclass
class _ValueFile:
    """A value file read whole (they are small: one row per settlement, KPI and period), checked outside the lock."""

    path: Path
    src: Source
    report: IngestReport
    settlement: str | None
    header: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    problems: dict[int, tuple[str, str]]
    values: list[tuple[Any, ...]] = field(default_factory=list)
    columns: tuple[str, ...] = ()  # of the value table, in the order of ``values``

    @classmethod
    def read(cls, path: Path, src: Source, report: IngestReport, settlement: str | None) -> _ValueFile:
        report.encoding, report.notes = src.encoding, [*report.notes, *src.notes]
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
        return cls(path, src, report, settlement, header, rows, problems)

    def parse(self, std: Standard, registry: Registry, stored: dict[tuple[str, str, str | None],
                                                                    list[tuple[Any, Any, int]]],
              scope: frozenset[str] | None = None) -> None:
        from .evidence import parse_evidence_rows
        from .observations import parse_observation_rows

        name = self.path.name
        if self.report.table == "observations":
            records, errors = parse_observation_rows(name, self.header, self.rows, std, registry,
                                                     problems=self.problems, existing=stored)
            self.values = [(_row_of(o.source), o.settlement, o.kpi, o.period_start, o.period_end, o.value,
                            o.numerator, o.denominator, o.baseline, o.component) for o in records]
            self.columns = ("row_number", "settlement", "kpi", "period_start", "period_end", "value", "numerator",
                            "denominator", "baseline", "component")
        else:
            items, errors = parse_evidence_rows(name, self.header, self.rows, registry, problems=self.problems)
            self.values = [(_row_of(e.source), e.settlement, e.name, e.sphere, e.in_roadmap, e.report_signed,
                            e.indicator_count, e.started, e.completed) for e in items]
            self.columns = ("row_number", "settlement", "name", "sphere", "in_roadmap", "report_signed",
                            "indicator_count", "started", "completed")
        if scope is not None:  # a row of a settlement the sender may not write is rejected, never stored
            kept = []
            for row in self.values:
                if row[1] in scope:
                    kept.append(row)
                else:
                    errors.append(RowError(name, int(row[0]), "settlement", "out-of-scope",
                                           f"{row[1]} is not a settlement this account may send data for"))
            self.values = kept
        self.report.errors = sorted(errors, key=lambda e: (e.row, e.column or "", e.code))

    def store(self, wh: Warehouse, digest: str, actor: str | None = None, source: str | None = None,
              sender: str | None = None) -> IngestReport:
        report = self.report
        raw = {n: json.dumps(cells, ensure_ascii=False, default=str) for n, cells in self.rows}
        with wh.transaction():
            batch_id = int(wh.scalar("SELECT nextval('batch_ids')"))
            if self.values:  # through Arrow: executemany costs a statement per row
                rows = pa.table({c: [v[i] for v in self.values] for i, c in enumerate(self.columns)})
                wh.con.register("value_rows", rows)
                wh.con.execute(f"INSERT INTO {report.table} (batch_id, {', '.join(self.columns)}) "
                               f"SELECT {batch_id}, * FROM value_rows")
                wh.con.unregister("value_rows")
            _record_batch(wh, batch_id, report.table, self.path, digest, source or report.source, self.src,
                          self.settlement, report, len(self.values), sender)
            _quarantine_values(wh, batch_id, self.path.name, report.errors, [raw.get(e.row) for e in report.errors])
            record_loaded(wh, report.table, batch_id, utcnow())
            audit_loaded(wh, actor, table=report.table, batch_id=batch_id, file_name=self.path.name, digest=digest,
                         source=report.source, rows=report.rows, accepted=len(self.values))
        report.batch_id, report.accepted = batch_id, len(self.values)
        return report


def _version(wh: Warehouse) -> tuple[Any, ...]:
    """What changes whenever a batch is loaded, replaced or deleted."""
    return tuple(wh.rows("SELECT (SELECT max(change_id) FROM data_changes), (SELECT count(*) FROM observations)")[0])


def _stored_snapshot(held: Warehouse | None, db: Path) -> tuple[tuple[Any, ...] | None, dict[
        tuple[str, str, str | None], list[tuple[Any, Any, int]]]]:
    """The stored observation periods and the version they were read at, without the write lock."""
    if held is not None:
        return _version(held), _stored_periods(held)
    if not db.exists():
        return None, {}
    try:
        with Warehouse(db, read_only=True) as wh:
            return _version(wh), _stored_periods(wh)
    except CityScoreError:
        return None, {}  # an older schema, or busy: the write phase reads them again


def _row_of(source: str | None) -> int:
    return int(source.rsplit(":", 1)[1]) if source else 0


def _stored_periods(wh: Warehouse) -> dict[tuple[str, str, str | None], list[tuple[Any, Any, int]]]:
    out: dict[tuple[str, str, str | None], list[tuple[Any, Any, int]]] = {}
    for settlement, kpi, component, start, end, batch in wh.rows(
            "SELECT settlement, kpi, component, period_start, period_end, batch_id FROM observations"):
        out.setdefault((settlement, kpi, component), []).append((start, end, batch))
    return out


# --- bookkeeping ----------------------------------------------------------------------------------------------
def _record_batch(wh: Warehouse, batch_id: int, table: str, path: Path, digest: str, source: str, src: Source,
                  settlement: str | None, report: IngestReport, accepted: int, sender: str | None) -> None:
    wh.con.execute(
        "INSERT INTO batches (batch_id, table_name, file_name, file_path, content_sha256, source, file_format, "
        "encoding, settlement_override, rows_total, rows_accepted, rows_rejected, ingested_at, rows_replaced, "
        "uploaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        [batch_id, table, path.name, str(path.resolve()), digest, source, src.format, src.encoding,
         settlement, report.rows, accepted, report.rows - accepted, utcnow(), sender])


def _quarantine_values(wh: Warehouse, batch_id: int, file_name: str, errors: list[RowError],
                       raw: list[str | None]) -> None:
    """Rejected rows of a value file with their reasons and their cells, masked."""
    import pyarrow as pa

    from .codes import fix_for

    if not errors:
        return
    table = pa.table({
        "batch_id": pa.array([batch_id] * len(errors), pa.int64()),
        "file_name": pa.array([file_name] * len(errors), pa.string()),
        "row_number": pa.array([e.row for e in errors], pa.int64()),
        "column_name": pa.array([e.column for e in errors], pa.string()),
        "code": pa.array([e.code for e in errors], pa.string()),
        "message": pa.array([mask(e.message) for e in errors], pa.string()),
        "raw": pa.array([mask(r) if r else r for r in raw], pa.string()),
        "fix": pa.array([e.fix or fix_for(e.code) for e in errors], pa.string()),
    })
    wh.con.register("errs", table)
    wh.con.execute("INSERT INTO quarantine (batch_id, file_name, row_number, column_name, code, message, raw, fix, "
                   "quarantined_at) SELECT *, ? FROM errs", [utcnow()])
    wh.con.unregister("errs")


__all__ = ["IngestError", "IngestReport", "guess_table", "ingest_file", "lit"]
