"""Stream any input file as batches of text rows with their row numbers, without loading it whole.

CSV (UTF-8, UTF-8 with BOM or Windows-1251; any of ``, ; tab |``), XLSX (the first sheet), Parquet, JSON (a list of
objects or ``{"rows": [...]}``) and NDJSON. Every cell arrives as text (or None); typing and checking happen later,
in SQL, for the whole file at once. Row numbers are what people see: the line of a CSV record (the header is line
1), the row of a worksheet, the position of a JSON or Parquet record. Lines that are not valid in the file's
encoding, and records with too many or too few cells, are marked for rejection with their row.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tabular import InputFileError, normalise_column

BATCH_ROWS = 50_000
FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet",
           ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}


@dataclass
class RowBatch:
    rows: list[tuple[int, list[str | None]]]  # (row number, cells aligned with the header)
    problems: dict[int, tuple[str, str]] = field(default_factory=dict)  # row → (code, message)


@dataclass
class Source:
    """An opened input file: its header, format, encoding and a generator of batches."""

    path: Path
    format: str
    header: list[str]
    encoding: str | None
    batches: Iterator[RowBatch]
    notes: list[str] = field(default_factory=list)


@dataclass
class RowsRead:
    """A whole (small) file as rows of ``{column: text}``, with the problems found while reading."""

    file: str
    header: list[str]
    rows: list[tuple[int, dict[str, str | None]]]
    problems: dict[int, tuple[str, str]]
    encoding: str | None
    notes: list[str]


def read_rows(path: Path) -> RowsRead:
    """Read a value file (observations, evidence, monitor records) completely."""
    src = open_source(path)
    rows: list[tuple[int, dict[str, str | None]]] = []
    problems: dict[int, tuple[str, str]] = {}
    for batch in src.batches:
        rows += [(n, dict(zip(src.header, cells, strict=False))) for n, cells in batch.rows]
        problems.update(batch.problems)
    return RowsRead(str(path), src.header, rows, problems, src.encoding, src.notes)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(f"{path}: unknown file type '{path.suffix}'. Use CSV, XLSX, Parquet, JSON or NDJSON.")
    return fmt


def open_source(path: Path, batch_rows: int = BATCH_ROWS) -> Source:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file.")
    fmt = file_format(path)
    opener = {"csv": _open_csv, "xlsx": _open_xlsx, "parquet": _open_parquet, "json": _open_json,
              "ndjson": _open_ndjson}[fmt]
    return opener(path, batch_rows)


# --- CSV ------------------------------------------------------------------------------------------------------
def sniff_encoding(path: Path) -> str:
    """``utf-8-sig`` with a BOM; else, over the first 64 KiB, ``utf-8`` unless more lines with non-ASCII text fail
    to decode as UTF-8 than succeed (then ``cp1251``, the usual Cyrillic export). A file mostly in UTF-8 with a few
    Windows-1251 lines stays UTF-8, and those lines are rejected with the reason."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    good = bad = 0
    lines = head.split(b"\n")
    if len(head) == 1 << 16 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle of a character
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return "cp1251" if bad > good else "utf-8"


