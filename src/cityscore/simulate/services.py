"""Records of the city's services: 109 calls, requests and appeals, emergency dispatches, ЕРЦ payments, uptime probes.

Each generator yields column dicts for one settlement and year (sampled per stratum and month, see :mod:`.volumes`).
Quality follows the settlement's achievement ``a`` for the KPI (see :mod:`.profiles`):

- **Calls (1.8).** Share answered within the category's time (30 / 45 / 90 s) ``S = target × a`` (0.15 … 0.985);
  answered calls ``max(S + 1 pt, 0.88 + 0.10 × performance)``; answer times lognormal (σ = 0.8) with the median
  that puts ``S`` of all calls within the time. Unanswered calls are abandoned (90 %) or dropped.
- **Requests (1.9, 1.10, 1.14, 1.15, 1.18, 2.1).** Road, lighting and waste requests always need work and carry a
  deadline; other requests are consultations closed within minutes with probability ``F / (1 − share of those
  three)``, ``F = target(2.1) × a`` (Astana: 77 % on first contact in 2018, ≈ 88 % in 2025; target 85–90 %).
  Deadlines (calendar days): roads, housing, green spaces, bus stops 10; lighting, other 5; water, electricity 3;
  waste, heating, gas 2. Requests are closed in time with probability ``target × a`` of their KPI (1.14 roads, 1.15
  lighting, 1.18 waste, 1.9 the rest), else late (deadline + exponential, mean half the deadline) or still open
  (15 % of late ones). 30 % of closed requests are rated 1–5 around ``target(1.10) × a``. Requests come by phone
  in the category's share (:mod:`.volumes`) − 0.1 × (digital − 0.5), else through the app, web or messengers.
  ``resolved_first_contact`` is recorded only where ЕКЦ 109+ (initiative 2) is implemented: elsewhere 2.1 has no
  data. 60 % of applicants are identified by ИИН (valid control digits), callers by their mobile number.
- **Dispatches (1.11, 10.1, 10.3).** Fire and ambulance crews arrive within the category's time (6 / 10 / 15 min)
  with probability ``target × a`` (lognormal, σ = 0.45). For scale: in 2025 ambulances took 8.8 minutes on average
  to reach the most urgent calls nationwide, and a call reached a crew in 1.7 minutes (Ministry of Health) — so 90 %
  within 6 minutes, the republican target, is reached only by the best simulated cities. Ambulance crews leave
  after 1.5 minutes (median), fire crews after ``target(10.1) × 0.5 / a`` minutes on average; police, gas and
  rescue crews arrive after 12–15 minutes (median, judgement). False alarms are ``target(10.3) / a`` of fire calls
  (0.2 … 20 %), 0.5 % of ambulance calls, 3 % of police calls; 1 % of ambulance calls are cancelled before arrival.
- **Payments (3.3–3.6).** Crediting takes ``target(3.4) / a`` hours on average (lognormal, σ = 0.9); automated with
  probability ``target(3.5) × a``; disputed with probability ``target(3.6) / a``; amounts lognormal around 9 000 ₸.
- **Uptime (1.2).** Outages (2 + 6 × (1 − performance) a month, exponential lengths) take ``0.5 % / a²`` of the
  time (0.05 … 4 %); each probe stands for the interval since the previous one.
"""

from __future__ import annotations

from collections.abc import Iterator
from statistics import NormalDist
from typing import Any

import numpy as np

from .context import Context
from .profiles import Arr, Profile
from .volumes import (
    CATEGORY_INDEX,
    HOURLY,
    PHONE_SHARE,
    Batch,
    Stratum,
    call_strata,
    dispatch_strata,
    payment_strata,
    probe_seconds,
    request_strata,
    sampled_batches,
)
from .writer import (
    US_PER_SECOND,
    civil_times,
    ids,
    iins,
    local_us,
    masked,
    masked_strings,
    masked_timestamps,
    phones,
    to_utc,
)

Columns = dict[str, Any]
SLA_DAYS = {"roads": 10, "housing": 10, "green_spaces": 10, "bus_stops": 10, "street_lighting": 5, "water": 3,
            "electricity": 3, "waste": 2, "heating": 2, "gas": 2}
SLA_KPI = {"roads": "1.14", "street_lighting": "1.15", "waste": "1.18"}
ALWAYS_WORK = tuple(SLA_KPI)
US_PER_MINUTE = 60 * US_PER_SECOND


def hourly(name: str) -> Arr:
    weights = np.array(HOURLY[name], dtype=np.float64)
    shares: Arr = weights / weights.sum()
    return shares


def _clip(x: float, low: float, high: float) -> float:
    return min(high, max(low, x))


def _lognormal_median_for(share: float, limit: float, sigma: float) -> float:
    """The median of a lognormal (σ) with ``share`` of its mass at or below ``limit``."""
    share = _clip(share, 0.005, 0.995)
    return float(np.exp(np.log(limit) - sigma * NormalDist().inv_cdf(share)))


