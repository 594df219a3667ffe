"""The trend of a year: the official CityScore year to date after each month, the way the run itself was scored.

Each point is :func:`~cityscore.scoring.rating.score_year` — the same code path as the run: annual values, KPI
scores, weights, sections, the bonus, the cap and the published rounding — on a cut of the run's own input: of the
rating year, the observations whose period ended by the end of the month and the additional initiatives completed
by then; everything of other years (the baselines) and every initiative without a completion date is kept. So the
point of the last month with data is the run's headline score exactly (decisions.md D-65). Pure: no files, no
clock.

``series``: ``run`` is under the run's own policy; ``monitoring`` the same policy with KPIs without data left out
(``missing_data = exclude``), the line a city watches early in the year — drawn only beside the first, labelled.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ..settlements import Registry
from ..standard import Standard
from .annual import Observation
from .bonus import Evidence
from .policy import ScoringPolicy
from .rating import score_year

SERIES = ("run", "monitoring")


@dataclass(frozen=True)
class TrendPoint:
    """CityScore of one settlement year to date through the end of ``month``."""

    settlement: str
    series: str
    month: date  # the first day of the month
    cityscore: float
    exact: float
    base: float
    bonus: float
    coverage: float
    band: str

    def to_json(self) -> dict[str, object]:
        return {"month": f"{self.month:%Y-%m}", "cityscore": self.cityscore, "coverage": self.coverage,
                "base": self.base, "bonus": self.bonus, "band_id": self.band}


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def last_month(observations: Iterable[Observation], year: int) -> int | None:
    """The last month of ``year`` in which an observation's period ends (None: no observation of the year)."""
    months = [o.period_end.month for o in observations if o.year == year]
    return max(months) if months else None


def series_policy(policy: ScoringPolicy, series: str) -> ScoringPolicy:
    """The policy of one series: the run's own, or the same with KPIs without data left out."""
    if series == "run":
        return policy
    if series == "monitoring":
        return policy.model_copy(update={"missing_data": "exclude"})
    raise ValueError(f"unknown trend series {series!r}; use one of {', '.join(SERIES)}")


def monthly_trend(std: Standard, policy: ScoringPolicy, registry: Registry, *, observations: Sequence[Observation],
                  evidence: Sequence[Evidence] = (), year: int, settlements: Sequence[str],
                  series: Iterable[str] = SERIES) -> list[TrendPoint]:
    """Every settlement's CityScore year to date after each month from January to the last month with data.

    ``observations``, ``evidence`` and ``settlements`` are those the run was scored from; ``policy`` is the run's.
    The ``monitoring`` series is left out when it would repeat the ``run`` one (a run that already leaves KPIs
    without data out).
    """
    final = last_month(observations, year)
    if final is None:
        return []
    wanted = [s for s in series if s == "run" or policy.missing_data != "exclude"]
    points: list[TrendPoint] = []
    for month in range(1, final + 1):
        end = month_end(year, month)
        # only what falls in the year after the month's end is cut: the last month's cut is the run's input itself
        cut = [o for o in observations if o.year != year or o.period_end <= end]
        done = [e for e in evidence if e.completed is None or e.completed.year != year or e.completed <= end]
        for name in wanted:
            run = score_year(std, series_policy(policy, name), registry, observations=cut, evidence=done, year=year,
                             settlements=settlements, with_previous=False)
            points += [TrendPoint(r.settlement, name, date(year, month, 1), r.cityscore, r.exact, r.base, r.bonus,
                                  r.coverage, r.band) for r in run.results]
    return points
