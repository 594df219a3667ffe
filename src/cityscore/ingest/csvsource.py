"""A CSV file made ready for DuckDB's reader: its encoding decided over the whole file, its lines counted.

DuckDB reads UTF-8 only, so a file is first looked at whole, in large chunks:

- a chunk that is valid UTF-8 is UTF-8;
- otherwise each of its lines is UTF-8 when it is valid UTF-8, else Windows-1251 (the usual Cyrillic export); a
  line that is neither (a byte that Windows-1251 leaves undefined) is marked for rejection (``encoding``). Which
  lines were read in which encoding is reported (decisions.md D-40). ``--encoding utf-8`` or ``cp1251`` turns the
  fallback off: every line that is not valid in the encoding given is rejected.

A file that needs no change (UTF-8, lines ending in LF or CRLF) is read by DuckDB in place; any other (Windows-1251
lines, a BOM, CR-only line ends) is transcoded to a UTF-8 copy in the staging directory, line for line, so that row
numbers stay those of the original.

The physical lines are counted on the way, with the numbers of the blank lines, so that the loader can check that
DuckDB's records are the file's lines one for one (no quoted value spans lines) before it numbers the rows; a file
where they are not is read by the exact Python reader instead (slower, same report).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .tabular import InputFileError, normalise_column

CHUNK = 1 << 24  # 16 MiB
ENCODINGS = ("auto", "utf-8", "cp1251")
_BLANK_AFTER = re.compile(rb"\n(?=[ \t]*\r?(?:\n|$))")  # a newline followed by a blank line
_CYRILLIC_UTF8 = re.compile(rb"[\xd0\xd1\xd2\xd3][\x80-\xbf]")  # what UTF-8 Cyrillic looks like in bytes


@dataclass
class CsvFile:
    """What the loader needs to read ``original`` with DuckDB (``path``: the file to read, UTF-8)."""

    original: Path
    path: Path
    delimiter: str
    header: list[str]
    encoding: str  # what the file was found to be: utf-8, utf-8-sig, cp1251 or mixed
    physical_lines: int
    blank_lines: list[int] = field(default_factory=list)
    bad_lines: dict[int, str] = field(default_factory=dict)  # line → encoding problem
    notes: list[str] = field(default_factory=list)

    @property
    def transcoded(self) -> bool:
        return self.path != self.original


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head[:4096] if b < 32 and b not in (9, 10, 13))
    return controls > max(8, len(head[:4096]) // 100)


def prepare_csv(path: Path, workdir: Path, *, encoding: str = "auto") -> CsvFile:
    """Decide the encoding, count lines, transcode when needed; raise :class:`InputFileError` for a file that is not
    a text table at all."""
    if encoding not in ENCODINGS:
        raise InputFileError(f"--encoding {encoding}: use one of {', '.join(ENCODINGS)}.")
    with path.open("rb") as f:
        head = f.read(1 << 16)
    if not head.strip():
        raise InputFileError(f"{path}: the file is empty; its first line must name the columns.")
    if _looks_binary(head):
        raise InputFileError(f"{path}: this is not a text file (it holds binary data); send the table as CSV "
                             "(UTF-8 or Windows-1251), XLSX, Parquet or JSON.")
    cr_only = b"\n" not in head and b"\r" in head
    bom = head.startswith(codecs.BOM_UTF8)
    scan = _scan(path, encoding, cr_only)
    needs_copy = bom or cr_only or scan.non_utf8_lines > 0 or encoding == "cp1251"
    target = path
    if needs_copy:
        target = workdir / "transcoded.csv"
        scan = _transcode(path, target, encoding, cr_only)
    header_line = scan.first_line
    try:
        delimiter = csv.Sniffer().sniff(header_line, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    header = [normalise_column(h) for h in next(csv.reader([header_line], delimiter=delimiter))]
    if not any(header):
        raise InputFileError(f"{path}: the first line names no columns.")
    if scan.non_utf8_lines and scan.utf8_non_ascii_lines:
        found = "mixed"
    elif scan.non_utf8_lines or encoding == "cp1251":
        found = "cp1251"
    else:
        found = "utf-8-sig" if bom else "utf-8"
    notes = []
    if found == "cp1251":
        notes.append("read as cp1251")
    elif found == "mixed":
        notes.append("mixed encodings: the lines that are not valid UTF-8 were read as Windows-1251; save the file "
                     "as UTF-8 to be sure")
    if cr_only:
        notes.append("lines end in CR only (old Mac style); read as lines")
    return CsvFile(path, target, delimiter, header, found, scan.lines, scan.blank, scan.bad, notes)


@dataclass
class _Scan:
    lines: int = 0
    blank: list[int] = field(default_factory=list)
    bad: dict[int, str] = field(default_factory=dict)
    non_utf8_lines: int = 0
    utf8_non_ascii_lines: int = 0
    first_line: str = ""


def _iter_chunks(path: Path, cr_only: bool) -> Iterator[bytes]:
    """Chunks of whole lines (each ends with LF, but perhaps the last)."""
    rest = b""
    with path.open("rb") as f:
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            if cr_only:
                data = data.replace(b"\r", b"\n")
            data = rest + data
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1:]
            yield data[: cut + 1]
    if rest:
        yield rest


def _count(scan: _Scan, chunk: bytes) -> None:
    """Lines and blank lines of one chunk (the chunk starts at a line start)."""
    start_line = scan.lines + 1
    end = chunk.find(b"\n")
    first = chunk if end < 0 else chunk[:end]
    if scan.lines == 0:
        scan.first_line = _decode_line(first.rstrip(b"\r").removeprefix(codecs.BOM_UTF8))
    elif not first.strip(b" \t\r"):
        scan.blank.append(start_line)  # a blank line at the very start of the chunk
    for match in _BLANK_AFTER.finditer(chunk):
        position = match.start()
        if position + 1 >= len(chunk):
            continue  # the chunk ends here: the next chunk's first line is looked at with that chunk
        scan.blank.append(start_line + chunk.count(b"\n", 0, position) + 1)
    scan.lines += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1251", errors="replace")


def _scan(path: Path, encoding: str, cr_only: bool) -> _Scan:
    """Count lines and find out whether every chunk is UTF-8 (the common case: nothing to transcode)."""
    scan = _Scan()
    for chunk in _iter_chunks(path, cr_only):
        if encoding != "cp1251":
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError:
                scan.non_utf8_lines += 1  # at least one; the exact counts come from _transcode
        _count(scan, chunk)
    return scan


def _transcode(path: Path, target: Path, encoding: str, cr_only: bool) -> _Scan:
    """Write ``target`` in UTF-8, line for line; find the lines that are in neither encoding."""
    scan = _Scan()
    with target.open("wb") as out:
        for number, chunk in enumerate(_iter_chunks(path, cr_only)):
            if number == 0:
                chunk = chunk.removeprefix(codecs.BOM_UTF8)
            first_line = scan.lines + 1
            _count(scan, chunk)
            out.write(_transcode_chunk(chunk, first_line, encoding, scan))
    return scan


def _transcode_chunk(chunk: bytes, first_line: int, encoding: str, scan: _Scan) -> bytes:
    if encoding != "cp1251":
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if not text.isascii():
                scan.utf8_non_ascii_lines += 1
            return chunk
    if encoding == "cp1251" or (encoding == "auto" and not _CYRILLIC_UTF8.search(chunk)):
        try:  # the whole chunk in Windows-1251: one call
            text = chunk.decode("cp1251")
        except UnicodeDecodeError:
            pass
        else:
            scan.non_utf8_lines += 1  # at least one line of this chunk
            return text.encode("utf-8")
    out = []
    for offset, line in enumerate(chunk.split(b"\n")):
        out.append(_transcode_line(line, first_line + offset, encoding, scan))
    return b"\n".join(out)


def _transcode_line(line: bytes, number: int, encoding: str, scan: _Scan) -> bytes:
    if line.isascii():
        return line
    if encoding != "cp1251":
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            scan.utf8_non_ascii_lines += 1
            return line
        if encoding == "utf-8":
            scan.bad[number] = "the line is not valid UTF-8: save the file as UTF-8 and send it again"
            return line.decode("utf-8", errors="replace").encode("utf-8")
    try:
        text = line.decode("cp1251")
    except UnicodeDecodeError:
        scan.bad[number] = ("the line is neither UTF-8 nor Windows-1251 (the file mixes encodings or is damaged); "
                            "save it as UTF-8 and send it again")
        return line.decode("cp1251", errors="replace").encode("utf-8")
    scan.non_utf8_lines += 1
    return text.encode("utf-8")
