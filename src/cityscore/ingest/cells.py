"""What the non-CSV readers make of a value: the text of a cell; and the column names the readers know.

Every cell reaches the loader as text (or None) and is typed later, in SQL or in :mod:`.values`; ``cell_text`` is
the one conversion: ``True`` → ``true``, ``3.0`` → ``3``, a date → ``2026-01-05``, a date and time →
``2026-01-05 10:30:00``, a time → ``10:30:00``.

``known_columns`` are the names (and other header names) of every column a raw table, an observation file, an
evidence file or a monitor file has. The readers use them where they cannot know the table yet: to choose the data
sheet of a workbook, and to reject a Parquet row only when a nested value sits in a column the loader may use.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from typing import Any

# the columns of the value files (observations.py, evidence.py: observations, additional initiatives, monitor)
VALUE_COLUMNS = ("settlement", "kpi", "period_start", "period_end", "value", "numerator", "denominator", "baseline",
                 "component", "name", "sphere", "in_roadmap", "report_signed", "indicator_count", "started",
                 "completed", "metric", "date", "window", "target", "kind")


def cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


@functools.cache
def known_columns() -> frozenset[str]:
    from ..records import SCHEMAS

    names = {name for schema in SCHEMAS.values() for column in schema.columns
             for name in (column.name, *column.aliases)}
    return frozenset(names | set(VALUE_COLUMNS))
