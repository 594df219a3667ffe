"""Stream any input file as batches of text rows with their row numbers, without loading it whole.

CSV (UTF-8, UTF-8 with BOM or Windows-1251; any of ``, ; tab |``), XLSX (the data sheet, chosen by its header:
:mod:`.xlsx`), Parquet, JSON (a list of objects or ``{"rows": [...]}``: :mod:`.jsonread`) and NDJSON
(:mod:`.ndjson`), all streamed. Every cell arrives as text (or None); typing and checking happen later, in SQL, for
the whole file at once. Row numbers are what people see: the line of a CSV record (the header is line 1), the row
of a worksheet, the position of a JSON or Parquet record. Lines that are not valid in the file's
encoding, and records with too many or too few cells, are marked for rejection with their row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cells import cell_text, known_columns
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


# --- CSV (cityscore.ingest.csvrows) -------------------------------------------------------------------------
def _open_csv(path: Path, batch_rows: int) -> Source:
    from .csvrows import open_csv

    return open_csv(path, batch_rows)


def sniff_encoding(path: Path) -> str:
    """``utf-8-sig`` with a BOM, ``utf-8`` when the whole file is valid UTF-8, else ``cp1251``."""
    from .csvrows import sniff_encoding as whole_file

    return whole_file(path)


# --- XLSX (.xlsx), JSON (.jsonread), NDJSON (.ndjson) ------------------------------------------------------
def _open_xlsx(path: Path, batch_rows: int) -> Source:
    from .xlsx import open_xlsx

    return open_xlsx(path, batch_rows)


def _open_json(path: Path, batch_rows: int) -> Source:
    from .jsonread import open_json

    return open_json(path, batch_rows)


def _open_ndjson(path: Path, batch_rows: int) -> Source:
    from .ndjson import open_ndjson

    return open_ndjson(path, batch_rows)


# --- Parquet --------------------------------------------------------------------------------------------------
def _open_parquet(path: Path, batch_rows: int) -> Source:
    """A record batch at a time. A column of a nested type (struct, list, map) arrives as the JSON text of each
    value, and when it is a column the loader may use (:func:`.cells.known_columns`) every row with a value in it is
    rejected with ``nested-value``: nesting is the column's type, so a nested ``settlement`` is never right, while a
    nested column no table uses (``geometry``, ``tags``) must not reject every row. Values Arrow cannot cast to
    text (bytes that are not UTF-8 …) are converted one by one. Not Parquet, no columns, or two columns with one
    name (once normalised) → :class:`InputFileError`."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = list(parquet.schema_arrow.names)
    except Exception as exc:  # pyarrow raises several unrelated types for broken files
        raise InputFileError(f"{path}: not a readable Parquet file ({exc}); export it again as Parquet.") from None
    if not names:
        raise InputFileError(f"{path}: the Parquet file has no columns; export the table again.")
    header = [normalise_column(n) for n in names]
    repeated = [h for h in dict.fromkeys(header) if header.count(h) > 1]
    if repeated:
        same = "; ".join(" and ".join(f"'{n}'" for n, h in zip(names, header, strict=True) if h == r)
                         for r in repeated)
        raise InputFileError(f"{path}: several columns have the same name ({same}); give every column its own name "
                             "and export the file again.")
    known = known_columns()

    def batches() -> Iterator[RowBatch]:
        offset = 0
        try:
            for record_batch in parquet.iter_batches(batch_size=batch_rows):
                problems: dict[int, tuple[str, str]] = {}
                columns = [_parquet_cells(column, names[i], header[i] in known, offset, problems)
                           for i, column in enumerate(record_batch.columns)]
                rows = [(offset + i + 1, [col[i] for col in columns]) for i in range(record_batch.num_rows)]
                offset += record_batch.num_rows
                yield RowBatch(rows, problems)
        except Exception as exc:  # a damaged page or column chunk
            raise InputFileError(f"{path}: the Parquet file is damaged after row {offset} ({exc}); export it "
                                 "again.") from None

    return Source(path, "parquet", header, None, batches())


def _parquet_cells(column: Any, name: str, used: bool, offset: int,
                   problems: dict[int, tuple[str, str]]) -> list[str | None]:
    import pyarrow as pa

    kind = column.type
    if pa.types.is_boolean(kind):
        return [None if v is None else ("true" if v else "false") for v in column.to_pylist()]
    if pa.types.is_nested(kind):
        values = column.to_pylist()
        for i, value in enumerate(values):
            if used and value is not None:
                problems.setdefault(offset + i + 1, ("nested-value", f"column '{name}' holds a nested value ({kind}); "
                                                     "use one plain value per column"))
        return [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in values]
    try:
        return list(column.cast(pa.string()).to_pylist())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        cells: list[str | None] = []
        for i, value in enumerate(column.to_pylist()):
            if isinstance(value, bytes):
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError:
                    if used:
                        problems.setdefault(offset + i + 1, ("encoding", f"column '{name}' holds bytes that are not "
                                                             "UTF-8 text"))
                    value = value.decode("utf-8", "backslashreplace")
            cells.append(cell_text(value))
        return cells


_text = cell_text  # the former name
