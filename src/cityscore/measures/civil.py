"""Kazakhstan civil time from UTC instants, explicitly, in a form every engine computes the same way.

The warehouse stores instants in UTC. The civil time of the standard's settlements follows ``Asia/Almaty``:
UTC+6 until 1 March 2024 00:00 local time (29 February 2024 18:00 UTC), UTC+5 from then on. Writing the offset out
as an expression (rather than relying on a session time zone) keeps the result identical on DuckDB, PostgreSQL and
Spark. Before 2024 the western regions kept UTC+5; data of those regions from before the unification is placed by the
Almaty rule (decisions.md D-32).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import ibis

SWITCH_UTC = datetime(2024, 2, 29, 18, 0, 0)  # 2024-03-01 00:00 in UTC+6


def civil_python(instant: datetime) -> datetime:
    """The civil time of a naive UTC instant (the reference the SQL is tested against)."""
    return instant + (timedelta(hours=6) if instant < SWITCH_UTC else timedelta(hours=5))


def civil(column: Any, *, since: date | None = None) -> Any:
    """Ibis expression: the civil time of a UTC timestamp column.

    With ``since`` (the first civil day the caller keeps) on or after 1 April 2024, the offset is the constant
    UTC+5: an earlier instant could only move between February and March 2024, both before ``since``, so the
    simpler expression gives the same kept rows, faster.
    """
    if since is not None and since >= date(2024, 4, 1):
        return column + ibis.interval(hours=5)
    return column + ibis.ifelse(column < ibis.timestamp(SWITCH_UTC), ibis.interval(hours=6), ibis.interval(hours=5))


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def civil_to_utc(local: datetime) -> datetime:
    """The UTC instant of a naive civil time (the inverse of :func:`civil_python`)."""
    earlier = local - timedelta(hours=6)
    return earlier if earlier < SWITCH_UTC else local - timedelta(hours=5)


def day_end_utc(day: date) -> datetime:
    """The UTC instant at which civil ``day`` ends (its following midnight, local time)."""
    return civil_to_utc(datetime.combine(day + timedelta(days=1), datetime.min.time()))
