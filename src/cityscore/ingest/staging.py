"""The staging database: where a file is read, typed, checked and pseudonymised, outside the warehouse's lock.

Each file gets an in-memory DuckDB database, spilling to a private directory next to the warehouse (mode 0700,
removed afterwards) that also holds the file's UTF-8 copy when it needed transcoding. What ends there:

``typed_t`` / view ``typed``
    every record, each column typed (:mod:`.sqlcheck`), with its row number ``_row`` as people see it (the line of a
    CSV record, the row of a worksheet, the position of a JSON or Parquet record);
``errors``
    ``(_row, column_name, code, message)`` for every problem of every rejected row;
``good``
    the rows to store: every other data row, settlements as KATO codes, personal identifiers pseudonymised;
``quarantine``
    every problem with the rejected row's cells as JSON, personal data masked;
``coverage``
    for a table without a record id, the span of time each stream of the file covers (what it replaces).

The loader then holds the warehouse's write lock only while the warehouse reads ``good`` and ``quarantine`` as
Arrow streams and commits (:mod:`.commit`). Designated personal identifiers are pseudonymised by the typing query
itself; the spill files and the UTF-8 copy may hold other cells of the file, and are deleted when the load ends,
whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..records import Schema
from ..records.personal import mask, sql_holds_identifier, sql_mask
from ..settlements import Registry
from .codes import fix_for
from .csvrows import open_csv_rows
from .csvsource import CsvFile
from .pseudonym import INVALID, Pseudonymiser
from .reading import RowBatch, Source
from .sqlcheck import TimeWindow, error_queries, lit, q, typed_select
from .values import RowError

REPORT_ERRORS = 10_000  # errors listed in a report; all of them are in the quarantine table
MEMORY_LIMIT = "400MB"
HANDOVER_MEMORY = "150MB"  # while the warehouse reads the staged rows
STREAM_BATCH = 122_880  # rows per Arrow batch handed to the warehouse
Progress = Callable[[int], None]
_REJECT_CODES = {"TOO MANY COLUMNS": ("extra-cells", "more cells than the header has columns; check the separators "
                                                     "and quotes"),
                 "MISSING COLUMNS": ("short-row", "fewer cells than the header has columns; the line may be cut off"),
                 "UNQUOTED VALUE": ("malformed-csv", "a quoted value does not end with a quote"),
                 "LINE SIZE OVER MAXIMUM": ("line-too-long", "the line is longer than 2 MB"),
                 "INVALID UNICODE": ("encoding", "the line is not valid UTF-8")}


@dataclass
class Staged:
    """The outcome of staging one file; the rows themselves are in the staging database ``con`` (open until the
    commit has read them: :meth:`stream`)."""

    con: duckdb.DuckDBPyConnection
    schema: Schema
    file_name: str
    format: str
    encoding: str | None
    rows: int = 0
    accepted: int = 0
    errors_total: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _cursors: list[duckdb.DuckDBPyConnection] = field(default_factory=list, repr=False)
    conflicts_at: int | None = None  # the table's latest batch when ``conflicts`` was found (None: not looked)

    def stream(self, table: str) -> pa.RecordBatchReader:
        """A staged table (``good``, ``quarantine``, ``coverage``) as a stream of Arrow batches, for the warehouse's
        connection to read in the same process: no copy through a file, memory bounded by the batch size."""
        cursor = self.con.cursor()  # its own result, so several streams can be open at once
        self._cursors.append(cursor)
        return cursor.sql(f"SELECT * FROM {q(table)}").to_arrow_reader(STREAM_BATCH)

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        self.con.close()


@contextmanager
def workspace(near: Path) -> Iterator[Path]:
    """A private directory next to ``near`` (the warehouse), removed at the end."""
    parent = near.resolve().parent if near.parent.exists() else Path(tempfile.gettempdir())
    try:
        path = Path(tempfile.mkdtemp(prefix=".cityscore-staging-", dir=parent))
    except OSError:
        path = Path(tempfile.mkdtemp(prefix="cityscore-staging-"))
    os.chmod(path, 0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def connect_staging(workdir: Path) -> duckdb.DuckDBPyConnection:
    """The staging database: in memory (a table written to a database file costs more than all the checks), spilling
    to the private ``workdir`` beyond :data:`MEMORY_LIMIT`."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {lit(str(workdir / 'spill'))}")
    con.execute("SET preserve_insertion_order = true")
    return con


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


