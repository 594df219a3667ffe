"""Parse cells the way Kazakhstan's exports write them, and record what is wrong with a row.

Numbers: ``1234.5``, ``1 234,5`` (spaces or no-break spaces between thousands, decimal comma), ``1,234.5``.
Dates: ``2026-01-31``, ``31.01.2026``, ``2026-01-31T10:00:00`` (the date part). Booleans: true/false, yes/no, 1/0,
да/нет, иә/жоқ.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: ``{file, row, column, code, message, fix}``; ``fix`` says what to do (by default
    the fix of the code, :mod:`.codes`)."""

    file: str
    row: int
    column: str | None
    code: str
    message: str
    fix: str = ""

    def to_json(self) -> dict[str, object]:
        from .codes import fix_for

        out = asdict(self)
        out["fix"] = self.fix or fix_for(self.code)
        return out

    def render(self) -> str:
        column = f", column {self.column}" if self.column else ""
        return f"{self.file}, row {self.row}{column}: {self.message} [{self.code}]"


class CellError(ValueError):
    """A cell cannot be parsed; carries the error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if type(value) is str:
        return not value or value.isspace()
    return isinstance(value, float) and math.isnan(value)


_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_number(value: Any) -> float | None:
    """A number, or None for an empty cell; raises :class:`CellError` otherwise."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError("not-a-number", f"'{value}' is not a number")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isinf(value):
            raise CellError("not-a-number", "an infinite value is not a number")
        return float(value)
    if type(value) is str and value[:1] in "0123456789-" and "," not in value and " " not in value:
        try:  # the common case, "1234.5", without the slower normalisation below
            number = float(value)
        except ValueError:
            pass
        else:
            if not (math.isinf(number) or math.isnan(number)):
                return number
    text = _SPACES.sub("", str(value))
    if "," in text and "." in text:
        text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(
            ",", ".")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise CellError("not-a-number", f"'{value}' is not a number (write e.g. 12.5 or 12,5)") from None
    if math.isinf(number) or math.isnan(number):
        raise CellError("not-a-number", f"'{value}' is not a number")
    return number


def parse_date(value: Any) -> date | None:
    """A civil date in the plausible window (decisions.md D-42), or None for an empty cell; raises
    :class:`CellError` otherwise."""
    found = _parse_date(value)
    if found is not None and not (PLAUSIBLE_DATES[0] <= found < PLAUSIBLE_DATES[1]):
        raise CellError("implausible-time", f"'{value}' is outside the plausible window "
                        f"{PLAUSIBLE_DATES[0].isoformat()} … {PLAUSIBLE_DATES[1].isoformat()}")
    return found


PLAUSIBLE_DATES = (date(2000, 1, 1), date(2100, 1, 1))  # as sqlcheck.TimeWindow's default


def _parse_date(value: Any) -> date | None:
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    for pattern, fmt in ((r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"), (r"\d{2}\.\d{2}\.\d{4}", "%d.%m.%Y")):
        match = re.match(pattern, text)
        if match and (len(text) == len(match.group()) or text[len(match.group())] in "T "):
            try:
                return datetime.strptime(match.group(), fmt).date()
            except ValueError:
                raise CellError("not-a-date", f"'{value}' is not a real date") from None
    raise CellError("not-a-date", f"'{value}' is not a date (write YYYY-MM-DD or DD.MM.YYYY)")


_TRUE = {"true", "yes", "y", "1", "да", "д", "иә", "ия", "t"}
_FALSE = {"false", "no", "n", "0", "нет", "н", "жоқ", "f"}


def parse_bool(value: Any) -> bool | None:
    """A yes/no, or None for an empty cell; raises :class:`CellError` otherwise."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("not-a-boolean", f"'{value}' is not yes/no (write true/false, да/нет or 1/0)")


def parse_text(value: Any) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
