"""The exact CSV reader, row by row in Python: for value files, and for a CSV whose quoted values span lines.

Lines are decoded one by one: UTF-8 when valid, else Windows-1251 (decisions.md D-40); a line that is neither is
kept, decoded with replacement characters, and marked for rejection (``encoding``). Line ends may be LF, CRLF or CR
alone. A record is assembled from lines while a quoted value is open; a quote left open for more than
``MAX_RECORD_LINES`` lines (or to the end of the file) is a broken line: it is rejected (``malformed-csv``) and
reading resumes on the next line, so one stray quote never swallows the rest of the file. Row numbers are the line on
which a record starts (the header is line 1).
"""

from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from .csvsource import _iter_chunks
from .reading import BATCH_ROWS, RowBatch, Source
from .tabular import InputFileError, normalise_column

MAX_RECORD_LINES = 50


def sniff_encoding(path: Path) -> str:
    """``utf-8-sig`` with a BOM, ``utf-8`` when the whole file is valid UTF-8, else ``cp1251``."""
    with path.open("rb") as f:
        head = f.read(3)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


def _cr_only(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(1 << 16)
    return b"\n" not in head and b"\r" in head


def _lines(path: Path, encoding: str, bad: dict[int, str]) -> Iterator[str]:
    """Decoded lines (without their line end); a line in neither encoding is decoded with replacement and its
    number kept in ``bad``."""
    number = 0
    for chunk in _iter_chunks(path, _cr_only(path)):
        parts = chunk.split(b"\n")
        if chunk.endswith(b"\n"):
            parts.pop()
        for raw in parts:
            number += 1
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            raw = raw.removesuffix(b"\r")
            yield _decode(raw, number, encoding, bad)


def _decode(raw: bytes, number: int, encoding: str, bad: dict[int, str]) -> str:
    if raw.isascii():
        return raw.decode("ascii")
    if encoding in ("auto", "utf-8", "utf-8-sig"):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            if encoding != "auto":
                bad[number] = "the line is not valid UTF-8: save the file as UTF-8 and send it again"
                return raw.decode("utf-8", errors="replace")
    try:
        return raw.decode("cp1251")
    except UnicodeDecodeError:
        bad[number] = ("the line is neither UTF-8 nor Windows-1251 (the file mixes encodings or is damaged); save it "
                       "as UTF-8 and send it again")
        return raw.decode("cp1251", errors="replace")


def open_csv(path: Path, batch_rows: int = BATCH_ROWS, *, encoding: str = "auto") -> Source:
    """Open any CSV file (delimiter sniffed from the header line)."""
    bad: dict[int, str] = {}
    lines = _lines(path, encoding, bad)
    first = next(lines, None)
    if first is None or not first.strip():
        raise InputFileError(f"{path}: the file is empty; its first line must name the columns.")
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    header = [normalise_column(h) for h in next(csv.reader([first], delimiter=delimiter))]
    src = _rows(path, lines, delimiter, header, bad, batch_rows)
    src.encoding = "cp1251" if encoding == "cp1251" else sniff_encoding(path)
    if src.encoding == "cp1251":
        src.notes.append("read as cp1251")
    return src


def open_csv_rows(path: Path, delimiter: str, header: list[str], *, encoding: str = "utf-8",
                  batch_rows: int = BATCH_ROWS) -> Source:
    """Rows of a CSV whose delimiter and header are known (the header line is skipped)."""
    bad: dict[int, str] = {}
    lines = _lines(path, encoding, bad)
    next(lines, None)
    return _rows(path, lines, delimiter, header, bad, batch_rows)


def _rows(path: Path, lines: Iterator[str], delimiter: str, header: list[str], bad: dict[int, str],
          batch_rows: int) -> Source:
    width = len(header)

    def records() -> Iterator[tuple[int, list[str] | None, str | None]]:
        """(start line, cells or None for a broken line, problem)."""
        broken = "a quoted value does not end with a quote"
        queue: deque[tuple[int, str]] = deque()
        pending: list[tuple[int, str]] = []
        numbered = enumerate(lines, start=2)
        while True:
            if not queue:
                item = next(numbered, None)
                if item is None:
                    if not pending:
                        return
                    start, _ = pending.pop(0)  # the end of the file with a quote still open
                    yield start, None, broken
                    queue.extend(pending)
                    pending = []
                    continue
                queue.append(item)
            pending.append(queue.popleft())
            joined = "\n".join(t for _, t in pending)
            if joined.count('"') % 2 == 0:
                yield pending[0][0], _split(joined, delimiter), None
                pending = []
            elif len(pending) > MAX_RECORD_LINES:
                start, _ = pending.pop(0)
                yield start, None, broken
                queue.extendleft(reversed(pending))  # read the lines after the broken one again, one by one
                pending = []

    def batches() -> Iterator[RowBatch]:
        batch = RowBatch([])
        for start, record, problem in records():
            if record is not None and not any(cell.strip() for cell in record):
                continue
            if record is None:
                batch.problems[start] = ("malformed-csv", problem or "the line cannot be read as CSV")
                batch.rows.append((start, [None] * width))
            else:
                if start in bad:
                    batch.problems[start] = ("encoding", bad[start])
                elif len(record) > width:
                    batch.problems[start] = ("extra-cells", f"{len(record)} cells but {width} columns; check the "
                                                            "separators and quotes")
                elif len(record) < width:
                    batch.problems[start] = ("short-row", f"only {len(record)} of {width} cells; the line may be "
                                                          "cut off")
                batch.rows.append((start, list(record[:width]) + [None] * (width - len(record))))
            if len(batch.rows) >= batch_rows:
                yield batch
                batch = RowBatch([])
        if batch.rows:
            yield batch

    return Source(path, "csv", header, "utf-8", batches())


def _split(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=False), [])
    except csv.Error:
        return []
