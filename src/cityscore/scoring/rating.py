"""The rating: CityScore for every settlement of a year, ranks within each category, movement, coverage.

Ranks are competition ranks on the published score within one category (ties share a rank: 1, 2, 2, 4).
Movement compares with the previous year's rating, computed from the same observations when they reach back a
year (and under the same policy).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..settlements import Registry
from ..standard import CATEGORIES, Standard
from .annual import AnnualValue, Observation, annual_value
from .bonus import Evidence, bonus_for
from .engine import SettlementResult, score_settlement
from .policy import ScoringPolicy
from .selection import eligibility

DYNAMIC_KINDS = ("reduction", "growth", "stabilisation", "qualitative")


@dataclass(frozen=True)
class ScoreRun:
    """One scoring run: the standard version and the policy it used, and one result per settlement."""

    standard_id: str
    policy: ScoringPolicy
    year: int
    results: tuple[SettlementResult, ...]
    previous_year_scored: bool

    def result(self, settlement: str) -> SettlementResult | None:
        return next((r for r in self.results if r.settlement == settlement), None)

    def of_category(self, category: str) -> tuple[SettlementResult, ...]:
        return tuple(r for r in self.results if r.category == category)


def competition_ranks(scores: list[float]) -> list[int]:
    """Ranks of ``scores`` (higher is better) where ties share a rank and the next rank skips: 1, 2, 2, 4."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    ranks = [0] * len(scores)
    for position, index in enumerate(order):
        if position and scores[index] == scores[order[position - 1]]:
            ranks[index] = ranks[order[position - 1]]
        else:
            ranks[index] = position + 1
    return ranks


def rank(results: Iterable[SettlementResult]) -> list[SettlementResult]:
    """Give every result its rank within its category; sorted by category, rank and KATO code."""
    out: list[SettlementResult] = []
    by_category: dict[str, list[SettlementResult]] = defaultdict(list)
    for r in results:
        by_category[r.category].append(r)
    for category in CATEGORIES:
        group = by_category.get(category, [])
        ranks = competition_ranks([r.cityscore for r in group])
        ranked = [replace(r, rank=k) for r, k in zip(group, ranks, strict=True)]
        out += sorted(ranked, key=lambda r: (r.rank or 0, r.settlement))
    return out


def annual_values(std: Standard, observations: Iterable[Observation], year: int, policy: ScoringPolicy) -> (
        dict[str, dict[str, AnnualValue]]):
    """Annual values per settlement and KPI for ``year``; baselines of dynamic KPIs from earlier years if needed."""
    grouped: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for o in observations:
        grouped[(o.settlement, o.kpi)].append(o)
    dynamic = {k.id for k in std.kpis if any(
        t is not None and t.kind in DYNAMIC_KINDS for t in (k.targets.target(c) for c in CATEGORIES))}
    out: dict[str, dict[str, AnnualValue]] = defaultdict(dict)
    for (settlement, kpi_id), rows in grouped.items():
        kpi = std.kpi(kpi_id)
        if kpi is None:
            continue
        value = annual_value(kpi, year, rows)
        if value is None:
            continue
        if value.baseline is None and kpi_id in dynamic:
            years = sorted({o.year for o in rows if o.year < year})
            base_year = (year - 1 if year - 1 in years else None) if policy.baseline == "previous_year" else (
                years[0] if years else None)
            if base_year is not None:
                previous = annual_value(kpi, base_year, rows)
                if previous is not None and previous.value is not None:
                    value = replace(value, baseline=previous.value)
        out[settlement][kpi_id] = value
    return out


def score_year(
    std: Standard,
    policy: ScoringPolicy,
    registry: Registry,
    *,
    observations: list[Observation],
    evidence: list[Evidence] = (),  # type: ignore[assignment]
    year: int,
    settlements: Iterable[str] | None = None,
    with_previous: bool = True,
) -> ScoreRun:
    """Score every settlement in ``settlements`` (default: those with observations or evidence for ``year``)."""
    values = annual_values(std, observations, year, policy)
    evidence_by: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        evidence_by[item.settlement].append(item)
    chosen = list(settlements) if settlements is not None else sorted(set(values) | set(evidence_by))
    decided = {c: [eligibility(std, k, c, year, policy) for k in std.kpis] for c in CATEGORIES}
    results = []
    for kato in chosen:
        settlement = registry.get(kato)
        if settlement is None:
            continue
        verdicts = tuple(bonus_for(std, evidence_by.get(kato, []), year, policy))
        results.append(score_settlement(std, policy, settlement=kato, category=settlement.category, year=year,
                                        annual=values.get(kato, {}), bonus=verdicts,
                                        decided=decided[settlement.category]))
    ranked = rank(results)
    previous_scored = False
    reported_before = {o.settlement for o in observations if o.year == year - 1} & set(chosen)
    if with_previous and reported_before and year - 1 >= int(std.order.in_force[:4]):
        previous = score_year(std, policy, registry, observations=observations, evidence=evidence, year=year - 1,
                              settlements=sorted(reported_before), with_previous=False)
        before = {r.settlement: r for r in previous.results}
        ranked = [replace(r, previous_rank=before[r.settlement].rank, previous_cityscore=before[r.settlement].cityscore)
                  if r.settlement in before else r for r in ranked]
        previous_scored = True
    return ScoreRun(std.id, policy, year, tuple(ranked), previous_scored)
