"""Who each simulated settlement is: a latent performance, the initiatives it has implemented, its equipment.

**Performance.** Every settlement gets a latent ``performance`` in (0, 1) that drives everything a city can do
better or worse: answer times, on-time shares, satisfaction, arrival times, waits, cashless payments … It is
*stratified* within each category: the settlements of a category are put in a random order (from the seed) and the
k-th of n gets ``0.1 + 0.9 × (k + u) / n`` with ``u`` uniform in [0, 1) (the worst city still does something). So
every category spreads over the whole range — the three republican cities land in the lower, middle and upper
thirds — whatever the seed, and the value depends only on the seed and the KATO code (never on a ``settlements=``
filter). Two further traits are derived from it with noise: ``digital`` (digital maturity, σ = 0.12: the share of
109 requests made online, and half of the driver of the automation and cashless KPIs 1.7, 3.5, 4.5, 9.3, 9.7, 10.4,
14.3, 16.3) and ``trend`` (how much the city improves on the previous year, ``0.12 × (performance − 0.35)`` ± 2 %:
the driver of the change KPIs 1.12, 1.13, 1.16, 1.20, 1.21).

**Achievement.** A KPI's value is set from an *achievement* ``a`` relative to the category's target:
``a = 0.5 + 0.7 × performance + noise`` (σ = 0.06, per settlement and KPI), so a city at performance 0.71 is on
target, the best reach 1.2 × the target and the worst half of it. For a «≥» target the value is
``target × a``, for a «≤» target ``target / a`` (both within the unit's limits). Under the official scoring
(``min(actual / target, 1)``, ``target / actual``) a KPI then scores about ``min(a, 1)``.

**Initiatives.** A settlement only has data of an initiative whose stage (Appendix 2) has begun by the year for its
category, and has implemented it with probability ``0.45 + 0.55 × performance + 0.15 × years since the stage
began`` (within 0.05 … 0.98): a fixed uniform per settlement and initiative is compared with it, so an initiative
implemented in 2026 stays implemented in 2027. KPIs 1.8–1.21 are city-wide outcomes measured in every city
(decisions.md D-05); their data exist whatever the situational centre's state, except as said per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ..settlements import Registry, Settlement
from ..standard import CATEGORIES, Category, Standard

Arr = npt.NDArray[Any]

ACHIEVEMENT_LOW = 0.5  # achievement at performance 0 (a share of the target)
ACHIEVEMENT_SPAN = 0.7  # … rising linearly to 1.2 × the target at performance 1
ACHIEVEMENT_NOISE = 0.06
PERFORMANCE_FLOOR = 0.1  # the worst city still does something: performance spans 0.1 … 1
FALLBACK_POPULATION = 10_000  # registry rows without a population (two district centres): a typical district centre
# KPIs of automation and cashless payment, driven half by performance and half by digital maturity
DIGITAL_KPIS = frozenset({"1.7", "3.5", "4.5", "9.3", "9.7", "10.4", "14.3", "16.3"})


def rng_for(seed: int, *keys: int | str) -> np.random.Generator:
    """An independent generator for (seed, keys…): the same keys always give the same stream, whatever else is
    generated before or after (strings are hashed stably, not with Python's salted ``hash``)."""
    words = [seed & 0xFFFFFFFF]
    for key in keys:
        if isinstance(key, str):
            words.append(_stable_hash(key))
        else:
            words.append(int(key) & 0xFFFFFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(words))


@cache
def _stable_hash(text: str) -> int:
    h = 2166136261
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


@dataclass(frozen=True)
class Profile:
    """One settlement as the simulator sees it."""

    kato: str
    name: str
    category: Category
    population: int  # residents (the registry's, or FALLBACK_POPULATION)
    performance: float
    digital: float
    trend: float  # relative improvement on the previous year (0.05 = 5 % better)
    implemented: frozenset[int]  # initiatives due by the year and implemented
    due: frozenset[int]  # initiatives whose stage has begun by the year for the category
    reporting: float  # probability of reporting a value KPI (value files, observations)
    seed: int
    extras: dict[str, float] = field(default_factory=dict)

    def rng(self, *keys: int | str) -> np.random.Generator:
        return rng_for(self.seed, int(self.kato), *keys)

    def achievement(self, key: str) -> float:
        """``a`` of the module docstring for ``key`` (a KPI id or a named quantity): fixed per settlement and key."""
        noise = float(self.rng("achievement", key).normal(0.0, ACHIEVEMENT_NOISE))
        driver = (self.performance + self.digital) / 2 if key in DIGITAL_KPIS else self.performance
        return max(0.25, ACHIEVEMENT_LOW + ACHIEVEMENT_SPAN * driver + noise)

    def chance(self, key: str, probability: float) -> bool:
        """A fixed Bernoulli draw for ``key``."""
        return bool(self.rng("chance", key).random() < probability)

    def has(self, initiative: int) -> bool:
        return initiative in self.implemented

    def to_json(self) -> dict[str, float]:
        out = {"performance": round(self.performance, 4), "digital": round(self.digital, 4),
               "trend": round(self.trend, 4), "reporting": round(self.reporting, 4),
               "population": float(self.population)}
        out.update({f"initiative_{n}": 1.0 if n in self.implemented else 0.0 for n in sorted(self.due)})
        out.update({k: round(v, 4) for k, v in sorted(self.extras.items())})
        return out


def implementation_probability(performance: float, years_since_start: int) -> float:
    return min(0.98, max(0.05, 0.45 + 0.55 * performance + 0.15 * years_since_start))


def due_initiatives(std: Standard, category: Category, year: int) -> dict[int, int]:
    """Initiatives whose stage has begun by ``year`` for ``category`` → the year the stage began."""
    out = {}
    for initiative in std.initiatives:
        stage = initiative.categories[category]
        if stage is not None and stage.years[0] <= year:
            out[initiative.number] = stage.years[0]
    return out


def performances(registry: Registry, seed: int) -> dict[str, float]:
    """Stratified performance per KATO (module docstring)."""
    out: dict[str, float] = {}
    for index, category in enumerate(CATEGORIES):
        members = sorted(s.kato for s in registry.settlements if s.category == category)
        rng = rng_for(seed, "performance", index)
        order = rng.permutation(len(members))
        jitter = rng.random(len(members))
        for position, kato in enumerate(members):
            quantile = (order[position] + jitter[position]) / len(members)
            out[kato] = float(PERFORMANCE_FLOOR + (1.0 - PERFORMANCE_FLOOR) * quantile)
    return out


def build_profiles(std: Standard, registry: Registry, year: int, seed: int) -> dict[str, Profile]:
    """Every settlement's profile for ``year`` (deterministic from the seed and the KATO code)."""
    perf = performances(registry, seed)
    return {s.kato: _profile(std, s, perf[s.kato], year, seed) for s in registry.settlements}


def _profile(std: Standard, settlement: Settlement, performance: float, year: int, seed: int) -> Profile:
    rng = rng_for(seed, int(settlement.kato), "traits")
    digital = float(np.clip(performance + rng.normal(0.0, 0.12), 0.0, 1.0))
    trend = float(0.12 * (performance - 0.35) + rng.normal(0.0, 0.02))
    category: Category = settlement.category
    due = due_initiatives(std, category, year)
    implemented = set()
    for number, start in due.items():
        draw = float(rng_for(seed, int(settlement.kato), "implemented", number).random())
        if draw < implementation_probability(performance, year - start):
            implemented.add(number)
    population = settlement.population if settlement.population and settlement.population > 0 else (
        FALLBACK_POPULATION)
    return Profile(kato=settlement.kato, name=settlement.name_ru, category=category, population=int(population),
                   performance=performance, digital=digital, trend=trend, implemented=frozenset(implemented),
                   due=frozenset(due), reporting=min(1.0, 0.55 + 0.5 * performance), seed=seed)
