"""Which tables each settlement has, which years they cover, and how many rows they are expected to hold.

The same functions decide presence for :func:`cityscore.simulate.simulate` and count rows for
:func:`cityscore.simulate.plan`, so the plan matches the files: exactly in expectation for the sampled tables
(calls, requests, dispatches, payments, journeys), by construction for stop events, air quality and uptime probes,
and to within the randomness of daily counts for incidents and of the monthly totals for validations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from . import city, services
from .context import Context
from .profiles import Profile
from .volumes import (
    JOURNEY_SAMPLE,
    Stratum,
    air_days,
    boardings_per_day,
    call_strata,
    days_in_months,
    dispatch_strata,
    expected_rows,
    journey_strata,
    payment_strata,
    probe_seconds,
    request_strata,
    season,
    stations,
    transit_headway,
    validation_rows,
)
from .writer import US_PER_SECOND, local_us

Generator = Callable[[Context, Profile, int], Iterator[services.Columns]]
GENERATORS: dict[str, Generator] = {
    "contact_center_calls": services.contact_center_calls,
    "service_requests": services.service_requests,
    "emergency_dispatches": services.emergency_dispatches,
    "incidents": city.incidents,
    "air_quality": city.air_quality,
    "transit_stop_events": city.transit_stop_events,
    "transit_trips": city.transit_trips,
    "transit_validations": city.transit_validations,
    "payments": services.payments,
    "uptime_checks": services.uptime_checks,
}
STRATA: dict[str, Callable[[Profile, int], list[Stratum]]] = {
    "contact_center_calls": call_strata, "service_requests": request_strata, "emergency_dispatches": dispatch_strata,
    "payments": payment_strata,
}
TWO_YEARS = ("incidents", "transit_trips")  # the previous year too: baselines of 1.12, 1.13, 1.16


def years(table: str, year: int) -> tuple[int, ...]:
    return (year - 1, year) if table in TWO_YEARS else (year,)


def present(table: str, p: Profile) -> bool:
    """Whether the settlement has the table at all (its initiative implemented, a station, journey data …)."""
    if table in ("transit_stop_events", "transit_validations"):
        return p.has(4)
    if table == "transit_trips":
        return city.has_journeys(p)
    if table == "payments":
        return p.has(3)
    if table == "uptime_checks":
        return p.has(1)
    if table == "air_quality":
        return stations(p) > 0
    return True


def expected(ctx: Context, p: Profile, table: str) -> float:
    """Expected rows of ``table`` for one settlement, over all the years it covers."""
    if not present(table, p):
        return 0.0
    return sum(_expected_year(ctx, p, table, y) for y in years(table, ctx.year))


def _expected_year(ctx: Context, p: Profile, table: str, year: int) -> float:
    if table in STRATA:
        return expected_rows(STRATA[table](p, year), ctx.scale)
    days = days_in_months(year)
    if table == "transit_trips":
        s = journey_strata(p, year)[0]
        return expected_rows([Stratum(s.key, s.lam * JOURNEY_SAMPLE, s.floor)], ctx.scale)
    if table == "incidents":
        total = 0.0
        for month in range(12):
            for _, daily, major in city.incident_rates(ctx, p, year, month + 1):
                parts = (daily * major, daily * (1 - major)) if major else (daily,)
                total += float(days[month]) * sum(1.0 - math.exp(-x) for x in parts)
        return total
    if table == "air_quality":
        return float(stations(p) * len(city.POLLUTION) * sum(air_days(int(d), ctx.scale) for d in days))
    if table == "uptime_checks":
        step = int(probe_seconds(ctx.scale) * US_PER_SECOND)
        return float((local_us(year + 1) - local_us(year)) / step)
    if table == "transit_stop_events":
        headway = transit_headway(p, ctx.target("4.1", p.category, 10.0))
        return float(sum(w * n for _, w, n in (city.stop_windows(ctx, p, int(d), headway) for d in days)))
    if table == "transit_validations":
        monthly = boardings_per_day(p) * days * season("transit")
        cashless = float(np.clip(ctx.target("4.5", p.category) / 100.0 * p.achievement("4.5"), 0.05, 0.99))
        shares = [1.0 - cashless, *(v * cashless for v in city.CASHLESS.values())]
        return float(sum(min(m * s, validation_rows(p, float(d), ctx.scale))
                         for m, d in zip(monthly, days, strict=True) for s in shares))
    raise KeyError(table)

