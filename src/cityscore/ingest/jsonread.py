"""JSON files, streamed: memory stays bounded whatever the number of records or the depth of nesting.

A JSON file — a list of objects, or an object whose ``"rows"`` member (else its ``"data"`` member) is one — is read
with ijson's event parser in two passes: the first checks the whole file is JSON and collects the header (the union
of the keys, normalised, in order of first appearance), the second yields the rows. Row numbers are the records'
positions, 1-based. NDJSON (:mod:`.ndjson`) shares the value rules and the encoding rule.

Per row (the row is yielded and rejected with the code): a record that is not an object → ``not-an-object``; a value
that is an object or a list → ``nested-value`` naming the keys. Nested values are skipped event by event, never
built, so a record of 100 000 nested lists is one rejected row, not a ``RecursionError``.

Whole file (:class:`InputFileError`): invalid JSON anywhere, named by line and column (files up to 8 MiB) or by the
record after which it comes. The rows before it are not kept: a file is stored whole or not at all, and a list that
breaks off cannot say how many rows it had (the first pass finds the error before anything is staged). Also: an
empty file, NUL bytes (binary data or UTF-16), bytes not valid in the encoding, a file that is not a list of records.

Values become text: numbers as written (``1.0`` → ``1``; ijson gives decimals, never floats), ``true``/``false``,
null → empty. The ``NaN``, ``Infinity`` and ``-Infinity`` that Python's json module writes (they are not JSON) arrive
as that text, and ``1e400`` as ``1E+400``: text a number check must reject, never a float value.

Encoding: UTF-8 with or without BOM; Windows-1251 when the first 64 KiB are not UTF-8 and most of their non-ASCII
lines are not either (the rule of the CSV reader), transcoded as read.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import ijson

from .cells import known_columns
from .reading import RowBatch, Source
from .tabular import InputFileError, normalise_column

SNIFF = 1 << 16
CHUNK = 1 << 16
LOCATE_LIMIT = 8 << 20  # invalid JSON in a file up to this size is located by line and column
STARTS, ENDS = ("start_map", "start_array"), ("end_map", "end_array")
Record = tuple[dict[str, str | None], tuple[str, str] | None]  # cells by normalised key, problem
FLAT = "use a flat object: one value per column"


def sniff(path: Path) -> str:
    """``utf-8-sig`` with a BOM; ``utf-8`` when the first 64 KiB decode; else the CSV reader's majority rule."""
    with path.open("rb") as f:
        head = f.read(SNIFF)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in head:
        raise InputFileError(f"{path}: not a text file (it holds NUL bytes: binary data, or UTF-16 text); save it as "
                             "UTF-8 JSON and send it again.")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    lines = head.split(b"\n")[:-1] if len(head) == SNIFF else head.split(b"\n")
    bad = sum(1 for line in lines if not _decodes(line))
    return "cp1251" if bad > sum(1 for line in lines if not line.isascii()) - bad else "utf-8"


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# --- values ---------------------------------------------------------------------------------------------------
def scalar_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and abs(value) < 10 ** 18:
            return str(int(value))
        return str(value)
    return str(value)


def _skip(events: Iterator[tuple[str, Any]]) -> None:
    """Consume the rest of an object or list whose start event was just read."""
    depth = 1
    for event, _ in events:
        if event in STARTS:
            depth += 1
        elif event in ENDS:
            depth -= 1
            if depth == 0:
                return


def not_an_object(kind: str) -> tuple[str, str]:
    return "not-an-object", f"the record is {kind}, not a JSON object; each record must be {{\"column\": value, …}}"


def nested_problem(keys: list[str]) -> tuple[str, str]:
    listing = ", ".join(f"'{k}'" for k in keys)
    return "nested-value", f"{listing} {'holds' if len(keys) == 1 else 'hold'} an object or a list; {FLAT}"


def read_record(event: str, value: Any, events: Iterator[tuple[str, Any]], names: dict[str, str]) -> Record:
    """One record from its first event; ``names`` caches the normalised keys."""
    if event != "start_map":
        if event in STARTS:
            _skip(events)
        return {}, not_an_object({"start_array": "a list", "string": "a string", "null": "null",
                                   "boolean": "true/false"}.get(event, "a number"))
    cells: dict[str, str | None] = {}
    nested: list[str] = []
    for event, key in events:
        if event == "end_map":
            break
        name = names.get(key) or names.setdefault(key, normalise_column(key))
        event, value = next(events)
        if event in STARTS:
            _skip(events)
            if name in known_columns():  # a nested value where no table looks (extended_attributes …) is no fault
                nested.append(key)
            cells[name] = None
        else:
            cells[name] = scalar_text(value)
    return cells, nested_problem(nested) if nested else None


