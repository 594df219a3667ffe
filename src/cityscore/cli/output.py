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
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


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
    fold: bool = False  # on a narrow console a word may be broken over lines (names); else words are kept whole


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
    """A table that never crops a cell: text wraps at spaces within the console's width (a word is broken only in a
    ``fold`` column), and a table that cannot fit even so is printed wider than the console rather than cut."""
    out = console()
    shown = [c for c in columns if not c.wide or out.width >= 120]
    cells = [[_table_cell(c.get(row)) for c in shown] for row in rows]
    widths = fit_widths(out, shown, cells)
    needed = sum(widths) + TABLE_CHROME_PER_COLUMN * len(shown) + 1
    table = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    for column, width in zip(shown, widths, strict=True):
        table.add_column(column.header, justify=column.justify, style=column.style,  # type: ignore[arg-type]
                         width=width, no_wrap=column.no_wrap, overflow="fold")
    for row_cells in cells:
        table.add_row(*row_cells)
    (out if needed <= out.width else Console(soft_wrap=False, width=needed)).print(table)


TABLE_CHROME_PER_COLUMN = 3  # a border and a space on each side
FOLD_FLOOR = 8  # a fold column keeps at least this many characters a line


def fit_widths(out: Console, columns: Sequence[Column], cells: Sequence[Sequence[str]]) -> list[int]:
    """The width of each column's text: as wide as its longest line (up to ``max_width``, and at least
    ``min_width``) when the table fits the console; else narrowed, widest first, down to its longest word (a
    ``no_wrap`` column to its longest line), and only then a ``fold`` column down to :data:`FOLD_FLOOR`. A column
    is never narrower than its longest word unless it may fold."""
    room = out.width - TABLE_CHROME_PER_COLUMN * len(columns) - 1
    widths, words, floors = [], [], []
    for i, column in enumerate(columns):
        texts = [Text.from_markup(column.header), *(Text.from_markup(row[i]) for row in cells)]
        sizes = [Measurement.get(out, out.options.update_width(10_000), t) for t in texts]
        longest_word = max(1, *(m.minimum for m in sizes))
        longest_line = max(1, *(m.maximum for m in sizes))
        if column.no_wrap:
            width = word = floor = longest_line
        else:
            word = longest_word
            floor = min(longest_word, FOLD_FLOOR) if column.fold else longest_word
            width = min(longest_line, column.max_width or longest_line)
            width = min(max(width, column.min_width or 0, floor), max(longest_line, floor))
        widths.append(width)
        words.append(min(word, width))
        floors.append(floor)
    for limits in (words, floors):  # first keep every word whole; then let fold columns break theirs
        while sum(widths) > room:
            candidates = [i for i in range(len(widths)) if widths[i] > limits[i]]
            if not candidates:
                break
            widths[max(candidates, key=lambda i: widths[i])] -= 1
    return widths


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
