"""Records of the city itself: incidents and crimes, air quality, public transport.

**Incidents** (daily counts per type, per 100 000 residents a year; × 1.4 in republican cities — Almaty registers
about 22 % of the country's crimes with 12 % of its people —, × 0.8 in district centres): serious crimes 140 and
especially serious crimes 9 (the Prosecutor General's statistics: 41.4 thousand serious and 2.1 thousand especially
serious crimes in January–November 2022, 26.0 and 1.6 thousand in 2023 — finprom.kz, baigenews.kz); fires 75
(«over 15 thousand fires a year», МВД), 5 % major (≈ 300 deaths and 360 injured in ten months of a year, МЧС);
road accidents with casualties 180 (36.1 thousand in 2025, baq.kz), 7 % major (2 200–2 500 deaths a year);
public-transport accidents 6 (where initiative 4 runs: ``target(4.7) / a`` per million boardings); industrial
accidents 6, 25 % major; floods 0.5, in March–April only, 40 % major; other emergencies registered by the duty
services 150. Only days with a count are written (and one zero row in a month without any, so every month exists
for the baselines). The previous year has the same rates × ``1 / (1 − improvement)`` for crimes and for major
incidents, the improvement being the settlement's trend ± 2.5 %: cities that perform well reduce them (KPIs 1.12,
1.13).

**Air quality** (daily station means, µg/m³): a republican city's summer / winter (heating season) level is
PM2.5 14 / 55, PM10 38 / 85, NO₂ 28 / 48, SO₂ 12 / 40, CO 500 / 1 500, × 0.85 in oblast cities and 0.7 in district
centres, × a city factor (lognormal, σ = 0.2: industry, coal heating) × ``1.25 − 0.4 × performance``; daily noise
lognormal (σ = 0.35), station factor σ = 0.15. Winter PM2.5 in Almaty and Astana is then mostly above the daily
norm of 35 (as observed by Kazhydromet), summer levels comply.

**Transport** (where initiative 4 is implemented). Stop events: the scheduled headway makes the expected wait
``target(4.1) / a`` (:func:`.volumes.transit_headway`); an arrival is on time (1 min early … 5 min late) with
probability ``target(4.2) × a``, else late (5 min + exponential 5 min) or, one time in five, early. Journeys: mean
duration 40 / 30 / 20 min by category × ``1.15 − 0.3 × performance`` (lognormal, σ = 0.45), the previous year
``1 / (1 − trend)`` longer. District centres have journey records (from their bus operator or surveys; KPI 1.16
applies to them, decisions.md D-05) with probability ``0.35 + 0.6 × performance``. Validations: boardings as in
:mod:`.volumes`, cashless ``target(4.5) × a`` (transport card 50 %, bank card 30 %, QR 15 %, mobile 5 % of
cashless).
"""

from __future__ import annotations

from collections.abc import Iterator
from math import ceil

import numpy as np

from .context import Context
from .profiles import Arr, Profile
from .services import Columns, hourly
from .volumes import (
    JOURNEY_SAMPLE,
    SERVICE_HOURS,
    Stratum,
    air_days,
    boardings_per_day,
    days_in_months,
    journey_strata,
    route_stops,
    routes,
    sampled_batches,
    season,
    stations,
    stop_hours,
    transit_headway,
    validation_rows,
)
from .writer import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    civil_times,
    epoch_days,
    ids,
    labels,
    local_us,
    masked_timestamps,
    to_utc,
)

CATEGORY_FACTOR = {"republican": 1.4, "oblast": 1.0, "district": 0.8}
CANCELLED_OF_LATE = 0.1  # of the arrivals not on time, the share whose trip was cancelled (KPI 4.2)
INCIDENT_RATES = {  # per 100 000 residents a year, share major
    "serious_crime": (140.0, 0.0), "especially_serious_crime": (9.0, 0.0), "fire": (75.0, 0.05),
    "road_accident": (180.0, 0.07), "transport_accident": (6.0, 0.1), "transport_incident": (3.0, 0.0),
    "industrial_accident": (6.0, 0.25),
    "flood": (0.5, 0.4), "other": (150.0, 0.0),
}
FLOOD_MONTHS = (3, 4)
POLLUTION = {"pm25": (14.0, 55.0), "pm10": (38.0, 85.0), "no2": (28.0, 48.0), "so2": (12.0, 40.0),
             "co": (500.0, 1500.0)}
WINTER = (1.0, 0.9, 0.6, 0.25, 0.0, 0.0, 0.0, 0.0, 0.05, 0.3, 0.7, 0.95)
AIR_LEVEL = {"republican": 1.0, "oblast": 0.85, "district": 0.7}
JOURNEY_MINUTES = {"republican": 40.0, "oblast": 30.0, "district": 20.0}
CASHLESS = {"transport_card": 0.5, "bank_card": 0.3, "qr": 0.15, "mobile": 0.05}


