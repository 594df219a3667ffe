"""KPI observation files → :class:`~cityscore.scoring.Observation`, with an error for every rejected row.

Columns: ``settlement`` (KATO code, or a name that only one rated settlement has), ``kpi`` (e.g. ``1.8``),
``period_start``, ``period_end`` (inclusive civil dates within one calendar year), ``value`` and/or ``numerator`` with
``denominator``, optional ``baseline`` and ``component`` (KPI 1.4: the data domain). A row is accepted or rejected
as a whole; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settlements import Registry
from ..standard import KPI, Standard
from ..standard.inputs import Observation
from .reading import read_rows
from .rows import Row, shape_errors, structural_errors
from .values import RowError

Stored = dict[tuple[str, str, str | None], list[tuple[Any, Any, int]]]

OBSERVATION_COLUMNS = ("settlement", "kpi", "period_start", "period_end")
BOUNDED_PERCENT_UNITS = ("percent",)


@dataclass
class ReadReport:
    """The outcome of reading one input file."""

    file: str
    rows: int = 0
    accepted: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.rows - self.accepted

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "rows": self.rows, "accepted": self.accepted, "rejected": self.rejected,
                "errors": [e.to_json() for e in self.errors], "notes": list(self.notes)}


def read_observations(path: Path, std: Standard, registry: Registry) -> tuple[list[Observation], ReadReport]:
    """Read and check an observation file; return the accepted observations and the report."""
    read = read_rows(path)
    report = ReadReport(read.file, rows=len(read.rows), notes=list(read.notes))
    accepted, errors = parse_observation_rows(read.file, read.header, read.rows, std, registry,
                                              problems=read.problems)
    report.errors, report.accepted = errors, len(accepted)
    return accepted, report


def parse_observation_rows(file: str, header: list[str], rows: list[tuple[int, dict[str, Any]]], std: Standard,
                           registry: Registry, *, problems: dict[int, tuple[str, str]] | None = None,
                           existing: Stored | None = None) -> tuple[list[Observation], list[RowError]]:
    """Check rows of an observation file. ``existing`` holds periods already in the warehouse (rejected again)."""
    errors = structural_errors(file, header, OBSERVATION_COLUMNS, (("value", "numerator"),))
    if errors:
        return [], errors
    accepted: list[Observation] = []
    seen: dict[tuple[str, str, str | None], list[tuple[int, Observation]]] = {}
    name = Path(file).name
    for number, cells in rows:
        row = Row(file, number, cells)
        shape_errors(row, problems or {})
        observation = _parse_row(row, std, registry, name)
        if observation is not None and row.ok:
            key = (observation.settlement, observation.kpi, observation.component)
            for other_row, other in seen.get(key, []):
                if other.period_start <= observation.period_end and observation.period_start <= other.period_end:
                    same = (other.period_start, other.period_end) == (observation.period_start,
                                                                      observation.period_end)
                    row.error("period_start", "duplicate" if same else "overlap",
                              f"{'repeats' if same else 'overlaps'} the period of row {other_row} for KPI "
                              f"{observation.kpi} of {observation.settlement}; keep one row per period")
                    break
            for start, end, batch in (existing or {}).get(key, []):
                if row.ok and start <= observation.period_end and observation.period_start <= end:
                    row.error("period_start", "already-stored",
                              f"KPI {observation.kpi} of {observation.settlement} for {start}…{end} is already in the "
                              f"warehouse (batch {batch}); to replace it, `cityscore batches --delete {batch}` removes "
                              "that whole file's rows, then load a file with all of them, corrected")
        if row.ok and observation is not None:
            accepted.append(observation)
            seen.setdefault((observation.settlement, observation.kpi, observation.component), []).append(
                (number, observation))
        errors += row.errors
    return accepted, errors


def _parse_row(row: Row, std: Standard, registry: Registry, name: str) -> Observation | None:
    settlement = row.settlement(registry)
    kpi_id = row.text("kpi", required=True)
    kpi: KPI | None = None
    if kpi_id is not None:
        kpi = std.kpi(kpi_id.removeprefix("KPI").strip())
        if kpi is None:
            row.error("kpi", "unknown-kpi", f"'{kpi_id}' is not a KPI of {std.id}; see `cityscore standard kpis`")
    start = row.date_("period_start", required=True)
    end = row.date_("period_end", required=True)
    value = row.number_("value")
    numerator = row.number_("numerator", minimum=0)
    denominator = row.number_("denominator", minimum=0)
    baseline = row.number_("baseline")
    component = row.text("component")
    if start is not None and end is not None:
        if end < start:
            row.error("period_end", "period-order", f"the period ends ({end}) before it starts ({start})")
        elif start.year != end.year:
            row.error("period_end", "period-crosses-year",
                      f"the period {start}…{end} spans two years; split it at 31 December")
    if value is None and (numerator is None or denominator is None) and not row.errors:
        row.error("value", "missing-value", "give a value, or a numerator and a denominator")
    if (numerator is None) != (denominator is None) and not row.errors:
        column = "denominator" if denominator is None else "numerator"
        row.error(column, "missing-value", "a numerator needs its denominator, and the reverse")
    if kpi is not None:
        _check_against_kpi(row, kpi, value, numerator, denominator, component)
    if settlement is None or kpi is None or start is None or end is None:
        return None
    return Observation(settlement.kato, kpi.id, start, end, value, numerator, denominator, baseline, component,
                       f"{name}:{row.number}")


def _check_against_kpi(row: Row, kpi: KPI, value: float | None, numerator: float | None,
                       denominator: float | None, component: str | None) -> None:
    if kpi.unit in BOUNDED_PERCENT_UNITS:
        if value is not None and not 0 <= value <= 100:
            row.error("value", "out-of-range", f"{value:g} is not a percentage between 0 and 100 (KPI {kpi.id})")
        if numerator is not None and denominator is not None and numerator > denominator:
            row.error("numerator", "out-of-range",
                      f"the numerator {numerator:g} exceeds the denominator {denominator:g} of a share (KPI {kpi.id})")
    scale = {"score_5": 5, "score_10": 10}.get(kpi.unit)
    if scale is not None and value is not None and not 0 <= value <= scale:
        row.error("value", "out-of-range", f"{value:g} is outside the survey scale 0–{scale} (KPI {kpi.id})")
    if kpi.unit in ("minutes", "hours", "days", "seconds", "count", "count_per_month", "count_per_year") and (
            value is not None and value < 0):
        row.error("value", "negative", f"{value:g}: a {kpi.unit.replace('_', ' ')} value cannot be negative")
    domains = next((set(p.republican) for p in kpi.parameters.values() if isinstance(p.republican, dict)), None)
    if component is not None and domains is None:
        row.error("component", "unexpected-component", f"KPI {kpi.id} has no components; leave the column empty")
    elif component is not None and domains is not None and component not in domains:
        row.error("component", "unknown-component",
                  f"'{component}' is not a component of KPI {kpi.id}; use one of: {', '.join(sorted(domains))}")
