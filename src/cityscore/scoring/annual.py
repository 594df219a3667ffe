"""Annual KPI values from sub-annual observations.

Rules (``docs/scoring.md`` §2):

1. When every observation of a settlement × KPI × year carries a numerator and a denominator, they are pooled:
   ``value = scale × Σ numerator / Σ denominator`` (``scale`` = 100 for percentages, 1 000 for rates per 1 000 …).
   Percentages are never averaged when their counts are known.
2. Otherwise the values are aggregated by the KPI's aggregation (catalog field ``aggregation``, default by unit):
   ``mean`` — mean weighted by the length of each observation's period in days; ``sum`` — total over the year;
   ``monthly_mean`` — total divided by the number of months covered (a count «в месяц»; whole calendar months count
   as such, so a year is 12); ``latest`` — the value of the latest period (a stock, such as the number of GIS
   layers).
3. A baseline, when present, is aggregated with the same counts as the value: for a pooled value, each period's
   baseline weighted by that period's denominator (so unchanged periods give an unchanged year, whatever the mix of
   periods), otherwise as the value is. The comparison is period by period: a period without a baseline leaves out
   of both the value and the baseline, not the year (decisions.md D-46).
4. Observations with a ``component`` (KPI 1.4: one value per data domain) are aggregated per component.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..standard import KPI
from ..standard.inputs import Observation as Observation
from ..standard.units import POOL_SCALE as POOL_SCALE  # re-exported

DEFAULT_AGGREGATION: dict[str, str] = {
    "count_per_month": "monthly_mean",
    "count_per_year": "sum",
    "kwh": "sum",
    "count": "latest",
    "square_meters_per_resident": "latest",
}


@dataclass(frozen=True)
class AnnualValue:
    """The value of one KPI for one settlement and year, with how it was obtained."""

    settlement: str
    kpi: str
    year: int
    value: float | None
    method: str
    observations: int
    numerator: float | None = None
    denominator: float | None = None
    baseline: float | None = None
    components: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value, "method": self.method, "observations": self.observations,
            "numerator": self.numerator, "denominator": self.denominator, "baseline": self.baseline,
        }
        if self.components:
            out["components"] = dict(self.components)
        return out


def aggregation_of(kpi: KPI) -> str:
    """The aggregation of ``kpi`` for non-pooled values: its catalog field, else the default of its unit."""
    return kpi.aggregation or DEFAULT_AGGREGATION.get(kpi.unit, "mean")


def annual_value(kpi: KPI, year: int, observations: Iterable[Observation]) -> AnnualValue | None:
    """Aggregate the observations of one settlement × KPI falling in ``year``; None when there are none."""
    rows = [o for o in observations if o.year == year]
    if not rows:
        return None
    if len(rows) > 1:
        rows.sort(key=lambda o: (o.period_start, o.period_end))
    sources = tuple(o.source for o in rows if o.source)
    if any(o.component for o in rows):
        by_component: dict[str, list[Observation]] = defaultdict(list)
        for o in rows:
            by_component[o.component or ""].append(o)
        components = {}
        for name, group in sorted(by_component.items()):
            value, _, _, _ = _aggregate(kpi, group)
            if value is not None and name:
                components[name] = value
        return AnnualValue(rows[0].settlement, kpi.id, year, None, "components", len(rows),
                           components=components, sources=sources)
    matched = [o for o in rows if o.baseline is not None]
    dropped = len(rows) - len(matched)
    if matched and dropped:
        rows = matched  # compared period by period: a period without a baseline drops out, not the year (D-46)
    value, method, num, den = _aggregate(kpi, rows)
    baseline = None
    if matched:
        if method == "pooled" and den:
            # the same counts as the value: each period's baseline weighted by the period's denominator, so
            # unchanged periods give an unchanged year, whatever the mix of periods (D-46)
            baseline = sum(float(o.baseline or 0.0) * float(o.denominator or 0.0) for o in rows) / float(den)
        else:
            baseline = _combine(aggregation_of(kpi), [(float(o.baseline or 0.0), o) for o in rows])
        if dropped:
            method = f"{method}; {dropped} period(s) without a baseline left out"
    return AnnualValue(rows[0].settlement, kpi.id, year, value, method, len(rows), num, den, baseline,
                       sources=sources)


def _aggregate(kpi: KPI, rows: list[Observation]) -> tuple[float | None, str, float | None, float | None]:
    if all(o.numerator is not None and o.denominator is not None for o in rows):
        num = sum(o.numerator for o in rows)  # type: ignore[misc]
        den = sum(o.denominator for o in rows)  # type: ignore[misc]
        if den > 0:
            return POOL_SCALE.get(kpi.unit, 1.0) * num / den, "pooled", num, den
        return None, "pooled", num, den
    valued = [(float(o.value), o) for o in rows if o.value is not None]
    if not valued:
        return None, "none", None, None
    method = aggregation_of(kpi)
    return _combine(method, valued), method, None, None


def _combine(method: str, valued: list[tuple[float, Observation]]) -> float:
    if method == "sum":
        return sum(v for v, _ in valued)
    if method == "latest":
        return max(valued, key=lambda item: (item[1].period_end, item[1].period_start))[0]
    if method == "monthly_mean":
        months = sum(o.months for _, o in valued)
        return sum(v for v, _ in valued) / months
    total_days = sum(o.days for _, o in valued)
    return sum(v * o.days for v, o in valued) / total_days