def improvement(p: Profile, key: str) -> float:
    """How much better ``year`` is than the year before for ``key`` (0.05 = 5 %), from the settlement's trend."""
    return float(np.clip(p.trend + p.rng("trend", key).normal(0.0, 0.025), -0.2, 0.3))


def incident_rates(ctx: Context, p: Profile, year: int, month: int) -> list[tuple[str, float, float]]:
    """(type, expected count a day, share major) in one month (1 … 12) of ``year``."""
    factor = CATEGORY_FACTOR[p.category] * p.population / 100_000.0 / days_in_months(year).sum()
    earlier = year < ctx.year
    crime = 1.0 / (1.0 - improvement(p, "1.13")) if earlier else 1.0
    major = 1.0 / (1.0 - improvement(p, "1.12")) if earlier else 1.0
    out = []
    for kind, (rate, major_share) in INCIDENT_RATES.items():
        if kind == "flood" and month not in FLOOD_MONTHS:
            continue
        daily = rate * factor * (6.0 if kind == "flood" else 1.0)
        if kind in ("transport_accident", "transport_incident") and p.has(4):  # 4.7 counts both: 70 % / 30 %
            share = 0.7 if kind == "transport_accident" else 0.3
            daily = share * boardings_per_day(p) * ctx.target("4.7", p.category, 10.0) / p.achievement("4.7") / 1e6
        if kind in ("serious_crime", "especially_serious_crime"):
            daily *= crime
        out.append((kind, daily, min(1.0, major_share * major)))
    return out


