"""Row-by-row reading with every problem recorded: the shared machinery of the input readers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..settlements import Registry, Settlement
from .values import CellError, RowError, is_blank, parse_bool, parse_date, parse_number, parse_text

T = TypeVar("T")


@dataclass
class Row:
    """One row being read; each accessor parses a cell and records a :class:`RowError` if it cannot."""

    file: str
    number: int
    cells: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)

    def error(self, column: str | None, code: str, message: str) -> None:
        self.errors.append(RowError(self.file, self.number, column, code, message))

    def _get(self, column: str, parse: Callable[[Any], T | None], required: bool) -> T | None:
        raw = self.cells.get(column)
        if raw is None or raw == "" or is_blank(raw):
            if required:
                self.error(column, "missing-value", f"'{column}' is empty; every row needs it")
            return None
        try:
            return parse(raw)
        except CellError as exc:
            self.error(column, exc.code, exc.message)
            return None

    def number_(self, column: str, *, required: bool = False, minimum: float | None = None) -> float | None:
        value = self._get(column, parse_number, required)
        if value is not None and minimum is not None and value < minimum:
            self.error(column, "negative" if minimum == 0 else "too-small",
                       f"{column} = {value:g} is below {minimum:g}; it cannot be negative")
            return None
        return value

    def date_(self, column: str, *, required: bool = False) -> Any:
        return self._get(column, parse_date, required)

    def bool_(self, column: str, *, required: bool = False) -> bool | None:
        return self._get(column, parse_bool, required)

    def text(self, column: str, *, required: bool = False) -> str | None:
        return self._get(column, parse_text, required)

    def settlement(self, registry: Registry, column: str = "settlement", *, required: bool = True) -> (
            Settlement | None):
        key = self.text(column, required=required)
        if key is None:
            return None
        found = registry.resolve(key)
        if found is None:
            named = registry.by_name(key)
            if len(named) > 1:
                self.error(column, "ambiguous-settlement",
                           f"'{key}' names {len(named)} settlements ({', '.join(s.kato for s in named)}); "
                           "use the 9-digit KATO code")
            else:
                self.error(column, "unknown-settlement",
                           f"'{key}' is neither a KATO code nor the name of a rated settlement; use the 9-digit "
                           "KATO code (find it with `cityscore settlements --search NAME`)")
        return found

    @property
    def ok(self) -> bool:
        return not self.errors


def structural_errors(file: str, header: list[str], required: tuple[str, ...],
                      one_of: tuple[tuple[str, ...], ...] = ()) -> list[RowError]:
    """Whole-file problems: missing columns (reported once, at the header)."""
    errors = []
    for column in required:
        if column not in header:
            errors.append(RowError(file, 1, column, "missing-column",
                                   f"the file has no column '{column}' (columns: {', '.join(header)})"))
    for group in one_of:
        if not any(c in header for c in group):
            errors.append(RowError(file, 1, None, "missing-column",
                                   "the file needs one of the columns: " + ", ".join(group)))
    return errors


def shape_errors(row: Row, problems: dict[int, tuple[str, str]]) -> None:
    """Problems found while reading the row (encoding, too many or too few cells, not JSON)."""
    if row.number in problems:
        code, message = problems[row.number]
        row.error(None, code, message)
