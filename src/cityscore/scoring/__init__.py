"""CityScore-Kazakhstan: KPI normalisation, section indices, the bonus, bands, ratings, explanations, the monitor.

Pure functions over the standard (:mod:`cityscore.standard`), the settlement registry and plain records; the
unstated rules of Appendix 5 are the fields of :class:`ScoringPolicy`. See ``docs/scoring.md``.
"""

from .annual import AnnualValue, Observation, annual_value
from .bonus import BonusVerdict, Evidence, judge
from .engine import KpiOutcome, SettlementResult, publish, score_settlement
from .explain import Improvement, improvements
from .monitor import METRIC_KINDS, WINDOWS, MonitorRecord, MonitorResult, monitor
from .normalise import normalise
from .policy import PolicyError, ScoringPolicy
from .rating import ScoreRun, annual_values, competition_ranks, rank, score_year

__all__ = [
    "METRIC_KINDS",
    "WINDOWS",
    "AnnualValue",
    "BonusVerdict",
    "Evidence",
    "Improvement",
    "KpiOutcome",
    "MonitorRecord",
    "MonitorResult",
    "Observation",
    "PolicyError",
    "ScoreRun",
    "ScoringPolicy",
    "SettlementResult",
    "annual_value",
    "annual_values",
    "competition_ranks",
    "improvements",
    "judge",
    "monitor",
    "normalise",
    "publish",
    "rank",
    "score_settlement",
    "score_year",
]
