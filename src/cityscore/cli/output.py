"""Render command results as a Rich table, JSON or CSV — the same rows in every format."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@dataclass(frozen=True)
class Column:
    """One column of a table/CSV view: a header and how to get the cell from a row."""

    header: str
    get: Callable[[Any], object]
    justify: str = "left"
    style: str | None = None
    max_width: int | None = None
    no_wrap: bool = False
    min_width: int | None = None
    wide: bool = False  # shown only on consoles at least 120 columns wide


def console() -> Console:
    return Console(soft_wrap=False)


def print_json(data: object) -> None:
    """JSON to stdout, UTF-8, Cyrillic as is (not \\u-escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_csv(rows: Sequence[Any], columns: Sequence[Column]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(c.get(row)) for c in columns])


def print_table(rows: Sequence[Any], columns: Sequence[Column], *, title: str | None = None,
                caption: str | None = None) -> None:
    out = console()
    shown = [c for c in columns if not c.wide or out.width >= 120]
    table = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    for column in shown:
        table.add_column(column.header, justify=column.justify, style=column.style,  # type: ignore[arg-type]
                         max_width=column.max_width, min_width=column.min_width, no_wrap=column.no_wrap,
                         overflow="fold")
    for row in rows:
        table.add_row(*[_table_cell(c.get(row)) for c in shown])
    out.print(table)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "..".join(_csv_cell(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table_cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