def _lines(path: Path, encoding: str, bad: set[int]) -> Iterator[str]:
    """Decoded lines; a line that is not valid in ``encoding`` is decoded with replacement and its number kept."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and encoding == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8" if encoding == "utf-8-sig" else encoding)
            except UnicodeDecodeError:
                bad.add(number)
                yield raw.decode("utf-8" if encoding == "utf-8-sig" else encoding, errors="replace")


def _open_csv(path: Path, batch_rows: int) -> Source:
    encoding = sniff_encoding(path)
    bad: set[int] = set()
    lines = _lines(path, encoding, bad)
    first = next(lines, None)
    if first is None or not first.strip():
        raise InputFileError(f"{path}: the file is empty; its first line must name the columns.")
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    header = [normalise_column(h) for h in next(csv.reader([first], delimiter=delimiter))]

    def chain() -> Iterator[str]:
        yield from lines

    reader = csv.reader(chain(), delimiter=delimiter)

    def batches() -> Iterator[RowBatch]:
        batch = RowBatch([])
        previous_end = 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line = reader.line_num + 1
                batch.problems[line] = ("malformed-csv", f"the line cannot be read as CSV ({exc})")
                batch.rows.append((line, [None] * len(header)))
                previous_end = line
                continue
            end = reader.line_num + 1  # + 1: the header line was read separately
            start, previous_end = previous_end + 1, end
            if not any(cell.strip() for cell in record):
                continue
            if any(start <= b <= end for b in bad):
                batch.problems[end] = ("encoding", f"the line is not valid {encoding.upper()}: the file mixes "
                                                   "encodings; save it as UTF-8 and send it again")
            elif len(record) > len(header):
                batch.problems[end] = ("extra-cells", f"{len(record)} cells but {len(header)} columns; check the "
                                                      "separators and quotes")
            elif len(record) < len(header):
                batch.problems[end] = ("short-row", f"only {len(record)} of {len(header)} cells; the line may be "
                                                    "cut off")
            cells: list[str | None] = list(record[: len(header)]) + [None] * (len(header) - len(record))
            batch.rows.append((end, cells))
            if len(batch.rows) >= batch_rows:
                yield batch
                batch = RowBatch([])
        if batch.rows:
            yield batch

    notes = [f"read as {encoding}"] if encoding == "cp1251" else []
    return Source(path, "csv", header, encoding, batches(), notes)


# --- XLSX -----------------------------------------------------------------------------------------------------
def _open_xlsx(path: Path, batch_rows: int) -> Source:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for files that are not workbooks
        raise InputFileError(f"{path}: not a readable Excel workbook ({exc}).") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None:
        raise InputFileError(f"{path}: the first sheet is empty; its first row must name the columns.")
    header = [normalise_column(h) if h is not None else "" for h in first]

    def batches() -> Iterator[RowBatch]:
        batch = RowBatch([])
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            batch.rows.append((number, [_text(v) for v in values[: len(header)]]
                               + [None] * max(0, len(header) - len(values))))
            if len(batch.rows) >= batch_rows:
                yield batch
                batch = RowBatch([])
        if batch.rows:
            yield batch
        book.close()

    return Source(path, "xlsx", header, None, batches(), [f"sheet '{sheet.title}'"])


# --- Parquet --------------------------------------------------------------------------------------------------
def _open_parquet(path: Path, batch_rows: int) -> Source:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for broken files
        raise InputFileError(f"{path}: not a readable Parquet file ({exc}).") from None
    names = parquet.schema_arrow.names
    header = [normalise_column(n) for n in names]

    def batches() -> Iterator[RowBatch]:
        offset = 0
        for record_batch in parquet.iter_batches(batch_size=batch_rows):
            columns = []
            for column in record_batch.columns:
                if pa.types.is_boolean(column.type):
                    columns.append([None if v is None else ("true" if v else "false") for v in column.to_pylist()])
                else:
                    columns.append(column.cast(pa.string()).to_pylist())
            rows = [(offset + i + 1, [col[i] for col in columns]) for i in range(record_batch.num_rows)]
            offset += record_batch.num_rows
            yield RowBatch(rows)

    return Source(path, "parquet", header, None, batches())


# --- JSON -----------------------------------------------------------------------------------------------------
def _records_to_batches(records: Iterator[tuple[int, Any]], header: list[str], batch_rows: int) -> Iterator[RowBatch]:
    batch = RowBatch([])
    for number, record in records:
        if not isinstance(record, dict):
            batch.problems[number] = ("not-an-object", "the record is not a JSON object")
            batch.rows.append((number, [None] * len(header)))
        else:
            normal = {normalise_column(k): v for k, v in record.items()}
            batch.rows.append((number, [_text(normal.get(c)) for c in header]))
        if len(batch.rows) >= batch_rows:
            yield batch
            batch = RowBatch([])
    if batch.rows:
        yield batch


def _open_json(path: Path, batch_rows: int) -> Source:
    encoding = sniff_encoding(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig" if encoding != "cp1251" else "cp1251"))
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}).") from None
    records = data.get("rows", data.get("data")) if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise InputFileError(f"{path}: expected a list of objects (or {{\"rows\": [...]}}).")
    header: list[str] = []
    for record in records:
        if isinstance(record, dict):
            for key in record:
                name = normalise_column(key)
                if name not in header:
                    header.append(name)
    return Source(path, "json", header, encoding, _records_to_batches(iter(enumerate(records, 1)), header,
                                                                          batch_rows))


def _open_ndjson(path: Path, batch_rows: int) -> Source:
    encoding = sniff_encoding(path)
    header: list[str] = []
    parsed: list[tuple[int, Any]] = []
    bad: dict[int, tuple[str, str]] = {}
    with path.open("r", encoding="utf-8-sig" if encoding != "cp1251" else "cp1251") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                bad[number] = ("not-json", f"the line is not JSON ({exc.msg})")
                parsed.append((number, {}))
                continue
            parsed.append((number, record))
            if isinstance(record, dict):
                for key in record:
                    name = normalise_column(key)
                    if name not in header:
                        header.append(name)

    def batches() -> Iterator[RowBatch]:
        for batch in _records_to_batches(iter(parsed), header, batch_rows):
            batch.problems.update({n: p for n, p in bad.items() if any(r == n for r, _ in batch.rows)})
            yield batch

    return Source(path, "ndjson", header, encoding, batches())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat())
    return str(value)
