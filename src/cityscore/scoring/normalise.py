"""KPI value → score in [0, 1], for every kind of target (Appendix 5 п. 2 and ``docs/decisions.md``).

Pure functions of the KPI, its target for the settlement's category, the annual value and the policy. A result of
``None`` means the KPI cannot be scored from the data given (e.g. a reduction without a baseline); the caller
treats it as missing data and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..standard import KPI, Category, Target
from ..standard.units import resolve as resolve  # re-exported: scoring's callers use it from here
from .annual import AnnualValue
from .policy import ScoringPolicy

STABILISATION_LINEAR_SPAN = 10.0  # percent worse at which a linear stabilisation score reaches 0 (D-19)


@dataclass(frozen=True)
class Normalised:
    """A KPI score with the numbers it was computed from."""

    score: float | None
    target_value: float | None  # the target after resolving ranges (D-07); the change in % for reductions
    achieved: float | None  # what is compared with the target: the value, or the change in % against the baseline
    rule: str  # the formula used, for explanations
    note: str | None = None


def clamp(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def ge_score(actual: float, target: float) -> float:
    """«≥»: min(actual / target, 1) (Appendix 5 п. 2, 2))."""
    if target <= 0:
        return 1.0 if actual >= target else 0.0
    return clamp(actual / target)


def le_score(actual: float, target: float, mode: str) -> float:
    """«≤» (D-03): ``ratio`` min(target / actual, 1); ``linear`` 2 − actual/target; ``binary`` met or not."""
    if actual <= target:
        return 1.0
    if mode == "binary":
        return 0.0
    if target <= 0:
        return 0.0
    if mode == "linear":
        return clamp(2.0 - actual / target)
    return clamp(target / actual)


def change_percent(actual: float, baseline: float, direction: str) -> float | None:
    """Improvement against the baseline in % of it: a reduction for lower-is-better KPIs, growth otherwise."""
    if baseline == 0:
        return None
    delta = (baseline - actual) if direction == "lower_is_better" else (actual - baseline)
    return 100.0 * delta / abs(baseline)


def normalise(kpi: KPI, target: Target, annual: AnnualValue, policy: ScoringPolicy, *,
              category: Category | None = None, component_targets: dict[str, float] | None = None) -> Normalised:
    """Score ``annual`` against ``target``. See ``docs/scoring.md`` §3 for every rule."""
    kind = target.kind
    if kind == "threshold":
        return _threshold(kpi, target, annual, policy)
    if kind in ("reduction", "growth", "stabilisation"):
        return _dynamic(kpi, target, annual, policy)
    if kind == "compliance":
        return _compliance(target, annual, policy, component_targets)
    return _qualitative(kpi, annual, policy)


def _threshold(kpi: KPI, target: Target, annual: AnnualValue, policy: ScoringPolicy) -> Normalised:
    goal = resolve(target.value, target.comparator, policy.range_target)
    if annual.value is None or goal is None:
        return Normalised(None, goal, None, "threshold", "no value")
    actual = annual.value
    if target.comparator == "≤":
        return Normalised(le_score(actual, goal, policy.le_normalisation), goal, actual,
                          f"≤ ({policy.le_normalisation})")
    if kpi.unit in ("score_5", "score_10") and policy.survey_scores == "share_of_scale" and target.scale_max:
        return Normalised(clamp(actual / float(target.scale_max)), float(target.scale_max), actual,
                          "survey: actual / scale maximum")
    return Normalised(ge_score(actual, goal), goal, actual, "≥: min(actual / target, 1)")


def _dynamic(kpi: KPI, target: Target, annual: AnnualValue, policy: ScoringPolicy) -> Normalised:
    kind = target.kind
    if annual.value is None:
        return Normalised(None, None, None, kind, "no value")
    if annual.baseline is None:
        return Normalised(None, None, None, kind, "no baseline: give a baseline column or the previous year's data")
    direction = kpi.direction if kind != "growth" else "higher_is_better"
    change = change_percent(annual.value, annual.baseline, direction)
    if change is None:
        # a zero baseline: nothing to reduce (a reduction is met while it stays at zero), nothing to grow from
        if direction == "lower_is_better":
            met = annual.value <= 0
        else:
            met = annual.value >= 0 if kind == "stabilisation" else annual.value > 0
        return Normalised(1.0 if met else 0.0, None, None, kind, "zero baseline")
    if kind == "stabilisation":
        if change >= 0:
            return Normalised(1.0, None, change, f"stabilisation ({policy.stabilisation})")
        if policy.stabilisation == "binary":
            return Normalised(0.0, None, change, "stabilisation (binary)")
        return Normalised(clamp(1.0 + change / STABILISATION_LINEAR_SPAN), None, change, "stabilisation (linear)")
    goal = resolve(target.value, "≥", policy.range_target)
    if goal is None:  # «минимальное снижение»: any improvement (unquantified_change = any_change)
        return Normalised(1.0 if change > 0 else 0.0, None, change, f"{kind}: any change")
    if goal <= 0:
        return Normalised(1.0 if change >= goal else 0.0, goal, change, f"{kind}")
    return Normalised(clamp(change / goal), goal, change, f"{kind}: min(change / target change, 1)")


def _compliance(target: Target, annual: AnnualValue, policy: ScoringPolicy,
                component_targets: dict[str, float] | None) -> Normalised:
    if component_targets:
        if not annual.components:
            return Normalised(None, None, None, "compliance",
                              "needs one value per component: " + ", ".join(component_targets))
        scores = [le_score(annual.components[c], t, policy.le_normalisation) if c in annual.components else 0.0
                  for c, t in component_targets.items()]
        if policy.compliance == "binary":
            return Normalised(1.0 if all(s >= 1 for s in scores) else 0.0, None, None, "compliance (binary)")
        return Normalised(sum(scores) / len(scores), None, None, "compliance: mean of the component scores")
    if annual.value is None:
        return Normalised(None, 100.0, None, "compliance", "no value")
    share = clamp(annual.value / 100.0)
    if policy.compliance == "binary":
        return Normalised(1.0 if share >= 1 else 0.0, 100.0, annual.value, "compliance (binary)")
    return Normalised(share, 100.0, annual.value, "compliance: share within norms")


def _qualitative(kpi: KPI, annual: AnnualValue, policy: ScoringPolicy) -> Normalised:
    """Only reached with ``qualitative_targets = any_progress``: 1 for any improvement, or any non-zero level."""
    if annual.value is None:
        return Normalised(None, None, None, "qualitative", "no value")
    if annual.baseline is not None:
        change = change_percent(annual.value, annual.baseline, kpi.direction)
        if change is None:  # from a baseline of 0 the change is undefined: the direction of the value decides (D-57)
            improved = annual.value <= 0 if kpi.direction == "lower_is_better" else annual.value > 0
        else:
            improved = change > 0
        return Normalised(1.0 if improved else 0.0, None, change, "qualitative: any progress")
    return Normalised(1.0 if annual.value > 0 else 0.0, None, annual.value, "qualitative: any non-zero level")
