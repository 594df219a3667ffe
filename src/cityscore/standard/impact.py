"""The «Влияние на рейтинг города с обоснованием» column of Appendix 4 against the points (D-54).

The points («Ценность KPI (баллы)») weigh the KPIs; the label is a justification in words. It is read here only to
find where the two disagree: inside one section, a KPI with a lower label that has more points than one with a
higher label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .models import KPI, Standard

ImpactLevel = Literal["low", "medium", "high", "critical"]
RANK: dict[ImpactLevel, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
_PREFIXES: tuple[tuple[str, ImpactLevel], ...] = (
    ("критичн", "critical"), ("критическ", "critical"), ("высок", "high"), ("средн", "medium"), ("низк", "low"))


def impact_level(kpi: KPI) -> ImpactLevel | None:
    """The level the label opens with («Высокое: …» → high, «Среднее: …» → medium, «Критично для …» → critical);
    None when the cell gives only a justification («Влияет на …») or is lost."""
    text = (kpi.impact_ru or "").strip().lstrip("…").strip().lower()
    return next((level for prefix, level in _PREFIXES if text.startswith(prefix)), None)


@dataclass(frozen=True)
class ImpactMismatch:
    """Two KPIs of one section whose labels and points are in opposite order."""

    section: str
    lower: KPI  # the lower label, but more points
    higher: KPI

    def message(self) -> str:
        return (f"{self.lower.id} ({impact_level(self.lower)}) has {self.lower.weight_points} points, more than "
                f"{self.higher.id} ({impact_level(self.higher)}) with {self.higher.weight_points}, in section "
                f"{self.section}")


def impact_mismatches(std: Standard) -> list[ImpactMismatch]:
    """Every pair of KPIs of one section where the lower label carries more points (sections weigh KPIs against
    each other, D-02, so only pairs inside one section matter)."""
    out = []
    labelled = [(k, impact_level(k)) for k in std.kpis if k.weight_points is not None]
    for lower, low in labelled:
        for higher, high in labelled:
            if (low is not None and high is not None and lower.section == higher.section
                    and RANK[low] < RANK[high] and (lower.weight_points or 0) > (higher.weight_points or 0)):
                out.append(ImpactMismatch(lower.section, lower, higher))
    return out
