"""NDJSON files, streamed one line at a time (twice: the header is the union of the keys of all lines).

Row numbers are line numbers; blank lines are not records. Per row: a line that is not JSON → ``not-json``; one not
valid in the file's encoding → ``encoding``; not an object → ``not-an-object``; a nested value → ``nested-value``.
A line nested deeper than the json module goes (``RecursionError``) is read event by event with ijson, so it is one
rejected row, never a crash. Values become text as in :mod:`.jsonread`. Whole file (:class:`InputFileError`): empty,
NUL bytes (binary data or UTF-16), or no line of it is JSON.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import ijson

from .cells import known_columns
from .jsonread import Record, nested_problem, not_an_object, read_record, scalar_text, sniff
from .reading import RowBatch, Source
from .tabular import InputFileError, normalise_column


def _lines(path: Path, encoding: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text or None when it is not valid in ``encoding``), blank lines left out."""
    codec = "cp1251" if encoding == "cp1251" else "utf-8"
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                yield number, raw.decode(codec)
            except UnicodeDecodeError:
                yield number, None


def _lineread_record(text: str, names: dict[str, str]) -> tuple[Record, bool]:
    """The record on one line, and whether the line is JSON."""
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=str)
    except RecursionError:  # nested deeper than the json module goes: read it event by event
        return _deep_line(text, names)
    except ValueError as exc:  # JSONDecodeError, and integers with more digits than Python converts
        reason = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        return ({}, ("not-json", f"the line is not JSON ({reason})")), False
    if not isinstance(value, dict):
        kind = ("a list" if isinstance(value, list) else "a string" if isinstance(value, str) else "null"
                if value is None else "true/false" if isinstance(value, bool) else "a number")
        return ({}, not_an_object(kind)), True
    cells: dict[str, str | None] = {}
    nested = []
    for key, item in value.items():
        name = names.get(key) or names.setdefault(key, normalise_column(key))
        if isinstance(item, dict | list):
            if name in known_columns():  # as in JSON: only where a table may look
                nested.append(key)
            cells[name] = None
        else:
            cells[name] = scalar_text(item)
    return (cells, nested_problem(nested) if nested else None), True


def _deep_line(text: str, names: dict[str, str]) -> tuple[Record, bool]:
    try:
        events = iter(ijson.basic_parse(io.BytesIO(text.encode("utf-8"))))
        event, value = next(events)
        record = read_record(event, value, events, names)
        for _ in events:
            pass
        return record, True
    except Exception as exc:  # ijson's JSONError and the like
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return ({}, ("not-json", f"the line is not JSON ({reason})")), False


def open_ndjson(path: Path, batch_rows: int) -> Source:
    encoding = sniff(path)
    names: dict[str, str] = {}
    header: dict[str, None] = {}
    lines = good = 0
    first_problem = ""
    for number, text in _lines(path, encoding):
        lines += 1
        if text is None:
            first_problem = first_problem or f"line {number} is not valid {encoding}"
            continue
        (cells, problem), is_json = _lineread_record(text, names)
        good += is_json
        if not is_json and not first_problem and problem:
            first_problem = f"line {number}: {problem[1]}"
        header.update(dict.fromkeys(cells))
    if not lines:
        raise InputFileError(f"{path}: the file is empty; it must hold one JSON object per line.")
    if not good:
        raise InputFileError(f"{path}: not NDJSON: no line of the file is JSON ({first_problem}). An NDJSON file holds "
                             "one JSON object per line.")
    columns = list(header)
    bad_encoding = (f"the line is not valid {encoding.upper()}: the file mixes encodings; save it as UTF-8 and send "
                    "it again")

    def batches() -> Iterator[RowBatch]:
        batch = RowBatch([])
        for number, text in _lines(path, encoding):
            cells: dict[str, str | None] = {}
            problem: tuple[str, str] | None = ("encoding", bad_encoding)
            if text is not None:
                (cells, problem), _ = _lineread_record(text, names)
            batch.rows.append((number, [cells.get(c) for c in columns]))
            if problem:
                batch.problems[number] = problem
            if len(batch.rows) >= batch_rows:
                yield batch
                batch = RowBatch([])
        if batch.rows:
            yield batch

    notes = [f"read as {encoding}"] if encoding == "cp1251" else []
    return Source(path, "ndjson", columns, encoding, batches(), notes)
