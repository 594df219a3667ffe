"""Read a tabular file into rows, whatever shape analysts' exports come in.

CSV in UTF-8 (with or without BOM) or Windows-1251, separated by ``,`` ``;`` tab or ``|``; Parquet; JSON (a list
of objects, ``{"rows": [...]}``) and NDJSON. Column names are normalised (trimmed, lower case). Each row keeps its
row number as people count it: for CSV the line of the file (the header is line 1), for JSON and Parquet the
position of the record (the first record is row 1).

Cell values stay as read (strings from CSV, typed values from Parquet/JSON); :mod:`.values` parses them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CityScoreError


class InputFileError(ValueError, CityScoreError):
    """The file cannot be read at all (missing, unknown format, not a table)."""


@dataclass(frozen=True)
class Table:
    """The rows of one file, with where they came from and how the file was read."""

    file: str
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, Any]]]  # (row number, {column: cell})
    encoding: str | None = None
    delimiter: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return iter(self.rows)


def normalise_column(name: object) -> str:
    return str(name).strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def read_table(path: Path) -> Table:
    """Read ``path`` by its extension (.csv/.txt/.tsv, .parquet, .json, .ndjson/.jsonl)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    if suffix in (".json", ".ndjson", ".jsonl"):
        return _read_json(path)
    raise InputFileError(f"{path}: unknown file type '{suffix}'. Use CSV, Parquet, JSON or NDJSON.")


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding of ``data``: UTF-8 (BOM or not), else Windows-1251 (the usual Cyrillic export)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "cp1251"


def _read_csv(path: Path) -> Table:
    text, encoding = decode(path.read_bytes())
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0] if sample else ",", delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(f"{path}: the file is empty; the first line must name the columns.") from None
    columns = tuple(normalise_column(h) for h in header)
    rows = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        cells: dict[str, Any] = {c: (record[i] if i < len(record) else None) for i, c in enumerate(columns) if c}
        if len(record) > len(columns):
            cells["__extra__"] = record[len(columns):]
        if len(record) < len(columns):
            cells["__short__"] = len(record)
        rows.append((line, cells))
    notes = (f"read as {encoding}",) if encoding == "cp1251" else ()
    return Table(str(path), columns, rows, encoding, delimiter, notes)


def _read_parquet(path: Path) -> Table:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for broken files
        raise InputFileError(f"{path}: not a readable Parquet file ({exc}).") from None
    columns = tuple(normalise_column(c) for c in table.column_names)
    rows = [(i, {columns[j]: v for j, v in enumerate(r.values())})
            for i, r in enumerate(table.to_pylist(), start=1)]
    return Table(str(path), columns, rows)


def _read_json(path: Path) -> Table:
    text, encoding = decode(path.read_bytes())
    records: list[Any]
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{path}, line {number}: not JSON ({exc.msg}).") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}).") from None
        found = data.get("rows", data.get("data")) if isinstance(data, dict) else data
        records = found if isinstance(found, list) else []
        if not isinstance(found, list):
            raise InputFileError(f"{path}: expected a list of objects (or {{\"rows\": [...]}}).")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputFileError(f"{path}: expected a list of objects (or {{\"rows\": [...]}}).")
    columns: list[str] = []
    rows = []
    for i, record in enumerate(records, start=1):
        cells = {normalise_column(k): v for k, v in record.items()}
        for c in cells:
            if c not in columns:
                columns.append(c)
        rows.append((i, cells))
    return Table(str(path), tuple(columns), rows, encoding)
