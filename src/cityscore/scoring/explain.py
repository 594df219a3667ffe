"""Explanations: what makes up a settlement's CityScore and what would raise it most.

For every KPI that counts: the actual value, the target of the settlement's category, the score, the weight, the
contribution (weight × score) and the points at stake (weight × (1 − score)) — the CityScore points the settlement
would gain if the KPI met its target. The improvements are the KPIs with the most points at stake.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..standard import Standard
from .engine import KpiOutcome, SettlementResult


@dataclass(frozen=True)
class Improvement:
    kpi: str
    name_ru: str
    name_en: str
    points_at_stake: float
    actual: float | None
    target: float | None
    target_text: str | None
    has_data: bool

    def to_json(self) -> dict[str, object]:
        return {
            "kpi": self.kpi, "name_ru": self.name_ru, "name_en": self.name_en,
            "points_at_stake": self.points_at_stake, "actual": self.actual, "target": self.target,
            "target_text": self.target_text, "has_data": self.has_data,
            "action": "report the data" if not self.has_data else "reach the target",
        }


def improvements(std: Standard, result: SettlementResult, limit: int = 5) -> list[Improvement]:
    """The KPIs whose reaching the target would add the most points, largest first (ties by KPI order)."""
    order = {k.id: i for i, k in enumerate(std.kpis)}
    candidates = [o for o in result.kpis if o.counts and o.points_at_stake > 1e-9]
    candidates.sort(key=lambda o: (-round(o.points_at_stake, 9), order.get(o.kpi, 0)))
    out = []
    for outcome in candidates[:limit]:
        kpi = std.kpi(outcome.kpi)
        out.append(Improvement(
            kpi=outcome.kpi, name_ru=kpi.name.ru if kpi else outcome.kpi, name_en=kpi.name.en if kpi else outcome.kpi,
            points_at_stake=outcome.points_at_stake, actual=outcome.actual, target=outcome.target,
            target_text=outcome.target_text, has_data=outcome.has_data))
    return out


def counted(result: SettlementResult) -> list[KpiOutcome]:
    """The KPIs that count, in catalog order."""
    return [o for o in result.kpis if o.counts]