# --- JSON -----------------------------------------------------------------------------------------------------
CONSTANT = re.compile(rb'"|NaN|-?Infinity')
STRING_END = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.S)
STRING_PART = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)


class Utf8Stream:
    """The file's bytes as ijson needs them: BOM dropped, Windows-1251 transcoded, UTF-8 checked, and (``quote``)
    the bare ``NaN``, ``Infinity`` and ``-Infinity`` outside strings written as strings."""

    def __init__(self, f: IO[bytes], path: Path, encoding: str, quote: bool) -> None:
        self.f, self.path, self.encoding, self.quote = f, path, encoding, quote
        self.decoder = codecs.getincrementaldecoder("cp1251" if encoding == "cp1251" else "utf-8")()
        self.offset = 0
        self.in_string = False
        self.carry = b""

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        while True:
            raw = self.f.read(CHUNK)
            if self.offset == 0 and raw.startswith(codecs.BOM_UTF8):
                raw, self.offset = raw[3:], 3
            try:
                text = self.decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                name = "Windows-1251" if self.encoding == "cp1251" else "UTF-8"
                raise InputFileError(f"{self.path}: byte {self.offset + exc.start + 1} is not valid {name} text; "
                                     "save the file as UTF-8 and send it again.") from None
            self.offset += len(raw)
            data = text.encode("utf-8") if self.encoding == "cp1251" else raw
            if self.quote:
                data = self._quote(self.carry + data, final=not raw)
            if data or not raw:
                return data

    def _quote(self, data: bytes, final: bool) -> bytes:
        out: list[bytes] = []
        i, self.carry = 0, b""
        while i < len(data):
            if self.in_string:
                match = STRING_END.match(data, i)
                if match is None:  # the string goes on in the next chunk; keep a trailing backslash with it
                    end = STRING_PART.match(data, i).end()  # type: ignore[union-attr]
                    out.append(data[i:end])
                    self.carry = data[end:] if not final else b""
                    if final:
                        out.append(data[end:])
                    break
                out.append(data[i:match.end()])
                i, self.in_string = match.end(), False
                continue
            found = CONSTANT.search(data, i)
            if found is None:
                rest = data[i:]
                keep = 0 if final else len(rest) - len(rest.rstrip(b"-NaInfity"))
                out.append(rest[: len(rest) - keep])
                self.carry = rest[len(rest) - keep:]
                break
            out.append(data[i:found.start()])
            token = found.group()
            if token == b'"':
                out.append(token)
                self.in_string = True
            else:
                out.append(b'"' + token + b'"')
            i = found.end()
        return b"".join(out)


def _scan(path: Path) -> bool:
    """Whether the file holds ``NaN`` or ``Infinity`` (then they are quoted as it is read). A run of more digits
    than Python converts to an integer is refused here: ijson's C parser leaves that error pending, to surface later
    at an unrelated call."""
    limit = sys.get_int_max_str_digits()
    too_long = re.compile(rb"[0-9]{%d,}" % (limit + 1)) if limit else None
    constants, offset, carry = False, 0, b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            window = carry + chunk
            constants = constants or b"NaN" in window or b"Infinity" in window
            found = too_long.search(window) if too_long else None
            if found:
                start = offset - len(carry) + found.start()
                raise InputFileError(f"{path}: byte {start + 1} starts a run of more than {limit} digits, longer than "
                                     "any number may be; correct the file and send it again.")
            digits = len(window) - len(window.rstrip(b"0123456789"))
            carry = window[-max(8, digits):]
            offset += len(chunk)
    return constants


def _lists(events: Iterator[tuple[str, Any]], path: Path) -> Iterator[tuple[str | None, Iterator[tuple[str, Any]]]]:
    """The lists of records in the file: (None, events) for a top-level list, ("rows"/"data", events) for those
    members of a top-level object; the events start after the list's ``start_array``."""
    event, _ = next(events, ("", None))
    if event == "start_array":
        yield None, events
        return
    if event == "start_map":
        for event, key in events:
            if event == "end_map":
                return
            event, _ = next(events)
            if key in ("rows", "data") and event == "start_array":
                yield key, events
            elif event in STARTS:
                _skip(events)
        return
    raise InputFileError(f"{path}: expected a list of objects (or {{\"rows\": [...]}}); the file holds a single "
                         "value.")