def _batches(rng: np.random.Generator, strata: list[Stratum], scale: float, year: int, pattern: str) -> (
        Iterator[tuple[Batch, Arr]]):
    """Sampled rows with their civil times, a batch at a time (see :func:`.volumes.sampled_batches`)."""
    hours = hourly(pattern)
    for batch in sampled_batches(rng, strata, scale):
        yield batch, civil_times(rng, year, batch.month, hours)


def contact_center_calls(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    rng = p.rng("calls", year)
    limit = ctx.parameter("1.8", "answer_within_seconds", p.category, 30.0)
    share = _clip(ctx.target("1.8", p.category) / 100.0 * p.achievement("1.8"), 0.15, 0.985)
    answer_rate = _clip(max(share + 0.01, 0.88 + 0.10 * p.performance), 0.5, 0.997)
    median = _lognormal_median_for(share / answer_rate, limit, 0.8)
    monthly_median = median * np.exp(rng.normal(0, 0.06, 12))
    start = 0
    for batch, civil in _batches(rng, call_strata(p, year), ctx.scale, year, "office"):
        n = batch.n
        answered = rng.random(n) < answer_rate
        seconds = np.round(np.exp(np.log(monthly_median[batch.month]) + 0.8 * rng.standard_normal(n)), 1)
        yield {
            "call_id": ids(f"{p.kato}-{year}-", start, n), "settlement": p.kato,
            "received_at": to_utc(civil), "answered": answered,
            "answer_seconds": masked(np.minimum(seconds, 3600.0), answered, "float"),
            "abandoned": ~answered & (rng.random(n) < 0.9),
            "caller_phone": phones(rng, n, max(50, p.population // 3), int(p.kato) % 10_000_000),
            "channel": "voice", "weight": batch.weight,
        }
        start += n


def service_requests(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    rng = p.rng("requests", year)
    c = p.category
    strata = request_strata(p, year)
    keys = np.array([s.key for s in strata])
    total = sum(float(s.lam.sum()) for s in strata)
    work_share = sum(float(s.lam.sum()) for s in strata if s.key in ALWAYS_WORK) / max(total, 1.0)
    first_contact = _clip(ctx.target("2.1", c) / 100.0 * p.achievement("2.1"), 0.3, 0.97)
    consult = _clip(first_contact / (1.0 - work_share), 0.0, 0.99)
    general = _clip(ctx.target("1.9", c) / 100.0 * p.achievement("1.9"), 0.1, 0.99)
    on_time = np.array([_clip(ctx.target(SLA_KPI[k], c) / 100.0 * p.achievement(SLA_KPI[k]), 0.1, 0.99)
                        if k in SLA_KPI else general for k in keys])
    consult_p = np.array([0.0 if k in ALWAYS_WORK else consult for k in keys])
    sla_us = np.array([SLA_DAYS.get(k, 5) * 86_400 * US_PER_SECOND for k in keys], dtype=np.int64)
    rating = _clip(ctx.target("1.10", c) * p.achievement("1.10"), 1.6, 4.85)
    tracked = p.has(2)
    phone_share = PHONE_SHARE[CATEGORY_INDEX[c]] - 0.1 * (p.digital - 0.5)
    start = 0
    for batch, civil in _batches(rng, strata, ctx.scale, year, "office"):
        n, kind = batch.n, batch.stratum
        opened = to_utc(civil)
        is_consult = rng.random(n) < consult_p[kind]
        sla = sla_us[kind]
        in_time = rng.random(n) < on_time[kind]
        late_open = ~in_time & (rng.random(n) < 0.15)
        work_time = np.where(in_time, sla * rng.beta(2.0, 2.2, n) * 0.98,
                             sla + rng.exponential(1.0, n) * sla * 0.5 + US_PER_MINUTE)
        closed = np.where(is_consult, opened + (rng.uniform(1, 15, n) * US_PER_MINUTE).astype(np.int64),
                          opened + work_time.astype(np.int64))
        closed_known = is_consult | ~late_open
        rated = closed_known & (rng.random(n) < 0.3)
        stars = np.clip(np.round(rng.normal(rating, 0.9, n)), 1, 5)
        by_phone = rng.random(n) < phone_share
        channel = np.where(by_phone, "phone", rng.choice(np.array(["app", "web", "messenger"]), n,
                                                         p=[0.5, 0.3, 0.2]))
        yield {
            "request_id": ids(f"{p.kato}-{year}-R", start, n), "settlement": p.kato, "opened_at": opened,
            "sla_due_at": masked_timestamps(opened + sla, ~is_consult),
            "closed_at": masked_timestamps(closed, closed_known), "category": keys[kind],
            "resolved_first_contact": masked(is_consult, np.full(n, tracked), "bool"),
            "satisfaction": masked(stars, rated, "float"),
            "applicant_iin": masked_strings(iins(rng, n), rng.random(n) < 0.6),
            "applicant_phone": masked_strings(phones(rng, n, max(50, p.population // 3), int(p.kato) % 10_000_000),
                                              by_phone),
            "channel": channel, "weight": batch.weight,
        }
        start += n


def emergency_dispatches(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    rng = p.rng("dispatches", year)
    c = p.category
    strata = dispatch_strata(p, year)
    keys = np.array([s.key for s in strata])
    limit = ctx.parameter("1.11", "arrival_within_minutes", c, 10.0)
    reach = _clip(ctx.target("1.11", c) / 100.0 * p.achievement("1.11"), 0.15, 0.985)
    crews = np.log(_lognormal_median_for(reach / 0.99, limit, 0.45))
    departure = _clip(ctx.target("10.1", c) * 0.5 / p.achievement("10.1"), 0.5, 20.0)
    false_fire = _clip(ctx.target("10.3", c) / 100.0 / p.achievement("10.3"), 0.002, 0.2)
    false_rate = np.array([{"fire": false_fire, "ambulance": 0.005, "police": 0.03}.get(k, 0.02) for k in keys])
    log_median = np.array([crews if k in ("fire", "ambulance") else np.log(12.0 if k == "police" else 15.0)
                           for k in keys])
    sigma = np.array([0.45 if k in ("fire", "ambulance") else 0.5 for k in keys])
    start = 0
    for batch, civil in _batches(rng, strata, ctx.scale, year, "emergency"):
        n, kind = batch.n, batch.stratum
        service = keys[kind]
        call = to_utc(civil)
        arrival = np.exp(log_median[kind] + sigma[kind] * rng.standard_normal(n))
        leave = np.where(service == "fire", rng.exponential(departure, n),
                         np.where(service == "ambulance", np.exp(np.log(1.5) + 0.5 * rng.standard_normal(n)),
                                  rng.exponential(2.0, n)))
        leave = np.minimum(leave, arrival * 0.9)
        arrived = ~((service == "ambulance") & (rng.random(n) < 0.01))
        yield {
            "dispatch_id": ids(f"{p.kato}-{year}-D", start, n), "settlement": p.kato, "service": service,
            "call_at": call, "dispatched_at": call + (leave * US_PER_MINUTE).astype(np.int64),
            "arrived_at": masked_timestamps(call + (arrival * US_PER_MINUTE).astype(np.int64), arrived),
            "false_alarm": rng.random(n) < false_rate[kind], "weight": batch.weight,
        }
        start += n


def payments(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    rng = p.rng("payments", year)
    c = p.category
    hours = _clip(ctx.target("3.4", c) / p.achievement("3.4"), 0.1, 72.0)
    automated = _clip(ctx.target("3.5", c) / 100.0 * p.achievement("3.5"), 0.1, 0.995)
    disputed = _clip(ctx.target("3.6", c) / 100.0 / p.achievement("3.6"), 0.001, 0.2)
    start = 0
    for batch, civil in _batches(rng, payment_strata(p, year), ctx.scale, year, "office"):
        n = batch.n
        received = to_utc(civil)
        lag = np.exp(np.log(hours) - 0.405 + 0.9 * rng.standard_normal(n))  # mean = hours (σ²/2 = 0.405)
        yield {
            "payment_id": ids(f"{p.kato}-{year}-P", start, n), "settlement": p.kato, "received_at": received,
            "credited_at": masked_timestamps(received + (lag * 3600 * US_PER_SECOND).astype(np.int64),
                                             rng.random(n) > 0.003),
            "automated": rng.random(n) < automated, "disputed": rng.random(n) < disputed,
            "amount_kzt": np.round(np.exp(np.log(9000.0) + 0.8 * rng.standard_normal(n)), 0),
            "payer_iin": masked_strings(iins(rng, n), rng.random(n) < 0.9), "weight": batch.weight,
        }
        start += n


def uptime_checks(ctx: Context, p: Profile, year: int) -> Iterator[Columns]:
    rng = p.rng("uptime", year)
    interval = probe_seconds(ctx.scale)
    begin, end = local_us(year), local_us(year + 1)
    step = int(interval * US_PER_SECOND)
    probes = np.arange(begin + int(rng.random() * step), end, step, dtype=np.int64)
    downtime = _clip(0.005 / p.achievement("1.2") ** 2, 0.0005, 0.04)
    outages = int(rng.poisson(12 * (2 + 6 * (1 - p.performance))))
    starts = np.sort(rng.integers(begin, end, max(outages, 1)))[:outages]
    lengths = rng.exponential(max(downtime * (end - begin) / max(outages, 1), 1.0), outages)
    down = np.zeros(len(probes), dtype=bool)
    for s, length in zip(starts, lengths, strict=True):
        down |= (probes >= s) & (probes < s + length)
    n = len(probes)
    yield {"settlement": p.kato, "service": "public_dashboard", "checked_at": to_utc(probes),
           "up": ~down, "interval_seconds": np.full(n, interval)}
