"""Evidence on additional initiatives and monitor records: files → records, with an error for every rejected row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..settlements import Registry
from ..standard import CATEGORIES, Category, Standard, Target
from ..standard.inputs import METRIC_KINDS, WINDOWS, Evidence, MonitorRecord
from ..standard.units import POOL_SCALE
from .observations import ReadReport
from .reading import read_rows
from .rows import Row, shape_errors, structural_errors
from .values import RowError

EVIDENCE_COLUMNS = ("settlement", "name", "sphere", "in_roadmap", "report_signed", "indicator_count", "started",
                    "completed")
MONITOR_COLUMNS = ("metric",)


def read_evidence(path: Path, registry: Registry) -> tuple[list[Evidence], ReadReport]:
    """Additional initiatives: settlement, name, sphere, in_roadmap, report_signed, indicator_count, started,
    completed."""
    read = read_rows(path)
    report = ReadReport(read.file, rows=len(read.rows), notes=list(read.notes))
    items, errors = parse_evidence_rows(read.file, read.header, read.rows, registry, problems=read.problems)
    report.errors, report.accepted = errors, len(items)
    return items, report


def parse_evidence_rows(file: str, header: list[str], rows: list[tuple[int, dict[str, Any]]], registry: Registry,
                        *, problems: dict[int, tuple[str, str]] | None = None) -> tuple[list[Evidence], list[RowError]]:
    errors = structural_errors(file, header, EVIDENCE_COLUMNS)
    if errors:
        return [], errors
    out = []
    for number, cells in rows:
        row = Row(file, number, cells)
        shape_errors(row, problems or {})
        settlement = row.settlement(registry)
        name = row.text("name", required=True)
        count = row.number_("indicator_count", minimum=0)
        if count is not None and not count.is_integer():
            row.error("indicator_count", "not-an-integer", f"{count:g} is not a whole number of indicators")
        evidence = Evidence(
            settlement=settlement.kato if settlement else "", name=name or "", sphere=row.text("sphere"),
            in_roadmap=row.bool_("in_roadmap"), report_signed=row.bool_("report_signed"),
            indicator_count=int(count) if count is not None else None, started=row.date_("started"),
            completed=row.date_("completed"), source=f"{Path(file).name}:{number}")
        if row.ok and settlement is not None:
            out.append(evidence)
        errors += row.errors
    return out, errors


def read_monitor_records(path: Path, std: Standard, registry: Registry) -> tuple[list[MonitorRecord], ReadReport]:
    """Monitor input: metric, date or window, numerator & denominator or value, target, kind, optional baseline
    and settlement. When ``metric`` is a KPI id and the row names a settlement, an empty target and kind are taken
    from the catalog (≥ targets: ratio_to_target; ≤ targets: target_over_value)."""
    read = read_rows(path)
    report = ReadReport(read.file, rows=len(read.rows), notes=list(read.notes))
    report.errors += structural_errors(read.file, read.header, MONITOR_COLUMNS,
                                       (("date", "window"), ("value", "numerator")))
    if report.errors:
        return [], report
    out = []
    kinds: dict[str, str] = {}
    for number, cells in read.rows:
        row = Row(read.file, number, cells)
        shape_errors(row, read.problems)
        metric = row.text("metric", required=True)
        settlement = row.settlement(registry, required=False) if "settlement" in cells else None
        day = row.date_("date")
        window = row.text("window")
        if window is not None and window not in WINDOWS:
            row.error("window", "unknown-window", f"'{window}' is not a window; use {', '.join(WINDOWS)}")
        if day is None and window is None and not row.errors:
            row.error("date", "missing-value", "give the date of the record or the window it aggregates")
        numerator, denominator = row.number_("numerator"), row.number_("denominator", minimum=0)
        value, baseline = row.number_("value"), row.number_("baseline", minimum=0)
        target, kind = row.number_("target"), row.text("kind")
        if metric is not None and (target is None or kind is None) and settlement is not None:
            target, kind = _from_catalog(std, metric, settlement.category, target, kind)
        if kind is not None and kind not in METRIC_KINDS:
            row.error("kind", "unknown-kind", f"'{kind}' is not a metric kind; use {', '.join(METRIC_KINDS)}")
        elif kind is None:
            row.error("kind", "missing-value", f"give the kind: {', '.join(METRIC_KINDS)}")
        elif kind in ("ratio_to_target", "target_over_value") and target is None:
            row.error("target", "missing-value", f"a {kind} metric needs a target")
        elif kind.startswith(("baseline", "current")) and baseline is None:
            row.error("baseline", "missing-value", f"a {kind} metric needs a baseline")
        if value is None and (numerator is None or denominator is None) and not row.errors:
            row.error("value", "missing-value", "give a value, or a numerator and a denominator")
        if metric is not None and kind is not None and kinds.setdefault(metric, kind) != kind and row.ok:
            row.error("kind", "kind-changes", f"metric '{metric}' was '{kinds[metric]}' in earlier rows")
        if row.ok and metric is not None and kind is not None:
            out.append(MonitorRecord(metric=metric, kind=kind, settlement=settlement.kato if settlement else None,
                                     date=day, window=window, numerator=numerator, denominator=denominator,
                                     value=value, target=target, baseline=baseline,
                                     scale=_scale(std, metric), source=f"{Path(read.file).name}:{number}"))
        report.errors += row.errors
    report.accepted = len(out)
    return out, report


def _scale(std: Standard, metric: str) -> float:
    kpi = std.kpi(metric)
    return POOL_SCALE.get(kpi.unit, 1.0) if kpi is not None else 1.0


def _from_catalog(std: Standard, metric: str, category: Category, target: float | None, kind: str | None) -> (
        tuple[float | None, str | None]):
    kpi = std.kpi(metric)
    if kpi is None or category not in CATEGORIES:
        return target, kind
    found = kpi.targets.target(category)
    if not isinstance(found, Target) or found.kind != "threshold" or found.value is None:
        return target, kind
    value = found.value[0] if isinstance(found.value, tuple) else found.value
    if found.comparator == "≤" and isinstance(found.value, tuple):
        value = found.value[1]
    return (target if target is not None else float(value),
            kind or ("ratio_to_target" if found.comparator == "≥" else "target_over_value"))
