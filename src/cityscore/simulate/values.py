"""KPI values that no raw table gives (``observations.csv``) and additional initiatives (``additional.csv``).

**Which KPIs.** Every KPI of the catalog that no measure computes (the catalog's ``measure`` blocks), that applies to
the settlement's category (``Standard.kpi_applies``) and whose initiative is present: KPIs 1.8–1.21 are city-wide
outcomes reported wherever they apply (decisions.md D-05) with the settlement's reporting probability
``0.55 + 0.5 × performance``; the others only where their initiative's stage has begun and the settlement has
implemented it, each reported with probability 0.95 (a system's KPI is sometimes not exported).

**Rows.** One row per month for daily, weekly and monthly KPIs (a monthly report of the daily measurements), per
quarter for quarterly KPIs, one for annual ones; 1.4 as four rows per month, one per data domain (``component``
safety, housing_utilities, ecology, education: update interval in hours). The value is the category's target moved
by the achievement ``a`` (:mod:`.profiles`): ``target × a`` for «≥», ``target / a`` for «≤», ±3 % from period to
period, within the unit (percent 0–100, score_10 0–10; counts whole). A qualitative or absent target takes the next
category's target × 0.7 as its reference. Reductions, growth and stabilisation carry a ``baseline`` (last year's
level) and the value moves from it by the settlement's yearly improvement: 1.20 green space 6–20 m² per resident;
1.21 energy of public buildings 60–120 kWh per resident a year; any other such KPI a level of 50–150.

**Additional initiatives.** About 15 % of settlements (probability ``0.08 + 0.14 × performance``) report one
(two with probability 0.35) additional initiative in a sphere of п. 5; three in four meet all five bonus criteria,
the others fail exactly one (not in the roadmap, unsigned report, no indicator, completed after the year, or a
sphere outside п. 5).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ..standard import CATEGORIES, KPI, Category, Target
from .city import improvement
from .context import Context
from .profiles import Profile

OBSERVATION_COLUMNS = ("settlement", "kpi", "period_start", "period_end", "value", "numerator", "denominator",
                       "baseline", "component")
ADDITIONAL_COLUMNS = ("settlement", "name", "sphere", "in_roadmap", "report_signed", "indicator_count", "started",
                      "completed")
COMPONENT_PARAMETER = "max_update_interval_hours"
UNIT_MAX = {"percent": 100.0, "score_10": 10.0, "score_5": 5.0}
WHOLE_UNITS = ("count", "count_per_month", "count_per_year")
LEVELS = {"1.20": (6.0, 20.0, False), "1.21": (60.0, 120.0, True)}  # (low, high, per resident)
ADDITIONAL = {
    "city_management": ("Чат-бот акимата в мессенджерах", "Электронный архив обращений граждан"),
    "safety": ("Умные пешеходные переходы", "Тревожные кнопки в школах"),
    "transport": ("Онлайн-табло прибытия автобусов", "Велопрокат с электронной оплатой"),
    "social": ("Электронная очередь в детские сады", "Онлайн-запись в поликлиники"),
    "ecology": ("Датчики качества воздуха во дворах", "Датчики заполнения контейнеров"),
    "housing_utilities": ("Цифровой паспорт двора", "Умное освещение парков"),
    "economy": ("Портал поддержки предпринимателей",),
    "infrastructure": ("Цифровой двойник инженерных сетей",),
}
OUTSIDE_SPHERES = ("Туризм", "Спорт")
FAILURES = ("in_roadmap", "report_signed", "indicator_count", "completed", "sphere")


def value_kpis(ctx: Context, p: Profile) -> list[KPI]:
    """The KPIs this settlement reports as values (module docstring)."""
    out = []
    for kpi in ctx.std.kpis:
        if kpi.measure is not None or not ctx.std.kpi_applies(kpi, p.category):
            continue
        if kpi.applies_to is not None and kpi.initiative == 1 and len(kpi.applies_to) == len(CATEGORIES):
            if p.chance(f"report-{kpi.id}", p.reporting):
                out.append(kpi)
        elif kpi.initiative in p.implemented and p.chance(f"report-{kpi.id}", 0.95):
            out.append(kpi)
    return out


def periods(year: int, periodicity: str | None) -> list[tuple[date, date]]:
    if periodicity == "annual":
        return [(date(year, 1, 1), date(year, 12, 31))]
    step = 3 if periodicity == "quarterly" else 1
    out = []
    for month in range(1, 13, step):
        end_month = month + step
        end = date(year + 1, 1, 1) if end_month > 12 else date(year, end_month, 1)
        out.append((date(year, month, 1), end - timedelta(days=1)))
    return out


def _reference(ctx: Context, kpi: KPI, category: Category) -> Target | None:
    """The category's target, or (qualitative or absent) the next category's that has a number."""
    target = kpi.targets.target(category)
    if target is not None and target.kind != "qualitative" and (target.value is not None or target.kind in (
            "compliance", "stabilisation", "reduction", "growth")):
        return target
    for other in reversed(CATEGORIES[: CATEGORIES.index(category)]):
        found = kpi.targets.target(other)
        if found is not None and found.kind != "qualitative":
            return found
    return target


def observation_rows(ctx: Context, p: Profile) -> Iterator[dict[str, object]]:
    rng = p.rng("observations", ctx.year)
    for kpi in value_kpis(ctx, p):
        target = _reference(ctx, kpi, p.category)
        if target is None:
            continue
        own = kpi.targets.target(p.category)
        a = p.achievement(kpi.id) * (0.7 if own is None or own.kind == "qualitative" else 1.0)
        spans = periods(ctx.year, kpi.periodicity)
        if kpi.id in LEVELS or target.kind in ("reduction", "growth", "stabilisation"):
            yield from _dynamic(p, kpi, spans, rng)
        elif target.kind == "compliance":
            yield from _components(p, kpi, spans, rng)
        else:
            yield from _threshold(kpi, target, a, spans, rng, p)


def _row(p: Profile, kpi: KPI, span: tuple[date, date], value: float, baseline: float | None = None,
         component: str | None = None) -> dict[str, object]:
    return {"settlement": p.kato, "kpi": kpi.id, "period_start": span[0].isoformat(),
            "period_end": span[1].isoformat(), "value": _number(value),
            "numerator": "", "denominator": "", "baseline": "" if baseline is None else _number(baseline),
            "component": component or ""}


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _bounded(kpi: KPI, value: float) -> float:
    value = min(max(value, 0.0), UNIT_MAX.get(kpi.unit, float("inf")))
    return float(round(value)) if kpi.unit in WHOLE_UNITS else value


def _threshold(kpi: KPI, target: Target, a: float, spans: list[tuple[date, date]], rng: np.random.Generator,
               p: Profile) -> Iterator[dict[str, object]]:
    goal = target.value[0] if isinstance(target.value, tuple) else target.value
    if goal is None:
        return
    level = float(goal) * a if target.comparator != "≤" else float(goal) / a
    for span in spans:
        yield _row(p, kpi, span, _bounded(kpi, level * (1.0 + rng.normal(0.0, 0.03))))


def _components(p: Profile, kpi: KPI, spans: list[tuple[date, date]], rng: np.random.Generator) -> (
        Iterator[dict[str, object]]):
    parameter = kpi.parameters.get(COMPONENT_PARAMETER)
    limits = parameter[p.category] if parameter is not None else None
    if not isinstance(limits, dict):
        return
    for component, limit in limits.items():
        a = p.achievement(f"{kpi.id}:{component}")
        for span in spans:
            hours = float(limit) / a * (1.0 + rng.normal(0.0, 0.03))
            yield _row(p, kpi, span, round(max(hours, 0.05), 2), component=component)


def _dynamic(p: Profile, kpi: KPI, spans: list[tuple[date, date]], rng: np.random.Generator) -> (
        Iterator[dict[str, object]]):
    low, high, per_resident = LEVELS.get(kpi.id, (50.0, 150.0, False))
    level = float(p.rng("level", kpi.id).uniform(low, high)) * (p.population if per_resident else 1.0)
    change = improvement(p, kpi.id)
    lower_is_better = kpi.direction == "lower_is_better"
    for span in spans:
        baseline = level * (1.0 + rng.normal(0.0, 0.01))
        value = baseline * (1.0 - change if lower_is_better else 1.0 + change)
        yield _row(p, kpi, span, round(value, 2), round(baseline, 2))


def write_observations(path: Path, rows: Iterator[dict[str, object]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, OBSERVATION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def additional_rows(ctx: Context, p: Profile) -> list[dict[str, object]]:
    rng = p.rng("additional", ctx.year)
    if rng.random() >= 0.08 + 0.14 * p.performance:
        return []
    spheres = list(ADDITIONAL)
    out = []
    for k in range(2 if rng.random() < 0.35 else 1):
        sphere_id = spheres[int(rng.integers(len(spheres)))]
        names = ADDITIONAL[sphere_id]
        sphere = ctx.std.sphere(sphere_id)
        started = date(ctx.year - int(rng.integers(0, 2)), int(rng.integers(1, 13)), 1)
        completed = max(started + timedelta(days=60), date(ctx.year, 1, 15)) + timedelta(
            days=int(rng.integers(0, 300)))
        completed = min(completed, date(ctx.year, 12, 20))
        row: dict[str, object] = {
            "settlement": p.kato, "name": names[(k + int(rng.integers(len(names)))) % len(names)],
            "sphere": sphere.name.ru if sphere else sphere_id, "in_roadmap": "true", "report_signed": "true",
            "indicator_count": int(rng.integers(1, 6)), "started": started.isoformat(),
            "completed": completed.isoformat()}
        if rng.random() < 0.25:
            failure = FAILURES[int(rng.integers(len(FAILURES)))]
            if failure in ("in_roadmap", "report_signed"):
                row[failure] = "false"
            elif failure == "indicator_count":
                row[failure] = 0
            elif failure == "completed":
                row[failure] = date(ctx.year + 1, int(rng.integers(1, 4)), 10).isoformat()
            else:
                row["sphere"] = OUTSIDE_SPHERES[int(rng.integers(len(OUTSIDE_SPHERES)))]
        out.append(row)
    return out


def write_additional(path: Path, rows: list[dict[str, object]]) -> int:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ADDITIONAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
