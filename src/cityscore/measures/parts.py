"""The catalog's measures, bound to their KPIs and parsed: what :mod:`.compile` runs.

Every KPI of the catalog whose entry has a ``measure`` block gives one :class:`Part` (a ratio gives two, its
numerator and denominator, combined after aggregating). Nothing here names a KPI: the catalog does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..standard import KPI, Standard
from ..standard.expressions import Expression, parse_expression
from ..standard.models import Measure, MeasurePart


def key_of(kpi_id: str) -> str:
    """A column-safe key for a KPI id (``4.7`` → ``k4_7``)."""
    return "k" + kpi_id.replace(".", "_").replace("-", "_")


@dataclass(frozen=True)
class Part:
    """One aggregate over one raw table, per settlement × civil period."""

    key: str
    kpi: str
    table: str
    time: str
    kind: str
    scope: Expression | None = None
    condition: Expression | None = None
    value: Expression | None = None
    weight: Expression | None = None
    baseline: bool = False
    group: tuple[str, ...] = ()
    norms: dict[str, float] = field(default_factory=dict)
    norm_column: str | None = None
    max_gap_minutes: float | None = None

    @property
    def params(self) -> frozenset[str]:
        return frozenset().union(*(e.params for e in (self.scope, self.condition, self.value, self.weight) if e))


@dataclass(frozen=True)
class BoundMeasure:
    """A KPI's measure: its parts (one, or a ratio's numerator and denominator) and the KPI's unit."""

    kpi: str
    unit: str
    measure: Measure
    parts: tuple[Part, ...]

    @property
    def kind(self) -> str:
        return self.measure.kind

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.table for p in self.parts))

    @property
    def baseline(self) -> bool:
        return self.measure.baseline


def _expr(text: str | None) -> Expression | None:
    return parse_expression(text) if text else None


def _part(kpi: KPI, suffix: str, spec: Measure | MeasurePart) -> Part:
    key = key_of(kpi.id) + suffix
    if isinstance(spec, MeasurePart):
        return Part(key, kpi.id, spec.table, spec.time, spec.kind, scope=_expr(spec.scope), value=_expr(spec.value))
    assert spec.table is not None and spec.time is not None  # the schema requires them for every kind but ratio
    return Part(key, kpi.id, spec.table, spec.time, spec.kind, scope=_expr(spec.scope),
                condition=_expr(spec.condition), value=_expr(spec.value), weight=_expr(spec.weight),
                baseline=spec.baseline, group=spec.group,
                norms={k: float(v) for k, v in (spec.norms or {}).items()}, norm_column=spec.norm_column,
                max_gap_minutes=float(spec.max_gap_minutes) if spec.max_gap_minutes is not None else None)


def bind(kpi: KPI) -> BoundMeasure | None:
    """The measure of ``kpi``, parsed; None for a KPI without one."""
    m = kpi.measure
    if m is None:
        return None
    if m.kind == "ratio":
        assert m.numerator is not None and m.denominator is not None
        parts: tuple[Part, ...] = (_part(kpi, "__n", m.numerator), _part(kpi, "__d", m.denominator))
    else:
        parts = (_part(kpi, "", m),)
    return BoundMeasure(kpi.id, kpi.unit, m, parts)


def measures_of(std: Standard) -> tuple[BoundMeasure, ...]:
    """Every measure of the catalog, in catalog order."""
    return tuple(b for k in std.kpis if (b := bind(k)) is not None)


def measured_kpis(std: Standard) -> frozenset[str]:
    """The KPIs that raw records compute."""
    return frozenset(k.id for k in std.kpis if k.measure is not None)
