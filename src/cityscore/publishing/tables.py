"""Every table the API and the dashboard show, as CSV or XLSX: flat rows with stable column names."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any


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


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    flat = [flatten(r) for r in rows]
    names = columns_of(flat)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in flat:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    return buffer.getvalue()


def to_xlsx(rows: Sequence[dict[str, Any]], sheet: str = "data") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    flat = [flatten(r) for r in rows]
    names = columns_of(flat)
    book = Workbook(write_only=True)
    page = book.create_sheet(sheet[:31])
    page.freeze_panes = "A2"
    header = []
    for name in names:
        cell = WriteOnlyCell(page, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    page.append(header)
    for row in flat:
        page.append([row.get(n) for n in names])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
