"""Every table the API and the dashboard show, as CSV or XLSX: flat rows with stable column names.

Cells are made safe for spreadsheets: a text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'`` so that no spreadsheet runs it as a formula (OWASP, "CSV Injection"); numbers stay
numbers, negative ones included; a non-finite number (NaN, ±inf) is an empty cell. In XLSX every text is written
as a string cell, never as a formula, and the characters XML 1.0 cannot hold become U+FFFD (�) in every text it
writes — cells, headers and the sheet's name (:func:`xlsx_text`): the control characters U+0000–U+0008, U+000B,
U+000C, U+000E–U+001F (openpyxl refuses them: an export would fail) and the lone surrogates, U+FFFE and U+FFFF
(openpyxl writes them: the file would not open). Tab, line feed and carriage return are kept; CSV keeps every
character.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become ``parent.child`` columns; lists are joined with ``; ``."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = "; ".join(str(v) for v in value if not isinstance(v, dict)) or None
        else:
            out[name] = value
    return out


def columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for row in rows:
        for key in row:
            if key not in names:
                names.append(key)
    return names


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: formula-like text neutralised, non-finite numbers as no value (``None``)."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def xlsx_text(value: str) -> str:
    """A text as XLSX can hold it: each character XML 1.0 forbids as U+FFFD — openpyxl's ``ILLEGAL_CHARACTERS_RE``
    (which it refuses) and the lone surrogates, U+FFFE and U+FFFF (which it writes into a file that does not open).

    The one place every text of an XLSX export goes through, before :func:`cell` neutralises formulas (so that a
    forbidden character cannot hide a leading ``=``).
    """
    return _not_xml().sub(REPLACEMENT, value)


@functools.cache
def _not_xml() -> re.Pattern[str]:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # (openpyxl is imported only when an XLSX is written)

    return re.compile(f"{ILLEGAL_CHARACTERS_RE.pattern}|[\\ud800-\\udfff\\ufffe\\uffff]")


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    flat = [flatten(r) for r in rows]
    names = columns_of(flat)
    out, line = io.StringIO(), io.StringIO()
    # With "\r" in the writer's line terminator a text holding a carriage return is quoted (a bare one would end the
    # row in a spreadsheet, and the rest could start a formula); each row still ends with "\n".
    writer = csv.writer(line, lineterminator="\r\n")
    for values in [[cell(n) for n in names],
                   *(["" if (value := cell(row.get(n))) is None else value for n in names] for row in flat)]:
        writer.writerow(values)
        out.write(line.getvalue()[:-2] + "\n")
        line.seek(0)
        line.truncate()
    return out.getvalue()


def to_xlsx(rows: Sequence[dict[str, Any]], sheet: str = "data") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    flat = [flatten(r) for r in rows]
    names = columns_of(flat)
    book = Workbook(write_only=True)
    page = book.create_sheet(xlsx_text(sheet[:31]))
    page.freeze_panes = "A2"

    def value_of(value: Any) -> Any:
        """The cell of a value: a text as a string cell (forbidden characters replaced), anything else as is."""
        if not isinstance(value, str):
            return cell(value)
        written = WriteOnlyCell(page, value=cell(xlsx_text(value)))
        written.data_type = "s"  # a string, whatever it looks like
        return written

    header = []
    for name in names:
        heading = value_of(str(name))
        heading.font = Font(bold=True)
        header.append(heading)
    page.append(header)
    for row in flat:
        page.append([value_of(row.get(n)) for n in names])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
