"""The shapes of what the standard scores, as cities deliver them: an observed KPI value, the evidence on an
additional initiative, a record of the operational monitor.

Plain frozen records with no behaviour beyond their own arithmetic, kept in the standard so that ingestion (which
reads them from files), the simulator (which writes them) and scoring (which scores them) share one definition
without ingestion importing scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

DAYS_PER_MONTH = 365.25 / 12
MetricKind = Literal["ratio_to_target", "target_over_value", "baseline_over_current", "current_over_baseline"]
METRIC_KINDS: tuple[str, ...] = ("ratio_to_target", "target_over_value", "baseline_over_current",
                                 "current_over_baseline")
WINDOWS: dict[str, int] = {"day": 1, "week": 7, "month": 30, "quarter": 90}


@dataclass(frozen=True)
class Observation:
    """One observed KPI value of one settlement over one period (civil dates, inclusive)."""

    settlement: str
    kpi: str
    period_start: date
    period_end: date
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    baseline: float | None = None
    component: str | None = None
    source: str | None = None  # "file:row", for tracing a score back to its input
    year: int = field(init=False, repr=False, compare=False)  # the calendar year of the period

    def __post_init__(self) -> None:
        object.__setattr__(self, "year", self.period_end.year)

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def months(self) -> float:
        """The length of the period in months: whole calendar months counted as such (a year is 12), any other
        period by its days (365.25 / 12 days a month)."""
        start, end = self.period_start, self.period_end
        following = end + timedelta(days=1)
        if start.day == 1 and following.day == 1:
            return float((following.year - start.year) * 12 + following.month - start.month)
        return self.days / DAYS_PER_MONTH


@dataclass(frozen=True)
class Evidence:
    """What a settlement reports about one additional initiative."""

    settlement: str
    name: str
    sphere: str | None
    in_roadmap: bool | None
    report_signed: bool | None
    indicator_count: int | None
    started: date | None
    completed: date | None
    source: str | None = None


@dataclass(frozen=True)
class MonitorRecord:
    """One row of monitor input."""

    metric: str
    kind: str
    settlement: str | None = None
    date: date | None = None
    window: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    target: float | None = None
    baseline: float | None = None
    scale: float = 1.0  # Σ numerator / Σ denominator × scale is in the unit of the target (100 for a KPI in %)
    source: str | None = None