def missing_columns(file_name: str, header: list[str], schema: Schema, settlement: str | None) -> list[RowError]:
    present = set(canonical_header(header, schema).values())
    return [RowError(file_name, 1, c, "missing-column", f"the file has no column '{c}' (nor any of its other names: "
                     f"{', '.join(schema.column(c).aliases) or '—'})")
            for c in schema.required if c not in present and not (c == "settlement" and settlement)]


# --- loading a file into typed_t ------------------------------------------------------------------------------
def stage_csv(con: duckdb.DuckDBPyConnection, csvf: CsvFile, schema: Schema, window: TimeWindow,
              defaults: dict[str, str], key: bytes) -> bool:
    """Read a prepared CSV file (:func:`.csvsource.prepare_csv`) with DuckDB's reader. Returns whether DuckDB's
    records were the file's lines one for one (else the caller reads it with :func:`stage_rows` instead: a quoted
    value spans lines)."""
    positions = canonical_header(csvf.header, schema)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(csvf.header))) + "}"
    sources = {name: f's."c{i}"' for i, name in positions.items()}
    reader = (f"read_csv({lit(str(csvf.path))}, columns = {columns}, header = true, delim = {lit(csvf.delimiter)}, "
              "quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, null_padding = false, "
              "store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_scans')")
    select = typed_select(schema, sources, window, reader, defaults=defaults, key=key)
    if not keeps_order(con, select):
        return False
    con.execute(f"CREATE OR REPLACE TABLE typed_t AS {select}")
    records = int(con.execute("SELECT count(*) FROM typed_t").fetchall()[0][0])
    blank = set(csvf.blank_lines)
    rejected: dict[int, tuple[str, str, str | None]] = {}  # line → (code, message, the line as read)
    reasons = con.execute("SELECT line, error_type, csv_line FROM csv_rejects ORDER BY line, column_idx").fetchall()
    for line, error_type, text in reasons:
        if int(line) not in blank and int(line) not in rejected:
            code, message = _REJECT_CODES.get(str(error_type), ("malformed-csv", str(error_type).lower()))
            rejected[int(line)] = (code, message, text)
    if 1 + records + len(rejected) + len(blank) != csvf.physical_lines:
        con.execute("DROP TABLE typed_t")
        return False
    # row numbers: the k-th record (0-based) is line k + 2 plus the lines skipped before it (rejected or blank)
    missing = sorted(set(rejected) | blank)
    gaps = {}
    for i, line in enumerate(missing):
        gaps[line - i - 2] = i + 1
    con.execute("CREATE OR REPLACE TABLE gaps (ord BIGINT, shift BIGINT)")
    if gaps:
        ordered = sorted(gaps.items())
        con.register("gap_rows", pa.table({"ord": pa.array([g[0] for g in ordered], pa.int64()),
                                           "shift": pa.array([g[1] for g in ordered], pa.int64())}))
        con.execute("INSERT INTO gaps SELECT * FROM gap_rows")
        con.unregister("gap_rows")
        con.execute("CREATE OR REPLACE VIEW typed AS SELECT t._ord + 2 + COALESCE(g.shift, 0) AS _row, "
                    "t.* EXCLUDE (_ord) FROM (SELECT rowid AS _ord, * FROM typed_t) t "
                    "ASOF LEFT JOIN gaps g ON t._ord >= g.ord")
    else:
        con.execute("CREATE OR REPLACE VIEW typed AS SELECT rowid + 2 AS _row, * FROM typed_t")
    _rejected_table(con)
    rows = [(line, None, code, message, None if text is None else mask(str(text).strip("\r\n")))
            for line, (code, message, text) in rejected.items()]
    rows += [(line, None, "encoding", message, None) for line, message in csvf.bad_lines.items()]
    _insert_rejected(con, rows)
    return True


