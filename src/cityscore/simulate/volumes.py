"""How many records each settlement produces: rates per resident, seasonality, sampling — and the plan.

Calibration (volumes are proportional to the population of the registry, ``Settlement.population``):

- **ЕКЦ 109.** Astana's iKOMEK 109 received more than 2.3 M requests in 2024 (belles.kz) for 1 649 242 residents
  (BNS, 1 Feb 2026): 1.39 requests per resident per year; 21 % came through digital channels (rus.baq.kz,
  5 Dec 2025), so 79 % by phone: **1.10 calls per resident per year** in republican cities (Astana at scale 1:
  ≈ 1.82 M calls = 0.79 × 2.3 M). No figures are published for other cities; regional 109 centres are younger and
  less known, and in small towns people still walk into the akimat, so oblast cities are given 0.85 requests per
  resident (61 % of Astana) and district centres 0.45 (a third), with a phone share of 82 % and 88 % (fewer
  digital users): **0.70 and 0.40 calls per resident per year**. Sources: ``../shared/data/contact_center_109_kz``.
- **Requests by category.** Astana 2024: healthcare 697 854 (30 %), public transport 304 151 (13 %), education
  262 218 (11 %), electricity 157 478 (7 %), the single payment document 94 523 (4 %). The remaining 35 % are
  spread over housing, heating, water, roads, waste, lighting, gas, green spaces, bus stops and safety by
  judgement (utilities and housing first). Complaints about roads, waste, green spaces, lighting and utilities
  are scaled by ``1.3 − 0.6 × performance`` (well-kept cities get fewer), the other categories absorb the
  difference so the total stays calibrated.
- **Emergency dispatches** (per 1 000 residents per year): ambulance 300 (7.4 M calls in 2025, 1.4 M of them served
  by polyclinic mobile teams: ≈ 300 per 1 000 by ambulance crews — Ministry of Health, baq.kz 5 Jan 2026), police
  patrols 80 (judgement), gas emergency service 5, fire 2.2 (≈ 75 fires per 100 000 a year — «over 15 thousand a
  year», МВД — times three for false alarms, rescues and other call-outs; 100–150 call-outs a day in the country),
  rescue 1.5. Ambulance ≫ fire.
- **Payments** (ЕРЦ, per resident per month): one household (≈ 3.3 people) pays 1.5–2.5 utility bills a month
  through the settlement centre depending on how many suppliers it covers: republican 0.55–0.80, oblast
  0.40–0.70, district 0.30–0.60, rising with performance — Almaty and Astana above 1 M payments a month.
- **Public transport** (only where initiative 4 is implemented): boardings per resident per day 0.55 / 0.30 / 0.12
  by category × (0.7 + 0.5 × performance): Astana carried 1.1 M passengers a day in 2025 for 1.65 M residents
  (0.67; 0.8 M in 2024 — akimat, inform.kz 22 Dec 2025), oblast centres have fewer routes and more walking; a
  journey is 1.25 boardings. Journeys with a recorded alighting time are a 1 % sample even at scale 1 (few Kazakh
  systems have tap-out; the rest comes from surveys), weighted up. Stop events cover a sample of route-stops
  (residents / 25 000, 4 … 60) through the service day 06:00–23:00; validations are per route (residents / 15 000,
  3 … 150), hour and payment type.
- **Uptime probes** of the public dashboard every 5 minutes at scale 1 (``300 / scale`` seconds, at most daily).
- **Air quality**: daily means of 5 pollutants at 5 stations in republican cities, 3 / 2 / 1 in oblast cities of
  ≥ 150 000 / ≥ 50 000 / fewer residents (a small town has a station with probability 0.6), and one station in 30 %
  of district centres (Kazhydromet's network). Below scale 0.05 only some days are kept (at least 3 a month).
- **Incidents** are daily counts (not sampled; see :mod:`.city` for the rates).

**Sampling.** A table with a ``weight`` column is sampled in strata (settlement × month × category or service): the
true number of records ``N`` is Poisson around the rate, ``n ~ Binomial(N, scale)`` rows are written, each with
``weight = 1 / scale``; where a KPI needs rows every month (the ``floor`` of a stratum: e.g. road, lighting and
waste requests for 1.14, 1.15, 1.18) at least ``min(N, floor)`` rows are written and every row of the stratum then
weighs ``N / n``. Both keep counts (Σ weight) and shares unbiased. Floors per month: calls 6; road, lighting,
waste, health and housing requests 2; the other complaint categories and public transport 1; ambulance 3 and fire
2 dispatches; payments 4; journeys 10. At scale 1 every record is written, weight 1. :func:`plan` gives the
expected rows without generating anything.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .profiles import Arr, Profile

CATEGORY_INDEX = {"republican": 0, "oblast": 1, "district": 2}
REQUESTS_PER_RESIDENT = (1.39, 0.85, 0.45)  # per year, by category (module docstring)
PHONE_SHARE = (0.79, 0.82, 0.88)
REQUEST_MIX: dict[str, float] = {
    "health": 0.300, "public_transport": 0.120, "education": 0.110, "electricity": 0.068, "billing": 0.041,
    "housing": 0.080, "heating": 0.050, "water": 0.045, "roads": 0.035, "waste": 0.030, "street_lighting": 0.020,
    "gas": 0.015, "green_spaces": 0.010, "bus_stops": 0.010, "safety": 0.020, "other": 0.046,
}
COMPLAINT_CATEGORIES = ("roads", "waste", "green_spaces", "street_lighting", "water", "electricity", "gas", "heating",
                        "bus_stops")
REQUEST_FLOORS = {"roads": 2, "street_lighting": 2, "waste": 2, "green_spaces": 1, "electricity": 1, "water": 1,
                  "gas": 1, "bus_stops": 1, "health": 2, "housing": 2, "public_transport": 1}
EMERGENCY_PER_1000 = {"ambulance": 300.0, "police": 80.0, "gas": 5.0, "fire": 2.2, "rescue": 1.5}
EMERGENCY_FLOORS = {"ambulance": 3, "fire": 2}
PAYMENTS_PER_RESIDENT_MONTH = ((0.55, 0.25), (0.40, 0.30), (0.30, 0.30))  # (at performance 0, rise to 1)
BOARDINGS_PER_RESIDENT_DAY = (0.55, 0.30, 0.12)
BOARDINGS_PER_JOURNEY = 1.25
JOURNEY_SAMPLE = 0.01
SERVICE_HOURS = (6, 23)
CALL_FLOOR, PAYMENT_FLOOR, JOURNEY_FLOOR = 6, 4, 10
PROBE_SECONDS = 300.0
FULL_AIR_SCALE = 0.05
MAX_BATCH_ROWS = 500_000

# Seasonality: relative volume per month (January first), normalised to a mean of 1 where used.
SEASON: dict[str, tuple[float, ...]] = {
    "calls": (1.12, 1.08, 1.02, 0.98, 0.92, 0.9, 0.9, 0.92, 0.98, 1.05, 1.08, 1.1),  # heating season, snow
    "ambulance": (1.1, 1.08, 1.02, 0.98, 0.95, 0.95, 0.97, 0.95, 0.96, 1.0, 1.02, 1.05),
    "fire": (1.1, 1.0, 1.05, 1.35, 1.2, 0.95, 0.9, 0.9, 0.85, 0.95, 0.85, 0.9),  # spring grass fires, stoves
    "flat": (1.0,) * 12,
    "payments": (1.05, 1.02, 1.02, 1.0, 0.97, 0.95, 0.95, 0.96, 0.98, 1.02, 1.03, 1.05),
    "transit": (1.02, 1.02, 1.03, 1.02, 1.0, 0.9, 0.85, 0.9, 1.06, 1.06, 1.06, 1.08),  # summer holidays
}
# Share of the day's volume by local hour (0 … 23), normalised where used.
HOURLY: dict[str, tuple[float, ...]] = {
    "office": (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.6, 3.4, 3.6, 3.5, 3.0, 3.2, 3.4, 3.3, 3.0, 2.6, 2.0,
               1.5, 1.1, 0.8, 0.5, 0.3),
    "emergency": (1.4, 1.1, 0.9, 0.8, 0.8, 0.9, 1.2, 1.6, 1.9, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.1, 2.2, 2.3, 2.4,
                  2.4, 2.3, 2.1, 1.9, 1.6),
    "transit": (0.05, 0.02, 0.01, 0.01, 0.02, 0.3, 1.5, 3.2, 3.0, 2.0, 1.6, 1.5, 1.6, 1.6, 1.7, 1.9, 2.4, 3.1,
                2.8, 1.9, 1.3, 0.9, 0.5, 0.2),
}


@dataclass(frozen=True)
class Stratum:
    """Records of one kind in one settlement: expected true records per month (12 values) and the row floor."""

    key: str
    lam: Arr
    floor: int = 0


def days_in_months(year: int) -> Arr:
    return np.array([calendar.monthrange(year, m)[1] for m in range(1, 13)], dtype=np.float64)


def season(name: str) -> Arr:
    factors = np.array(SEASON[name], dtype=np.float64)
    normalised: Arr = factors / factors.mean()
    return normalised


def per_year(annual: float, year: int, pattern: str = "flat") -> Arr:
    """An annual volume spread over the 12 months by days and season."""
    weights = days_in_months(year) * season(pattern)
    spread: Arr = annual * weights / weights.sum()
    return spread


# --- strata of the weighted tables -------------------------------------------------------------------------------
def call_strata(profile: Profile, year: int) -> list[Stratum]:
    c = CATEGORY_INDEX[profile.category]
    annual = REQUESTS_PER_RESIDENT[c] * PHONE_SHARE[c] * profile.population
    return [Stratum("calls", per_year(annual, year, "calls"), CALL_FLOOR)]


def request_mix(profile: Profile) -> dict[str, float]:
    factor = 1.3 - 0.6 * profile.performance
    mix = {k: v * (factor if k in COMPLAINT_CATEGORIES else 1.0) for k, v in REQUEST_MIX.items()}
    complaints = sum(v for k, v in mix.items() if k in COMPLAINT_CATEGORIES)
    rest = 1.0 - complaints
    others = sum(v for k, v in REQUEST_MIX.items() if k not in COMPLAINT_CATEGORIES)
    return {k: (v if k in COMPLAINT_CATEGORIES else v * rest / others) for k, v in mix.items()}


def request_strata(profile: Profile, year: int) -> list[Stratum]:
    annual = REQUESTS_PER_RESIDENT[CATEGORY_INDEX[profile.category]] * profile.population
    return [Stratum(k, per_year(annual * share, year, "calls"), REQUEST_FLOORS.get(k, 0))
            for k, share in request_mix(profile).items()]


def dispatch_strata(profile: Profile, year: int) -> list[Stratum]:
    out = []
    for service, rate in EMERGENCY_PER_1000.items():
        pattern = "fire" if service == "fire" else "ambulance" if service == "ambulance" else "flat"
        out.append(Stratum(service, per_year(rate * profile.population / 1000.0, year, pattern),
                           EMERGENCY_FLOORS.get(service, 0)))
    return out


def payments_per_month(profile: Profile) -> float:
    low, rise = PAYMENTS_PER_RESIDENT_MONTH[CATEGORY_INDEX[profile.category]]
    return (low + rise * profile.performance) * profile.population


def payment_strata(profile: Profile, year: int) -> list[Stratum]:
    return [Stratum("payments", per_year(12 * payments_per_month(profile), year, "payments"), PAYMENT_FLOOR)]


def boardings_per_day(profile: Profile) -> float:
    base = BOARDINGS_PER_RESIDENT_DAY[CATEGORY_INDEX[profile.category]]
    return base * (0.7 + 0.5 * profile.performance) * profile.population


def journey_strata(profile: Profile, year: int) -> list[Stratum]:
    annual = boardings_per_day(profile) * days_in_months(year).sum() / BOARDINGS_PER_JOURNEY
    return [Stratum("journeys", per_year(annual, year, "transit"), JOURNEY_FLOOR)]


# --- sampling -------------------------------------------------------------------------------------------------
def sample_counts(rng: np.random.Generator, stratum: Stratum, scale: float) -> tuple[Arr, Arr, Arr]:
    """Per month: true records N, rows n and the weight of each row (module docstring)."""
    true = rng.poisson(stratum.lam).astype(np.int64)
    rows = rng.binomial(true, min(1.0, scale)).astype(np.int64)
    if stratum.floor:
        rows = np.minimum(true, np.maximum(rows, stratum.floor))
        weight = np.where(rows > 0, true / np.maximum(rows, 1), 0.0)
    else:
        weight = np.full(12, 1.0 / min(1.0, scale))
    return true, rows, weight


@dataclass(frozen=True)
class Batch:
    """Sampled rows of several strata and months: per row its stratum (index), month (0 … 11) and weight."""

    stratum: Arr
    month: Arr
    weight: Arr

    @property
    def n(self) -> int:
        return len(self.month)


def sampled_batches(rng: np.random.Generator, strata: list[Stratum], scale: float,
                    max_rows: int = MAX_BATCH_ROWS) -> Iterator[Batch]:
    """All sampled rows of ``strata`` for a year, in batches of whole months of at most ``max_rows`` rows (a
    bigger month is one batch), so memory stays bounded at scale 1."""
    if not strata:
        return
    drawn = [sample_counts(rng, s, scale) for s in strata]
    rows = np.array([d[1] for d in drawn])  # strata × 12
    weight = np.array([d[2] for d in drawn])
    per_month = rows.sum(axis=0)
    month = 0
    while month < 12:
        last = month + 1
        while last < 12 and per_month[month:last + 1].sum() <= max_rows:
            last += 1
        cells = rows[:, month:last]
        index = np.arange(len(strata))[:, None].repeat(last - month, axis=1)
        months = np.arange(month, last)[None, :].repeat(len(strata), axis=0)
        flat = cells.ravel()
        if flat.sum():
            yield Batch(np.repeat(index.ravel(), flat), np.repeat(months.ravel(), flat),
                        np.repeat(weight[:, month:last].ravel(), flat))
        month = last


def expected_rows(strata: list[Stratum], scale: float) -> float:
    """E[rows] of :func:`sample_counts` over the strata and months: with true records ``N ~ Poisson(λ)`` and
    ``M ~ Binomial(N, s)``, rows are ``M`` (no floor) or ``min(N, max(floor, M))``. Exact up to floating point: for
    a large λ (``N`` is then above the floor) ``E = E[max(f, M)]`` with ``M ~ Poisson(λ s)``; for a small λ the
    expectation is summed over ``N``."""
    if not strata:
        return 0.0
    s = min(1.0, scale)
    lam = np.concatenate([st.lam for st in strata])
    floor = np.concatenate([np.full(len(st.lam), st.floor) for st in strata])
    total = float((lam * s)[floor == 0].sum())
    big = (floor > 0) & (lam > SMALL_LAMBDA)
    if big.any():
        mu, f = lam[big] * s, floor[big]
        shortfall = np.zeros(len(mu))
        for k in range(int(f.max())):
            pmf = np.exp(-mu + k * np.log(np.maximum(mu, 1e-300)) - math.lgamma(k + 1))
            shortfall += np.where(k < f, pmf * (f - k), 0.0)
        total += float((mu + shortfall).sum())
    small = (floor > 0) & ~big
    if small.any():
        grid = np.arange(GRID_TOP + 1, dtype=np.float64)
        log_factorial = np.concatenate([[0.0], np.cumsum(np.log(grid[1:]))])
        pmf = np.exp(-lam[small, None] + grid[None, :] * np.log(np.maximum(lam[small, None], 1e-300))
                     - log_factorial[None, :])
        for f in np.unique(floor[small]):
            rows = floor[small] == f
            total += float((pmf[rows] @ _rows_given_records(int(f), s, grid, log_factorial)).sum())
    return total


SMALL_LAMBDA = 40.0
GRID_TOP = 120


def _rows_given_records(floor: int, s: float, grid: Arr, log_factorial: Arr) -> Arr:
    """E[min(N, max(floor, Binomial(N, s)))] for every N of ``grid``."""
    out = grid * s
    for k in range(floor):
        if s >= 1.0:
            binomial = (grid == k).astype(np.float64)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                log_choose = log_factorial[grid.astype(int)] - log_factorial[k] - log_factorial[
                    np.maximum(grid - k, 0).astype(int)]
                binomial = np.where(grid >= k, np.exp(log_choose + k * np.log(s) + (grid - k) * np.log1p(-s)), 0.0)
        out = out + binomial * (floor - k)
    return np.minimum(out, grid)


# --- equipment of the unweighted tables ---------------------------------------------------------------------------
def route_stops(profile: Profile) -> int:
    return int(np.clip(round(profile.population / 25_000), 4, 60))


def routes(profile: Profile) -> int:
    return int(np.clip(round(profile.population / 15_000), 3, 150))


def stations(profile: Profile) -> int:
    if profile.category == "republican":
        return 5
    if profile.category == "oblast":
        if profile.population >= 150_000:
            return 3
        if profile.population >= 50_000:
            return 2
        return 1 if profile.chance("air-station", 0.6) else 0
    return 1 if profile.chance("air-station", 0.3) else 0


def air_days(days: int, scale: float) -> int:
    return days if scale >= FULL_AIR_SCALE else min(days, max(3, round(days * scale / FULL_AIR_SCALE)))


def probe_seconds(scale: float) -> float:
    return min(86_400.0, PROBE_SECONDS / min(1.0, scale))


def stop_hours(profile: Profile, days: float, scale: float) -> int:
    full = route_stops(profile) * days * (SERVICE_HOURS[1] - SERVICE_HOURS[0])
    return int(min(full, max(4, round(full * min(1.0, scale)))))


def validation_rows(profile: Profile, days: float, scale: float) -> int:
    """Rows per month and payment type: a route-hour each at scale 1, fewer and bigger below."""
    full = routes(profile) * days * (SERVICE_HOURS[1] - SERVICE_HOURS[0] + 1)
    return int(max(1, round(full * min(1.0, scale))))


def transit_headway(profile: Profile, target_wait: float) -> float:
    """Scheduled headway (minutes) so that the expected wait Σh²/(2Σh) ≈ target / achievement."""
    wait = target_wait / profile.achievement("4.1")
    return float(np.clip(2.0 * wait / 1.15, 3.0, 60.0))