def incidents(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    rng = p.rng("incidents", year)
    days = days_in_months(year)
    rows: dict[str, list[Arr]] = {"date": [], "type": [], "count": [], "major": []}
    for month in range(12):
        n_days = int(days[month])
        seen = 0
        for kind, daily, major_share in incident_rates(ctx, p, year, month + 1):
            count = rng.poisson(daily, n_days)
            heavy = rng.binomial(count, major_share) if major_share else np.zeros(n_days, dtype=np.int64)
            for flag, values in ((True, heavy), (False, count - heavy)):
                day = np.nonzero(values)[0]
                if len(day):
                    rows["date"].append(epoch_days(year, month + 1, day))
                    rows["type"].append(np.full(len(day), kind))
                    rows["count"].append(values[day])
                    rows["major"].append(np.full(len(day), flag))
                    seen += len(day)
        if not seen:
            rows["date"].append(epoch_days(year, month + 1, np.zeros(1, dtype=np.int64)))
            rows["type"].append(np.array(["other"]))
            rows["count"].append(np.zeros(1, dtype=np.int64))
            rows["major"].append(np.array([False]))
    columns = {k: np.concatenate(v) for k, v in rows.items()}
    order = np.lexsort((columns["type"], columns["date"]))
    yield {"settlement": p.kato, **{k: v[order] for k, v in columns.items()}}


def air_quality(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    count = stations(p)
    if not count:
        return
    rng = p.rng("air", year)
    level = AIR_LEVEL[p.category] * float(np.exp(p.rng("air-city").normal(0, 0.2))) * (1.25 - 0.4 * p.performance)
    days = days_in_months(year)
    station_of, day_of, month_of = [], [], []
    for station in range(count):
        for month in range(12):
            kept = np.sort(rng.choice(int(days[month]), air_days(int(days[month]), ctx.scale), replace=False))
            station_of.append(np.full(len(kept), station))
            day_of.append(local_us(year, month + 1) // US_PER_DAY + kept)
            month_of.append(np.full(len(kept), month))
    station_ix, day_ix, month_ix = (np.concatenate(x) for x in (station_of, day_of, month_of))
    factors = np.exp(rng.normal(0, 0.15, count))[station_ix] * level
    winter = np.array(WINTER)[month_ix]
    names = np.array([f"{p.kato}-AQ{k + 1}" for k in range(count)])
    for pollutant, (summer, high) in POLLUTION.items():
        n = len(day_ix)
        mean = (summer + (high - summer) * winter) * factors
        yield {"station_id": names[station_ix], "settlement": p.kato, "pollutant": pollutant,
               "measured_at": to_utc(day_ix.astype(np.int64) * US_PER_DAY),
               "value": np.round(mean * np.exp(0.35 * rng.standard_normal(n) - 0.06), 1), "averaging": "day"}


def has_journeys(p: Profile) -> bool:
    if p.category == "district":
        return p.chance("journeys", 0.35 + 0.6 * p.performance)
    return p.has(4)


def transit_trips(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    if not has_journeys(p):
        return
    rng = p.rng("journeys", year)
    minutes = JOURNEY_MINUTES[p.category] * (1.15 - 0.3 * p.performance)
    if year < ctx.year:
        minutes /= 1.0 - improvement(p, "1.16")
    stratum = journey_strata(p, year)[0]
    sampled = Stratum(stratum.key, stratum.lam * JOURNEY_SAMPLE, stratum.floor)
    start = 0
    for batch in sampled_batches(rng, [sampled], ctx.scale):
        n = batch.n
        begun = to_utc(civil_times(rng, year, batch.month, hourly("transit")))
        duration = np.exp(np.log(minutes) - 0.101 + 0.45 * rng.standard_normal(n))  # mean = minutes
        yield {"journey_id": ids(f"{p.kato}-{year}-J", start, n), "settlement": p.kato, "started_at": begun,
               "ended_at": begun + (np.maximum(duration, 2.0) * 60 * US_PER_SECOND).astype(np.int64),
               "weight": batch.weight / JOURNEY_SAMPLE}
        start += n


def transit_stop_events(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    if not p.has(4):
        return
    rng = p.rng("stops", year)
    headway = transit_headway(p, ctx.target("4.1", p.category, 10.0))
    on_time = float(np.clip(ctx.target("4.2", p.category) / 100.0 * p.achievement("4.2"), 0.3, 0.99))
    pairs = route_stops(p)
    days = days_in_months(year)
    service = SERVICE_HOURS[1] - SERVICE_HOURS[0]
    trip = 0
    for month in range(12):
        n_days = int(days[month])
        length, windows, per_window = stop_windows(ctx, p, n_days, headway)
        cells = rng.choice(pairs * n_days, windows, replace=False)
        first = np.where(length == service, SERVICE_HOURS[0], rng.integers(SERVICE_HOURS[0], SERVICE_HOURS[1] - 3,
                                                                              windows))
        base = local_us(year, month + 1) + (cells % n_days) * US_PER_DAY + first * US_PER_HOUR
        phase = rng.random(windows) * headway
        offsets = (np.arange(per_window)[None, :] * headway + phase[:, None]) * 60 * US_PER_SECOND
        scheduled = (base[:, None] + offsets).astype(np.int64).ravel()
        n = len(scheduled)
        late = rng.random(n) >= on_time
        early = late & (rng.random(n) < 0.2)
        delay = np.where(~late, rng.uniform(-55, 295, n),
                         np.where(early, -65 - rng.exponential(90, n), 305 + rng.exponential(300, n)))
        cancelled = late & (rng.random(n) < CANCELLED_OF_LATE)  # a cancelled trip: timetabled, never served
        pair = np.repeat(cells // n_days, per_window)
        yield {"trip_id": ids(f"{p.kato}-{year}-T", trip, n), "settlement": p.kato,
               "route_id": labels("R", pair // 5 + 1, 3), "stop_id": labels("S", pair + 1, 4),
               "scheduled_at": to_utc(scheduled),
               "actual_at": masked_timestamps(to_utc(scheduled + (delay * US_PER_SECOND).astype(np.int64)),
                                              ~cancelled),
               "cancelled": cancelled}
        trip += n


def stop_windows(ctx: Context, p: Profile, n_days: int, headway: float) -> tuple[int, int, int]:
    """Observation windows of one month: (hours each, how many, arrivals in each)."""
    pairs = route_stops(p)
    hours = stop_hours(p, n_days, ctx.scale)
    service = SERVICE_HOURS[1] - SERVICE_HOURS[0]
    length = service if hours >= pairs * n_days * 4 else 4
    return length, min(pairs * n_days, ceil(hours / length)), int(length * 60 // headway)




def transit_validations(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    if not p.has(4):
        return
    rng = p.rng("validations", year)
    cashless = float(np.clip(ctx.target("4.5", p.category) / 100.0 * p.achievement("4.5"), 0.05, 0.99))
    shares = {"cash": 1.0 - cashless, **{k: v * cashless for k, v in CASHLESS.items()}}
    days = days_in_months(year)
    monthly = boardings_per_day(p) * days * season("transit")
    n_routes = routes(p)
    hours = np.arange(SERVICE_HOURS[0], SERVICE_HOURS[1] + 1)
    profile = hourly("transit")[hours]
    profile = profile / profile.sum()
    for month in range(12):
        for kind, share in shares.items():
            total = int(rng.poisson(monthly[month] * share))
            rows = min(total, validation_rows(p, float(days[month]), ctx.scale))
            if not rows:
                continue
            counts = 1 + rng.multinomial(total - rows, np.full(rows, 1.0 / rows))
            when = (local_us(year, month + 1) + rng.integers(0, int(days[month]), rows) * US_PER_DAY
                    + rng.choice(hours, rows, p=profile) * US_PER_HOUR)
            route = labels("R", rng.integers(1, n_routes + 1, rows), 3) if ctx.scale >= 1 else None
            yield {"settlement": p.kato, "validated_at": to_utc(np.sort(when)), "route_id": route,
                   "payment_type": kind, "validations": counts}