def keeps_order(con: duckdb.DuckDBPyConnection, select: str) -> bool:
    """Whether DuckDB runs ``select`` as a pure scan and projection, which keeps the file's order (rows are numbered
    by position); a join, an aggregate, a window or a sort would not."""
    plan = " ".join(str(cell) for row in con.execute("EXPLAIN " + select).fetchall() for cell in row).upper()
    return not any(word in plan for word in ("JOIN", "AGGREGATE", "WINDOW", "ORDER BY", "ORDER_BY", "TOP N", "TOP_N"))


def stage_rows(con: duckdb.DuckDBPyConnection, src: Source, schema: Schema, window: TimeWindow,
               defaults: dict[str, str], key: bytes, progress: Progress | None = None) -> int:
    """Stage a file read row by row in Python (XLSX, JSON, NDJSON, adapters, irregular CSV): every batch appended as
    text, then typed in one statement. Returns the number of records read."""
    positions = canonical_header(src.header, schema)
    names = [f"c{i}" for i in range(len(src.header))]
    con.execute("CREATE OR REPLACE TABLE src (_row BIGINT, " + ", ".join(f"{q(n)} VARCHAR" for n in names) + ")")
    _rejected_table(con)
    total = 0
    for batch in src.batches:
        _append(con, batch, names)
        if batch.problems:
            cells = {number: values for number, values in batch.rows if number in batch.problems}
            _insert_rejected(con, [(number, None, code, message,
                                    written_json(src.header, cells[number], schema) if number in cells else None)
                                   for number, (code, message) in batch.problems.items()])
        total += len(batch.rows)
        if progress:
            progress(len(batch.rows))
    sources = {name: f's."c{i}"' for i, name in positions.items()}
    con.execute("CREATE OR REPLACE TABLE typed_t AS "
                + typed_select(schema, sources, window, "src", defaults=defaults, key=key, row="s._row"))
    con.execute("CREATE OR REPLACE VIEW typed AS SELECT * FROM typed_t")
    return total  # ``src`` stays until the rejected rows are quarantined as written (:func:`written_from_src`)


def parquet_is_flat(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], schema: Schema) -> bool:
    """Whether every column the table uses is a plain value (else the Python reader rejects the nested rows)."""
    types = [str(r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()]
    if len(types) != len(header):
        return False
    used = canonical_header(header, schema)
    nested = ("STRUCT", "MAP", "UNION", "[]")
    return not any(any(n in types[i].upper() for n in nested) for i in used if i < len(types))


def stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], schema: Schema, window: TimeWindow,
                  defaults: dict[str, str], key: bytes) -> None:
    """Stage a Parquet file inside DuckDB, without passing its rows through Python (its used columns are flat:
    :func:`parquet_is_flat`)."""
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()
    originals = [(str(r[0]), str(r[1])) for r in described]
    positions = canonical_header(header, schema)
    used = {name: originals[i] for i, name in positions.items() if i < len(originals)}
    sources = {name: _parquet_text(q(original)) for name, (original, _) in used.items()}
    natives = {name: (f"s.{q(original)}", dtype) for name, (original, dtype) in used.items()}
    reader = f"read_parquet({lit(str(path))}, file_row_number = true)"
    con.execute("CREATE OR REPLACE TABLE typed_t AS " + typed_select(
        schema, sources, window, reader, defaults=defaults, key=key, row="s.file_row_number + 1", natives=natives))
    con.execute("CREATE OR REPLACE VIEW typed AS SELECT * FROM typed_t")
    _rejected_table(con)


def _parquet_text(column: str) -> str:
    """A (flat) Parquet column as text."""
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE CAST({column} AS VARCHAR) END"


def read_csv_python(csvf: CsvFile) -> Source:
    """The exact (slower) reader for a CSV whose records span lines; it reads the UTF-8 file DuckDB would have."""
    src = open_csv_rows(csvf.path, csvf.delimiter, csvf.header, encoding="utf-8")
    bad = dict(csvf.bad_lines)

    def batches() -> Iterator[RowBatch]:
        for batch in src.batches:
            for number, _cells in batch.rows:
                if number in bad:
                    batch.problems[number] = ("encoding", bad[number])
            yield batch

    return Source(csvf.original, "csv", csvf.header, csvf.encoding, batches(), list(csvf.notes))


