"""The plausible window of what is published: rating years 2000–2100 and days 2000-01-01 … 2100-12-31.

The one place for the bounds of every ``year`` and ``as_of`` the API, the dashboard and the command line accept. A
value outside is a validation error (422) that says the allowed range, rather than an overflow deep in date arithmetic
(a monitor window ending on 0001-01-01 would start before the first day Python knows). :data:`Year` and :data:`Day`
are the validated types; the routes wrap them in their ``Query`` declarations. The command line asks
:func:`in_years` / :func:`in_days` too (``cityscore.cli.common``: ``check_year`` for every ``--year``,
``parse_day`` for ``--as-of``) and makes a value outside a usage error that says the range (exit status 2).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

FIRST_YEAR = 2000
LAST_YEAR = 2100
FIRST_DAY = date(FIRST_YEAR, 1, 1)
LAST_DAY = date(LAST_YEAR, 12, 31)
# The window's days for the OpenAPI schema (JSON Schema has no bounds for dates; a test checks it against the window)
DAY_PATTERN = r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"
YEARS_TEXT = f"{FIRST_YEAR}–{LAST_YEAR}"
DAYS_TEXT = f"{FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()}"


def in_years(year: int) -> bool:
    """Whether ``year`` is a plausible rating year (2000–2100)."""
    return FIRST_YEAR <= year <= LAST_YEAR


def in_days(day: date) -> bool:
    """Whether ``day`` is a plausible day (2000-01-01 … 2100-12-31)."""
    return FIRST_DAY <= day <= LAST_DAY


def year_in_window(year: int) -> int:
    if not in_years(year):
        raise PydanticCustomError("year_out_of_window", "Input should be a year from {first} to {last}",
                                  {"first": FIRST_YEAR, "last": LAST_YEAR})
    return year


def day_in_window(day: date) -> date:
    if not in_days(day):
        raise PydanticCustomError("date_out_of_window", "Input should be a date from {first} to {last}",
                                  {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
    return day


Year = Annotated[int, AfterValidator(year_in_window),
                 WithJsonSchema({"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR})]
Day = Annotated[date, AfterValidator(day_in_window),
                WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN})]
