"""XLSX workbooks, read completely and streamed: the sheet's XML is parsed with expat as it is decompressed.

openpyxl's read-only mode is not used for the cells: it trusts the sheet's ``<dimension>`` tag (a workbook whose tag
says A1:H2 but which holds more rows yields only those), cannot give a formula and its cached value at once, and
does not see merged cells. Read here: ``xl/workbook.xml`` (the sheets, 1904 dates) and its relationships, the shared
strings (held in memory, as every reader must), the number formats of ``xl/styles.xml`` (which numbers are dates;
openpyxl's rules for date formats and serial dates are reused) and every ``<row>`` of a sheet's ``<sheetData>``.

* **The data sheet.** A sheet's header is its first non-empty row when every value in it is text. Of the sheets with
  a header, the one naming most known columns (any column or other header name of a raw table or value file, see
  :func:`.cells.known_columns`; ``settlement``/``като``/``город`` count like any other) is read, the earlier sheet
  on a tie; when no header names a known column, the first sheet with a header. Every other sheet is named in the
  notes with the reason it was skipped. No sheet with a header → :class:`InputFileError`.
* **Rows** are the worksheet's own numbers (what Excel shows, the ``r`` attribute), also where the XML skips rows; a
  row without ``r`` (or with one not after the previous row) follows the previous row. A data row is a row after
  the header with at least one value of its own; values right of the header's last column are not read.
* **Cells.** Text as written; numbers as :func:`.cells.cell_text` gives them (``3.0`` → ``3``); a number formatted
  as a date or time → ISO text (a serial outside the calendar stays a number); booleans ``true``/``false``.
  A formula with a cached value gives the value. A formula without one (written by a program that does not compute
  formulas) rejects the row: ``formula-without-value``, naming sheet, cell and formula. An error value (``#DIV/0!``,
  ``#N/A``, ``#REF!`` …) rejects the row: ``cell-error``.
* **Merged cells.** A merged range whose top-left cell is below the header gives every cell of the range the
  top-left value (and its problem, if any): "Алматы" merged over ten rows is the settlement of all ten. Whether a
  row is a data row is decided before this filling: a row holding nothing but the cover of a merged range is empty.
  Merged ranges on or above the header row are left as they are. Both are named in the notes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from xml.parsers import expat

from .cells import cell_text, known_columns
from .reading import RowBatch, Source
from .tabular import InputFileError, normalise_column
from .xlsxbook import DAMAGED, Book, chunks, letters, open_zip, ref_of

Cell = tuple[str | None, bool, tuple[str, str] | None]  # text, whether it is a text value, problem
Row = tuple[int, dict[int, Cell]]
MERGE = re.compile(rb'<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref="([^"]+)"')
END_OF_DATA = re.compile(rb"</(?:[\w.-]+:)?sheetData\s*>")


def open_xlsx(path: Path, batch_rows: int) -> Source:
    """The data sheet of the workbook at ``path`` as a :class:`Source` (see the module docstring)."""
    zf = open_zip(path)
    try:
        book = Book(path, zf)
        chosen, notes = _choose_sheet(zf, book)
        name, part, header_row, header = chosen
        merges, merge_notes = _merges(zf, part, header_row, len(header), book)
    finally:
        zf.close()

    def batches() -> Iterator[RowBatch]:
        with open_zip(path) as archive:
            batch = RowBatch([])
            for number, cells in _data_rows(archive, book, name, part, header_row, merges):
                values: list[str | None] = [None] * len(header)
                problems: list[tuple[str, str]] = []
                for column, (text, _, problem) in cells.items():
                    if column <= len(header):
                        values[column - 1] = text
                        if problem is not None:
                            problems.append(problem)
                batch.rows.append((number, values))
                if problems:
                    batch.problems[number] = (problems[0][0], "; ".join(dict.fromkeys(m for _, m in problems)))
                if len(batch.rows) >= batch_rows:
                    yield batch
                    batch = RowBatch([])
            if batch.rows:
                yield batch

    where = f"sheet '{name}'" + (f" (header in row {header_row})" if header_row != 1 else "")
    return Source(path, "xlsx", header, None, batches(), [where, *merge_notes, *notes])


# --- choosing the sheet ---------------------------------------------------------------------------------------
def _choose_sheet(zf: zipfile.ZipFile, book: Book) -> tuple[tuple[str, str, int, list[str]], list[str]]:
    skipped: list[tuple[str, str]] = []
    candidates: list[tuple[str, str, int, list[str]]] = []
    for name, part, why in book.sheets:
        if part is None:
            skipped.append((name, why))
            continue
        first = next((row for row in _rows(zf, part, book, name) if _has_value(row[1])), None)
        if first is None:
            skipped.append((name, "empty"))
            continue
        number, cells = first
        if not all(is_text for text, is_text, problem in cells.values() if problem or (text and text.strip())):
            skipped.append((name, f"its first row ({number}) holds numbers, dates or formulas, not column names"))
            continue
        width = max(c for c, (text, _, _) in cells.items() if text and text.strip())
        header = [normalise_column(cells[c][0]) if c in cells and cells[c][0] else "" for c in range(1, width + 1)]
        candidates.append((name, part, number, header))
    if not candidates:
        listing = "; ".join(f"'{n}': {why}" for n, why in skipped) or "it has no sheets"
        raise InputFileError(f"{book.path}: no sheet of the workbook starts with a row of column names ({listing}). "
                             "Put the column names (settlement, …) in the first row of the data sheet.")
    known = known_columns()
    scores = [sum(1 for h in header if h in known) for _, _, _, header in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    chosen = candidates[best]
    for i, (name, _, _, _) in enumerate(candidates):
        if i != best:
            reason = (f"the header of '{chosen[0]}' names more known columns" if scores[i] < scores[best] else
                      f"'{chosen[0]}' comes first" + ("" if scores[best] else " and no header names a known column"))
            skipped.append((name, f"not the data sheet ({reason})"))
    order = {name: i for i, (name, _, _) in enumerate(book.sheets)}
    return chosen, [f"sheet '{n}' skipped: {why}" for n, why in sorted(skipped, key=lambda s: order[s[0]])]


def _has_value(cells: dict[int, Cell]) -> bool:
    return any(problem is not None or (text is not None and text.strip()) for text, _, problem in cells.values())


# --- merged cells ---------------------------------------------------------------------------------------------
Merge = tuple[int, int, int, int]  # first row, first column, last row, last column


def _merges(zf: zipfile.ZipFile, part: str, header_row: int, width: int, book: Book) -> tuple[list[Merge], list[str]]:
    """The merged ranges of the sheet (listed after its rows: the XML is scanned once for them, without parsing)."""
    carry = b""
    after: list[bytes] | None = None  # what follows </sheetData>: mergeCells, page setup …
    for chunk in chunks(zf, part, book.path):
        if after is not None:
            after.append(chunk)
            continue
        window = carry + chunk
        match = END_OF_DATA.search(window)
        if match:
            after = [window[match.end():]]
        else:
            carry = window[-64:]
    tail = b"".join(after or [])
    merges: list[Merge] = []
    filled: list[str] = []
    kept: list[str] = []
    for ref in dict.fromkeys(m.decode("ascii", "replace") for m in MERGE.findall(tail)):
        first, _, last = ref.partition(":")
        a, b = ref_of(first), ref_of(last or first)
        if a is None or b is None or a == b:
            continue
        top, bottom, left, right = min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1])
        if top > header_row and left <= width:
            merges.append((top, left, bottom, right))
            filled.append(ref)
        else:
            kept.append(ref)
    notes = []
    if filled:
        notes.append(f"merged cells {_listing(filled)}: every cell of a range takes its top-left value")
    if kept:
        notes.append(f"merged cells {_listing(kept)} on or above the header row (or right of it) left as they are")
    return sorted(merges), notes


def _listing(refs: list[str]) -> str:
    return ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")


def _data_rows(zf: zipfile.ZipFile, book: Book, name: str, part: str, header_row: int,
               merges: list[Merge]) -> Iterator[Row]:
    """The data rows after the header, merged ranges filled."""
    pending = iter(merges)
    upcoming = next(pending, None)
    active: list[tuple[Merge, Cell | None]] = []
    for number, cells in _rows(zf, part, book, name):
        if number <= header_row:
            continue
        while upcoming is not None and upcoming[0] <= number:
            active.append((upcoming, cells.get(upcoming[1]) if upcoming[0] == number else None))
            upcoming = next(pending, None)
        active = [(m, top_left) for m, top_left in active if m[2] >= number]
        if not _has_value(cells):
            continue
        for (_, left, _, right), top_left in active:
            for column in range(left, right + 1):
                if top_left is None:
                    cells.pop(column, None)
                else:
                    cells[column] = top_left
        yield number, cells


# --- the sheet's XML ------------------------------------------------------------------------------------------
class SheetParser:
    """expat handlers turning ``<row>``/``<c>`` elements into numbered rows of cells."""

    def __init__(self, book: Book, sheet: str) -> None:
        self.book, self.sheet = book, sheet
        self.rows: list[Row] = []
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._chars
        self._shared: dict[str, tuple[str, str]] = {}  # shared formula id → (formula, cell it is written in)
        self._columns: dict[str, int] = {}
        self._buffer: list[str] | None = None
        self._in_data = self._in_row = self._phonetic = False
        self._row = self._column = 0
        self._cells: dict[int, Cell] = {}
        self._type, self._style = "n", ""
        self._value: str | None = None
        self._formula: str | None = None
        self._formula_attrs: dict[str, str] = {}
        self._inline: list[str] | None = None

    def _chars(self, data: str) -> None:
        if self._buffer is not None:
            self._buffer.append(data)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c" and self._in_row:
            self._column = self._column_of(attrs.get("r")) or self._column + 1
            self._type, self._style = attrs.get("t", "n"), attrs.get("s", "")
            self._value = self._formula = self._inline = None
        elif tag in ("v", "f") and self._in_row:
            self._buffer = []
            if tag == "f":
                self._formula_attrs = attrs
        elif tag == "t" and self._inline is not None and not self._phonetic:
            self._buffer = []
        elif tag == "is":
            self._inline = []
        elif tag == "rPh":
            self._phonetic = True
        elif tag == "row" and self._in_data:
            try:
                number = int(float(attrs.get("r", "")))
            except (ValueError, OverflowError):
                number = 0
            self._row = number if number > self._row else self._row + 1
            self._in_row, self._column, self._cells = True, 0, {}
        elif tag == "sheetData":
            self._in_data = True

    def _end(self, name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "c":
            if self._in_row:
                self._cells[self._column] = self._cell()
            self._inline = None
        elif tag == "row":
            if self._in_row:
                self.rows.append((self._row, self._cells))
            self._in_row = False
        elif self._buffer is not None and tag in ("v", "f", "t"):
            text, self._buffer = "".join(self._buffer), None
            if tag == "v":
                self._value = text
            elif tag == "f":
                self._formula = text
                if self._formula_attrs.get("t") == "shared" and text:
                    self._shared[self._formula_attrs.get("si", "")] = (text, self._ref())
            elif self._inline is not None:
                self._inline.append(text)
        elif tag == "rPh":
            self._phonetic = False
        elif tag == "sheetData":
            self._in_data = False

    def _cell(self) -> Cell:
        kind, value = self._type, self._value
        if kind == "e" or (kind == "n" and value and value.startswith("#")):
            formula = f" (formula ={self._formula_text()})" if self._formula is not None else ""
            return None, False, ("cell-error", f"cell {self._ref()} of sheet '{self.sheet}' holds the error "
                                 f"{value or '(no value)'}{formula}; correct the cell (or the cells its formula "
                                 "uses) and send the file again")
        if self._formula is not None and (value is None or (not value and kind not in ("str", "s", "inlineStr"))):
            return None, False, ("formula-without-value", f"cell {self._ref()} of sheet '{self.sheet}' holds the "
                                 f"formula ={self._formula_text()} but no computed value (the program that wrote the "
                                 "file does not calculate formulas); open the file in Excel or LibreOffice and save "
                                 "it, or paste values instead of formulas")
        if kind == "inlineStr":
            text = "".join(self._inline) if self._inline is not None else value
            return text, True, None
        if not value:
            return None, False, None
        if kind == "s":
            try:
                return self.book.strings[int(value)], True, None
            except (ValueError, IndexError):
                return None, False, ("unreadable-cell", f"cell {self._ref()} of sheet '{self.sheet}' refers to text "
                                     f"{value} that the workbook does not hold; open the file in Excel or "
                                     "LibreOffice and save it again")
        if kind == "str":
            return value, True, None
        if kind == "b":
            return ("true" if value.strip() in ("1", "true") else "false"), False, None
        if kind == "d":
            try:
                return cell_text(datetime.fromisoformat(value.strip())), False, None
            except ValueError:
                return value, False, None
        return _number(value, self.book.dates.get(self._style), self.book.epoch), False, None


    def _column_of(self, ref: str | None) -> int | None:
        """The column of a cell reference (``"C5"`` → 3), cached by its letters."""
        if not ref:
            return None
        key = ref.rstrip("0123456789")
        column = self._columns.get(key)
        if column is None:
            found = ref_of(ref)
            column = self._columns[key] = found[1] if found else 0
        return column or None

    def _ref(self) -> str:
        return f"{letters(self._column)}{self._row}"

    def _formula_text(self) -> str:
        text = self._formula or ""
        shared = self._shared.get(self._formula_attrs.get("si", ""))
        if text or self._formula_attrs.get("t") != "shared" or shared is None:
            return text
        from openpyxl.formula.translate import Translator

        try:  # the dependent cells of a shared formula hold no text: shift the formula of its first cell
            return str(Translator("=" + shared[0], origin=shared[1]).translate_formula(self._ref()))[1:]
        except Exception:  # a formula the translator cannot shift: name the one it shares
            return f"{shared[0]} (shared with {shared[1]})"


def _number(value: str, timedelta: bool | None, epoch: datetime) -> str | None:
    try:
        number: float = float(value) if any(ch in value for ch in ".eEnN") else int(value)
    except ValueError:
        return value.strip() or None
    if timedelta is not None:
        from openpyxl.utils.datetime import from_excel

        try:
            return cell_text(from_excel(number, epoch, timedelta=timedelta))
        except (OverflowError, ValueError):  # a serial outside the calendar: the number as written
            pass
    return cell_text(number)


def _rows(zf: zipfile.ZipFile, part: str, book: Book, sheet: str) -> Iterator[Row]:
    """Every ``<row>`` of the sheet, as the XML is decompressed."""
    parser = SheetParser(book, sheet)
    stream = chunks(zf, part, book.path)
    while True:
        chunk = next(stream, b"")
        try:
            parser.parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            raise InputFileError(f"{book.path}: sheet '{sheet}' is damaged (XML error at line {exc.lineno}, column "
                                 f"{exc.offset}: {expat.ErrorString(exc.code)}); {DAMAGED}.") from None
        yield from parser.rows
        parser.rows.clear()
        if not chunk:
            return


__all__ = ["open_xlsx"]