# --- rejected rows as written ---------------------------------------------------------------------------------
def written_json(header: list[str], cells: list[Any], schema: Schema) -> str:
    """A row's cells as the file has them, as JSON: designated personal columns left out, everything masked."""
    positions = canonical_header(header, schema)
    personal = {i for i, name in positions.items() if schema.column(name).pseudonymise}
    row = {h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if i not in personal}
    return mask(json.dumps(row, ensure_ascii=False, default=str))


def written_from_csv(csvf: CsvFile, schema: Schema) -> AsWritten:
    """The rejected lines of a CSV file, read again: chunks of the file are skipped by counting their line ends, so
    only the chunks holding a wanted line are split (a file with CR-only line ends is read as text)."""
    import csv

    def parse(number: int, line: str, out: dict[int, str]) -> None:
        cells = next(csv.reader([line.rstrip("\r\n")], delimiter=csvf.delimiter), [])
        out[number] = written_json(csvf.header, cells, schema)

    def look(_con: duckdb.DuckDBPyConnection, rows: list[int]) -> dict[int, str]:
        wanted, out = sorted(rows), dict[int, str]()
        with csvf.path.open("rb") as f:
            head = f.read(1 << 16)
        if b"\n" not in head and b"\r" in head:  # CR-only line ends
            wanted_set = set(wanted)
            with csvf.path.open(encoding="utf-8", errors="replace", newline=None) as text:
                for number, line in enumerate(text, start=1):
                    if number in wanted_set:
                        parse(number, line, out)
                    if number >= wanted[-1]:
                        break
            return out
        line_no, i, rest = 1, 0, b""  # line_no: the number of the first line in ``rest + chunk``
        with csvf.path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                data = rest + chunk
                cut = data.rfind(b"\n") + 1
                whole, rest = data[:cut], data[cut:]
                ends = whole.count(b"\n")
                if i < len(wanted) and wanted[i] < line_no + ends:
                    lines = whole.split(b"\n")
                    while i < len(wanted) and wanted[i] < line_no + ends:
                        parse(wanted[i], lines[wanted[i] - line_no].decode("utf-8", "replace"), out)
                        i += 1
                line_no += ends
                if i >= len(wanted):
                    break
        if i < len(wanted) and wanted[i] == line_no and rest:  # the last line, without a line end
            parse(wanted[i], rest.decode("utf-8", "replace"), out)
        return out

    return look


def written_from_src(header: list[str], schema: Schema) -> AsWritten:
    """The rejected rows of a file read in Python, from the text table ``src`` :func:`stage_rows` keeps."""
    names = [f"c{i}" for i in range(len(header))]

    def look(con: duckdb.DuckDBPyConnection, rows: list[int]) -> dict[int, str]:
        con.register("wanted_rows", pa.table({"_row": pa.array(rows, pa.int64())}))
        try:
            found = con.execute("SELECT s.* FROM src s JOIN wanted_rows w USING (_row)").fetchall()
        finally:
            con.unregister("wanted_rows")
        return {int(r[0]): written_json(header, list(r[1:1 + len(names)]), schema) for r in found}

    return look


def written_from_parquet(path: Path, header: list[str], schema: Schema) -> AsWritten:
    """The rejected rows of a Parquet file, read again by position."""
    def look(con: duckdb.DuckDBPyConnection, rows: list[int]) -> dict[int, str]:
        con.register("wanted_rows", pa.table({"_row": pa.array(rows, pa.int64())}))
        try:
            found = con.execute(f"SELECT p.file_row_number + 1, p.* EXCLUDE (file_row_number) FROM read_parquet("
                                f"{lit(str(path))}, file_row_number = true) p JOIN wanted_rows w "
                                "ON w._row = p.file_row_number + 1").fetchall()
        finally:
            con.unregister("wanted_rows")
        return {int(r[0]): written_json(header, list(r[1:]), schema) for r in found}

    return look