def _records(events: Iterator[tuple[str, Any]], names: dict[str, str]) -> Iterator[Record]:
    for event, value in events:
        if event == "end_array":
            return
        yield read_record(event, value, events, names)


class JsonPass:
    """One pass over a JSON file's events, turning the parser's errors into :class:`InputFileError`."""

    def __init__(self, path: Path, encoding: str, quote: bool) -> None:
        self.path, self.encoding, self.quote = path, encoding, quote
        self.records = 0

    def lists(self) -> Iterator[tuple[str | None, Iterator[Record]]]:
        names: dict[str, str] = {}
        with self.path.open("rb") as f:
            events = ijson.basic_parse(Utf8Stream(f, self.path, self.encoding, self.quote))
            try:
                for key, list_events in _lists(events, self.path):
                    yield key, self._counted(_records(list_events, names))
                for _ in events:  # what follows the lists: ijson checks it is JSON too
                    pass
            except InputFileError:
                raise
            except Exception as exc:  # ijson's JSONError, and ValueError/SystemError for numbers it cannot convert
                raise self._error(exc) from None

    def _counted(self, records: Iterator[Record]) -> Iterator[Record]:
        """The records of a list; the parser's errors surface here, while the caller reads them."""
        try:
            for record in records:
                self.records += 1
                yield record
        except InputFileError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> InputFileError:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, InputFileError):  # raised by Utf8Stream.read, inside the parser
            return cause
        if isinstance(exc, SystemError) and cause is not None:  # ijson's C parser wraps e.g. a too long integer
            exc = cause if isinstance(cause, Exception) else exc
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = lines[0].removeprefix("b'").rstrip(".") if lines else type(exc).__name__
        near = f" near `{lines[1]}`" if len(lines) > 2 else ""
        where = _locate(self.path, self.encoding) or f"after record {self.records}"
        return InputFileError(f"{self.path}: not JSON {where} ({reason}{near}); nothing of the file was loaded. "
                              "Correct the file (a cut-off download or export?) and send it again.")


def _locate(path: Path, encoding: str) -> str | None:
    """Line and column of the first error, for files small enough to parse whole."""
    if path.stat().st_size > LOCATE_LIMIT:
        return None
    try:
        json.loads(path.read_bytes().decode("cp1251" if encoding == "cp1251" else "utf-8-sig", errors="replace"))
    except json.JSONDecodeError as exc:
        return f"at line {exc.lineno}, column {exc.colno}"
    except (ValueError, RecursionError):
        return None
    return None


def open_json(path: Path, batch_rows: int) -> Source:
    encoding = sniff(path)
    with path.open("rb") as f:
        if not f.read(SNIFF).strip(b" \t\r\n" + codecs.BOM_UTF8) and not f.read(1):
            raise InputFileError(f"{path}: the file is empty; it must hold a list of objects.")
    quote = _scan(path)
    first = JsonPass(path, encoding, quote)
    headers: dict[str | None, dict[str, None]] = {}
    for key, records in first.lists():
        keys = headers.setdefault(key, {})
        for cells, _ in records:
            keys.update(dict.fromkeys(cells))
    if not headers:
        raise InputFileError(f"{path}: expected a list of objects (or {{\"rows\": [...]}}); found no such list.")
    chosen = "rows" if "rows" in headers else next(iter(headers))
    header = list(headers[chosen])

    def batches() -> Iterator[RowBatch]:
        batch = RowBatch([])
        for key, records in JsonPass(path, encoding, quote).lists():
            if key != chosen:
                for _ in records:  # another list of the object: read past it
                    pass
                continue
            for number, (cells, problem) in enumerate(records, start=1):
                batch.rows.append((number, [cells.get(c) for c in header]))
                if problem:
                    batch.problems[number] = problem
                if len(batch.rows) >= batch_rows:
                    yield batch
                    batch = RowBatch([])
            break
        if batch.rows:
            yield batch

    notes = [f"read as {encoding}"] if encoding == "cp1251" else []
    if chosen is not None:
        notes.append(f"records of the member \"{chosen}\"")
    return Source(path, "json", header, encoding, batches(), notes)
