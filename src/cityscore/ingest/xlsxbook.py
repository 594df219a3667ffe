"""The parts of an XLSX workbook other than its rows: sheets, relationships, shared strings, date styles.

:class:`Book` reads ``xl/workbook.xml`` (found through ``_rels/.rels``) and its relationships, the shared strings and
the number formats of the cell styles (openpyxl's rules decide which formats are dates or durations). A file that is
not a ZIP archive, an old ``.xls`` or a password-protected workbook, an archive without a workbook and a part that
is not well-formed XML or cannot be decompressed are :class:`InputFileError` saying what to do.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from xml.parsers import expat

from .tabular import InputFileError

CHUNK = 1 << 20
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .xls and of password-protected workbooks
REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)$")
DAMAGED = "open it in Excel or LibreOffice, save it and send it again"


class Book:
    """What the sheets of a workbook need: their parts, the shared strings, the date styles and the epoch."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path = path
        self.sheets: list[tuple[str, str | None, str]] = []  # (name, part or None, why it cannot be read)
        names = set(zf.namelist())
        root = _relationships(zf, "_rels/.rels", "", path)
        workbook = next((t for kind, t in root.values() if kind.endswith("/officeDocument")), "xl/workbook.xml")
        if workbook not in names:
            raise InputFileError(f"{path}: a ZIP archive but not an Excel workbook (it has no {workbook}); save it "
                                 "from Excel or LibreOffice as .xlsx (Excel Workbook).")
        base = posixpath.dirname(workbook)
        rels = _relationships(zf, posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels"), base, path)
        self.epoch = datetime(1899, 12, 30)
        for tag, attrs, _ in elements(read(zf, workbook, path), {"sheet", "workbookPr"}, path, workbook):
            if tag == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
                self.epoch = datetime(1904, 1, 1)
            elif tag == "sheet":
                rid = next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), "")
                kind, target = rels.get(rid, ("", ""))
                name = attrs.get("name", "?")
                if not kind.endswith("/worksheet"):
                    self.sheets.append((name, None, "a chart or dialog sheet, not a table"))
                elif target not in names:
                    self.sheets.append((name, None, f"its part {target} is missing from the file"))
                else:
                    self.sheets.append((name, target, ""))
        part = next((t for kind, t in rels.values() if kind.endswith("/sharedStrings")), f"{base}/sharedStrings.xml")
        self.strings = _shared_strings(zf, part, path) if part in names else []
        part = next((t for kind, t in rels.values() if kind.endswith("/styles")), f"{base}/styles.xml")
        self.dates = _date_styles(read(zf, part, path), path, part) if part in names else {}


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        with path.open("rb") as f:
            head = f.read(8)
        if head == OLE2:
            raise InputFileError(f"{path}: an Excel 97–2003 workbook (.xls) or a password-protected one, not .xlsx; "
                                 "save it from Excel or LibreOffice as .xlsx (Excel Workbook) without a password."
                                 ) from None
        raise InputFileError(f"{path}: not an Excel workbook (an .xlsx file is a ZIP archive; this one is not); "
                             "save it from Excel or LibreOffice as .xlsx (Excel Workbook).") from None


def chunks(zf: zipfile.ZipFile, part: str, path: Path) -> Iterator[bytes]:
    """The decompressed bytes of ``part``, a megabyte at a time."""
    try:
        with zf.open(part) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, RuntimeError, NotImplementedError) as exc:
        raise InputFileError(f"{path}: the workbook is damaged ({part}: {exc}); {DAMAGED}.") from None


def read(zf: zipfile.ZipFile, part: str, path: Path) -> bytes:
    return b"".join(chunks(zf, part, path))


def elements(data: bytes, wanted: set[str], path: Path, part: str) -> list[tuple[str, dict[str, str], str]]:
    """(tag, attributes, parent tag) of the elements named ``wanted``; tags without their namespace prefix."""
    found: list[tuple[str, dict[str, str], str]] = []
    stack: list[str] = [""]

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag in wanted:
            found.append((tag, attrs, stack[-1]))
        stack.append(tag)

    def end(name: str) -> None:
        stack.pop()

    _parse(data, path, part, start, end)
    return found


def _parse(data: bytes, path: Path, part: str, start: Callable[[str, dict[str, str]], None],
           end: Callable[[str], None], chars: Callable[[str], None] | None = None) -> None:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    if chars is not None:
        parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise InputFileError(f"{path}: the workbook is damaged ({part} is not well-formed XML: line {exc.lineno}, "
                             f"{expat.ErrorString(exc.code)}); {DAMAGED}.") from None


def _relationships(zf: zipfile.ZipFile, part: str, base: str, path: Path) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, part path inside the archive)."""
    if part not in zf.NameToInfo:
        return {}
    out = {}
    for _, attrs, _ in elements(read(zf, part, path), {"Relationship"}, path, part):
        target = attrs.get("Target", "")
        target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        out[attrs.get("Id", "")] = (attrs.get("Type", ""), target)
    return out


def _shared_strings(zf: zipfile.ZipFile, part: str, path: Path) -> list[str]:
    """The text of every ``<si>``: its ``<t>`` and rich-text runs, without phonetic (``<rPh>``) runs."""
    strings: list[str] = []
    parts: list[str] = []
    state = {"t": False, "phonetic": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "si":
            parts.clear()
        elif tag == "rPh":
            state["phonetic"] = True
        elif tag == "t" and not state["phonetic"]:
            state["t"] = True

    def end(name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "si":
            strings.append("".join(parts))
        elif tag == "rPh":
            state["phonetic"] = False
        elif tag == "t":
            state["t"] = False

    def chars(data: str) -> None:
        if state["t"]:
            parts.append(data)

    _parse(read(zf, part, path), path, part, start, end, chars)
    return strings


def _date_styles(data: bytes, path: Path, part: str) -> dict[str, bool]:
    """Style index (as written in ``s``) → whether its format is a duration (``[h]:mm``), for date/time styles."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    styles: list[int] = []
    for tag, attrs, parent in elements(data, {"numFmt", "xf"}, path, part):
        number = attrs.get("numFmtId", "0")
        if tag == "numFmt" and number.isdigit():
            formats[int(number)] = attrs.get("formatCode", "")
        elif tag == "xf" and parent == "cellXfs":
            styles.append(int(number) if number.isdigit() else 0)
    out = {}
    for index, number_format in enumerate(styles):
        code = formats.get(number_format)
        if code and is_date_format(code):
            out[str(index)] = bool(is_timedelta_format(code))
    return out


def ref_of(ref: str) -> tuple[int, int] | None:
    """``"C5"`` → (row 5, column 3); None for anything else."""
    match = REF.match(ref.strip())
    if match is None:
        return None
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column


def letters(column: int) -> str:
    """3 → ``"C"``."""
    out = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out