# --- checks -----------------------------------------------------------------------------------------------------
AsWritten = Callable[[duckdb.DuckDBPyConnection, list[int]], dict[int, str]]


def check(con: duckdb.DuckDBPyConnection, schema: Schema, window: TimeWindow, registry: Registry,
          pseudonymiser: Pseudonymiser, file_name: str, as_written: AsWritten | None = None,
          scope: frozenset[str] | None = None) -> None:
    """Fill ``errors``; then ``good`` and ``quarantine``. ``as_written`` gives the rejected rows' cells as the file
    has them (JSON, masked), for the quarantine; without it, a row is rendered from its typed values. ``scope``: the
    settlements the sender may write (a city account's); a row of any other is rejected (``out-of-scope``)."""
    con.execute("CREATE OR REPLACE TABLE errors (_row BIGINT, column_name VARCHAR, code VARCHAR, message VARCHAR)")
    # a row the reader already rejected keeps that reason only: its other errors would follow from it
    con.execute("INSERT INTO errors SELECT _row, column_name, code, message FROM rejected")
    checks = " UNION ALL ".join(f"({sql})" for sql in error_queries(schema, window))
    con.execute(f"INSERT INTO errors SELECT * FROM ({checks}) WHERE _row NOT IN (SELECT _row FROM rejected)")
    _map_settlements(con, registry, scope)
    con.execute("INSERT INTO errors SELECT t._row, 'settlement', m.problem, CASE m.problem WHEN "
                "'out-of-scope' THEN printf('%s is not a settlement this account may send data for', m.kato) WHEN "
                "'ambiguous-settlement' THEN printf('''%s'' names several settlements; use the 9-digit KATO code', "
                f"{sql_mask('t.settlement')}) ELSE printf('''%s'' is neither a KATO code nor the name of a rated "
                "settlement; use the 9-digit KATO code (cityscore settlements --search NAME)', "
                f"{sql_mask('t.settlement')}) END FROM typed t JOIN settlement_map m ON m.raw = t.settlement "
                "WHERE m.problem IS NOT NULL AND NOT t._empty AND t._row NOT IN (SELECT _row FROM rejected)")
    _personal_data(con, schema)
    _good(con, schema)
    con.execute("CREATE OR REPLACE TABLE written (_row BIGINT, raw VARCHAR)")
    if as_written is not None:
        wanted = [int(r[0]) for r in con.execute(
            "SELECT DISTINCT _row FROM errors WHERE _row NOT IN (SELECT _row FROM rejected WHERE raw IS NOT NULL) "
            "ORDER BY 1").fetchall()]
        found = as_written(con, wanted) if wanted else {}
        if found:  # through Arrow: executemany costs a statement per row
            numbers = sorted(found)
            con.register("found_rows", pa.table({"_row": pa.array(numbers, pa.int64()),
                                                 "raw": pa.array([found[n] for n in numbers], pa.string())}))
            con.execute("INSERT INTO written SELECT * FROM found_rows")
            con.unregister("found_rows")
    _quarantine(con, schema, file_name)


def _map_settlements(con: duckdb.DuckDBPyConnection, registry: Registry,
                     scope: frozenset[str] | None = None) -> None:
    """Distinct settlement cells → KATO codes (or the reason they are not one, or may not be written)."""
    values = [r[0] for r in con.execute("SELECT DISTINCT settlement FROM typed_t WHERE settlement IS NOT NULL")
              .fetchall()]
    kato: list[str | None] = []
    problem: list[str | None] = []
    for value in values:
        found = registry.resolve(value)
        kato.append(found.kato if found else None)
        if found:
            problem.append(None if scope is None or found.kato in scope else "out-of-scope")
        elif len(registry.by_name(value)) > 1:
            problem.append("ambiguous-settlement")
        else:
            problem.append("unknown-settlement")
    con.execute("CREATE OR REPLACE TABLE settlement_map (raw VARCHAR, kato VARCHAR, problem VARCHAR)")
    if values:
        con.register("mapped", pa.table({"raw": pa.array(values, pa.string()), "kato": pa.array(kato, pa.string()),
                                         "problem": pa.array(problem, pa.string())}))
        con.execute("INSERT INTO settlement_map SELECT * FROM mapped")
        con.unregister("mapped")


