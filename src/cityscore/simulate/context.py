"""What every generator needs: the standard's targets and formula parameters per category, the scale, the seed."""

from __future__ import annotations

from dataclasses import dataclass

from ..standard import Category, Standard, Target
from ..standard.units import resolve


@dataclass(frozen=True)
class Context:
    std: Standard
    year: int
    scale: float
    seed: int

    def target(self, kpi_id: str, category: Category, default: float | None = None) -> float:
        """The numeric target of ``kpi_id`` for ``category`` (ranges resolved to their lenient end, as the default
        policy does); ``default`` when the category has none or it is not a number."""
        found = self.target_of(kpi_id, category)
        if found is not None and found.value is not None:
            value = resolve(found.value, found.comparator, "lenient")
            if value is not None:
                return float(value)
        if default is None:
            raise KeyError(f"KPI {kpi_id} has no numeric target for {category}")
        return default

    def target_of(self, kpi_id: str, category: Category) -> Target | None:
        kpi = self.std.kpi(kpi_id)
        return kpi.targets.target(category) if kpi is not None else None

    def parameter(self, kpi_id: str, name: str, category: Category, default: float) -> float:
        """A formula parameter (1.8: answer within seconds; 1.11: arrival within minutes), resolved like the
        measures do (lenient end of a range)."""
        kpi = self.std.kpi(kpi_id)
        if kpi is None or name not in kpi.parameters:
            return default
        value = kpi.parameters[name][category]
        if isinstance(value, int | float | tuple):
            resolved = resolve(value, "≤", "lenient")
            return float(resolved) if resolved is not None else default
        return default