def _personal_data(con: duckdb.DuckDBPyConnection, schema: Schema) -> None:
    """Designated columns were pseudonymised while typed: an invalid value rejects its row. Every other text column
    that is not an id (ids holding one were pseudonymised too): a cell holding a phone number or ИИН rejects its
    row."""
    for column in schema.columns:
        name = q(column.name)
        if column.pseudonymise:
            message = lit("'%s' " + INVALID[column.pseudonymise])
            invalid = q(column.name + "__invalid")
            con.execute(f"INSERT INTO errors SELECT t._row, {lit(column.name)}, 'invalid-{column.pseudonymise}', "
                        f"printf({message}, t.{invalid}) FROM typed t WHERE NOT t._empty AND t.{invalid} IS NOT NULL")
        elif column.type == "text" and column.name != "settlement" and column.if_personal != "pseudonymise":
            con.execute(f"INSERT INTO errors SELECT t._row, {lit(column.name)}, 'personal-data', "
                        f"{lit(f'{column.name} holds a phone number or an ИИН; personal data may not be kept here')} "
                        f"FROM typed t WHERE NOT t._empty AND {sql_holds_identifier(f't.{name}')}")


def _good(con: duckdb.DuckDBPyConnection, schema: Schema) -> None:
    selects = ["m.kato AS settlement" if c.name == "settlement" else f"t.{q(c.name)}" for c in schema.columns]
    con.execute(f"CREATE OR REPLACE TABLE good AS SELECT t._row, {', '.join(selects)} FROM typed t "
                "JOIN settlement_map m ON m.raw = t.settlement AND m.kato IS NOT NULL "
                "WHERE NOT t._empty AND t._row NOT IN (SELECT _row FROM errors)")


def row_json_sql(schema: Schema, alias: str = "t", *, typed_only: bool = False) -> str:
    """The cells of a typed row as JSON text, as written (the text of a cell that could not be typed, unless
    ``typed_only``: a row of ``good``), designated personal identifiers left out, everything masked."""
    fields = []
    for column in schema.columns:
        name = q(column.name)
        if column.pseudonymise:
            continue
        value = (f"CAST({alias}.{name} AS VARCHAR)" if column.type == "text" or typed_only
                 else f"COALESCE({alias}.{q(column.name + '__raw')}, CAST({alias}.{name} AS VARCHAR))")
        fields.append(f"{lit(column.name)}: {value}")
    return sql_mask("CAST(to_json({" + ", ".join(fields) + "}) AS VARCHAR)")


def _quarantine(con: duckdb.DuckDBPyConnection, schema: Schema, file_name: str) -> None:
    fixes = ", ".join(f"({lit(code)}, {lit(text)})" for code, text in _fix_rows(con))
    con.execute("CREATE OR REPLACE TABLE fixes (code VARCHAR, fix VARCHAR)")
    if fixes:
        con.execute(f"INSERT INTO fixes VALUES {fixes}")
    con.execute(f"CREATE OR REPLACE TABLE quarantine AS SELECT {lit(file_name)} AS file_name, e._row AS row_number, "
                f"e.column_name, e.code, {sql_mask('e.message')} AS message, f.fix, "
                f"COALESCE(r.raw, w.raw, {row_json_sql(schema)}) AS raw FROM errors e "
                "LEFT JOIN fixes f USING (code) LEFT JOIN typed t ON t._row = e._row "
                "LEFT JOIN written w ON w._row = e._row "
                "LEFT JOIN (SELECT _row, any_value(raw) AS raw FROM rejected GROUP BY _row) r ON r._row = e._row")


def _fix_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [(str(code), fix_for(str(code))) for (code,) in con.execute("SELECT DISTINCT code FROM errors").fetchall()]


def coverage(con: duckdb.DuckDBPyConnection, schema: Schema) -> None:
    """For a table without a record id: per stream (settlement and the scope columns) the span of time the file's
    good rows cover."""
    scope = ", ".join(["settlement", *(q(c) for c in schema.scope)])
    time = schema.time_sql()
    con.execute(f"CREATE OR REPLACE TABLE coverage AS SELECT {scope}, min({time}) AS first, max({time}) AS last, "
                f"count(*) AS rows FROM good GROUP BY ALL")


def summary(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Counts and the first errors, into ``staged``."""
    staged.rows = int(con.execute("SELECT count(*) FROM (SELECT _row FROM typed WHERE NOT _empty UNION "
                                  "SELECT _row FROM rejected)").fetchall()[0][0])
    staged.accepted = int(con.execute("SELECT count(*) FROM good").fetchall()[0][0])
    staged.errors_total = int(con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0])
    staged.errors = [RowError(staged.file_name, int(r[0]), r[1], str(r[2]), str(r[3]), str(r[4] or ""))
                     for r in con.execute("SELECT row_number, column_name, code, message, fix FROM quarantine "
                                          f"ORDER BY row_number, column_name NULLS FIRST, code LIMIT {REPORT_ERRORS}")
                     .fetchall()]


def precheck_conflicts(staged: Staged, warehouse: Path) -> None:
    """For a table with a record id: the good rows whose id is stored already, found before the write lock by reading
    the warehouse file (read-only) from the staging database; ``staged.conflicts_at`` records the table's latest
    batch then, so that the commit looks again only if a batch came in between. Nothing is found (and the commit
    does it all) when the warehouse cannot be read now: missing, busy, or of an older schema."""
    schema = staged.schema
    if schema.key is None or not warehouse.exists():
        return
    con, key = staged.con, q(schema.key)
    try:
        con.execute(f"ATTACH {lit(str(warehouse))} AS wh (READ_ONLY)")
    except duckdb.Error:
        return
    try:
        latest = con.execute("SELECT coalesce(max(batch_id), 0) FROM wh.batches WHERE table_name = ?",
                             [schema.table]).fetchall()[0][0]
        con.execute(f"CREATE OR REPLACE TABLE conflicts AS SELECT g._row, min(r.batch_id) AS stored_in FROM good g "
                    f"JOIN wh.raw_{schema.table} r ON r.{key} = g.{key} GROUP BY g._row")
        staged.conflicts_at = int(latest)
    except duckdb.Error:
        staged.conflicts_at = None
    finally:
        con.execute("DETACH wh")


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what the commit does not read (the typed file, its errors) and shrink the staging database's memory to
    :data:`HANDOVER_MEMORY` (the rest of ``good`` goes to its spill files), so that the warehouse has room to
    append while the peak of the process stays under 1 GB."""
    con.execute("DROP VIEW IF EXISTS typed")
    for table in ("typed_t", "errors", "rejected", "cell_tokens", "src", "written"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    with suppress(duckdb.Error):  # blocks still pinned: keep the larger limit
        con.execute(f"SET memory_limit = '{HANDOVER_MEMORY}'")


# --- helpers ------------------------------------------------------------------------------------------------------
def _rejected_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TABLE rejected (_row BIGINT, column_name VARCHAR, code VARCHAR, message VARCHAR, "
                "raw VARCHAR)")


def _insert_rejected(con: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> None:
    if rows:  # through Arrow: executemany costs a statement per row
        names, types = ("_row", "column_name", "code", "message", "raw"), (pa.int64(), *[pa.string()] * 4)
        con.register("rejected_rows", pa.table({n: pa.array([r[i] for r in rows], t)
                                                for i, (n, t) in enumerate(zip(names, types, strict=True))}))
        con.execute("INSERT INTO rejected SELECT * FROM rejected_rows")
        con.unregister("rejected_rows")


def _append(con: duckdb.DuckDBPyConnection, batch: RowBatch, names: list[str]) -> None:
    columns: list[list[str | None]] = [[] for _ in names]
    for _, cells in batch.rows:
        for i in range(len(names)):
            columns[i].append(cells[i] if i < len(cells) else None)
    table = pa.table({"_row": pa.array([n for n, _ in batch.rows], pa.int64()),
                      **{n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)}})
    con.register("batch_rows", table)
    con.execute("INSERT INTO src SELECT * FROM batch_rows")
    con.unregister("batch_rows")
