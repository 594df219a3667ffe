"""CityScore-Kazakhstan for one settlement and one year (Appendix 5 п. 4–7).

``score_settlement`` takes the annual values of one settlement and returns every KPI's outcome (actual, target,
score, weight, contribution, points at stake, or why it does not count), the section indices, the base score, the
bonus, the capped and published CityScore, the band and the coverage. Pure: no files, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..standard import KPI, Category, Standard
from .annual import AnnualValue
from .bonus import BonusVerdict
from .normalise import Normalised, normalise, resolve
from .policy import ScoringPolicy
from .selection import Eligibility, eligibility, weights


@dataclass(frozen=True)
class KpiOutcome:
    """One KPI of one settlement: whether it counts, the numbers behind its score, and its weight."""

    kpi: str
    section: str
    counts: bool
    reason: str | None
    has_data: bool
    actual: float | None
    baseline: float | None
    achieved: float | None  # the value compared with the target (the change in % for dynamic targets)
    target: float | None
    target_text: str | None
    target_kind: str | None
    comparator: str | None
    score: float | None
    weight: float
    rule: str | None
    provisional: bool
    annual: AnnualValue | None = None

    @property
    def contribution(self) -> float:
        return self.weight * (self.score or 0.0) if self.counts else 0.0

    @property
    def points_at_stake(self) -> float:
        """What the settlement would gain if this KPI met its target: weight × (1 − score)."""
        return self.weight * (1.0 - (self.score or 0.0)) if self.counts else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "actual": self.actual,
            "target": self.target,
            "score": self.score,
            "weight": self.weight,
            "points_at_stake": self.points_at_stake,
            "contribution": self.contribution,
            "section": self.section,
            "counts": self.counts,
            "reason": self.reason,
            "has_data": self.has_data,
            "baseline": self.baseline,
            "achieved": self.achieved,
            "target_text": self.target_text,
            "target_kind": self.target_kind,
            "comparator": self.comparator,
            "rule": self.rule,
            "provisional": self.provisional,
            "input": self.annual.to_json() if self.annual else None,
        }


@dataclass(frozen=True)
class SectionOutcome:
    index: float  # points, 0 … weight
    weight: float  # W' after redistribution
    base_weight: float  # W of Appendix 5
    redistributed: bool  # nothing to score: its weight went to the other sections
    kpis: int  # counted KPIs

    @property
    def share(self) -> float | None:
        """The section index as a share of its weight (0 … 1), None for an empty section."""
        return self.index / self.weight if self.weight else None


@dataclass(frozen=True)
class SettlementResult:
    """CityScore of one settlement for one year, with everything needed to explain it."""

    settlement: str
    category: Category
    year: int
    base: float
    bonus: float
    uncapped: float
    exact: float
    cityscore: float
    band: str
    coverage: float
    sections: dict[str, SectionOutcome]
    kpis: tuple[KpiOutcome, ...]
    bonus_verdicts: tuple[BonusVerdict, ...] = ()
    rank: int | None = None
    previous_rank: int | None = None
    previous_cityscore: float | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def movement(self) -> int | None:
        """Places gained since the previous year (positive = up), None without a previous rating."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    def outcome(self, kpi_id: str) -> KpiOutcome | None:
        return next((k for k in self.kpis if k.kpi == kpi_id), None)


def publish(value: float, policy: ScoringPolicy) -> float:
    """The published CityScore (D-13): one decimal or a whole number, rounded half up; or exact."""
    if policy.band_rounding == "unrounded":
        return value
    quantum = Decimal("0.1") if policy.band_rounding == "one_decimal" else Decimal("1")
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def _component_targets(kpi: KPI, category: Category) -> dict[str, float] | None:
    for parameter in kpi.parameters.values():
        value = parameter[category]
        if isinstance(value, dict):
            return {k: float(v) for k, v in value.items()}
    return None


def _plain_target(e: Eligibility, policy: ScoringPolicy) -> float | None:
    """The target number of a KPI that was not normalised (no data), for display."""
    if e.target is None or e.target.kind not in ("threshold", "reduction", "growth"):
        return None
    comparator = e.target.comparator if e.target.kind == "threshold" else "≥"
    return resolve(e.target.value, comparator, policy.range_target)


def score_settlement(
    std: Standard,
    policy: ScoringPolicy,
    *,
    settlement: str,
    category: Category,
    year: int,
    annual: dict[str, AnnualValue],
    bonus: tuple[BonusVerdict, ...] = (),
    decided: list[Eligibility] | None = None,
) -> SettlementResult:
    """Score one settlement from its annual KPI values (``kpi id → AnnualValue``).

    ``decided`` (the eligibility of every KPI for this category and year) may be passed in when scoring many
    settlements of one category; it does not depend on the settlement.
    """
    if decided is None:
        decided = [eligibility(std, k, category, year, policy) for k in std.kpis]
    normalised: dict[str, Normalised | None] = {}
    for e in decided:
        if e.counts and e.target is not None and e.kpi.id in annual:
            normalised[e.kpi.id] = normalise(
                e.kpi, e.target, annual[e.kpi.id], policy, category=category,
                component_targets=_component_targets(e.kpi, e.target_category or category))

    def data_score(kpi_id: str) -> float | None:
        result = normalised.get(kpi_id)
        return result.score if result is not None else None

    eligible = [e for e in decided if e.counts]
    # coverage: the share of the official weight (KPIs without data counted) that has data
    official = weights(std, eligible, policy.model_copy(update={"missing_data": "zero"}))
    official_total = sum(official.kpi.values())
    with_data = sum(w for k, w in official.kpi.items() if data_score(k) is not None)
    coverage = 100.0 * with_data / official_total if official_total else 0.0
    counted = eligible if policy.missing_data == "zero" else [e for e in eligible if data_score(e.kpi.id) is not None]
    final = weights(std, counted, policy)
    outcomes = []
    for e in decided:
        value = annual.get(e.kpi.id)
        result = normalised.get(e.kpi.id)
        counts = e.counts and e.kpi.id in final.kpi
        score = data_score(e.kpi.id)
        reason = e.reason
        if e.counts and score is None:
            note = result.note if result is not None else None
            reason = f"no data ({note})" if note and note != "no value" else "no data"
            if counts:
                score = 0.0
        target = e.target
        outcomes.append(KpiOutcome(
            kpi=e.kpi.id, section=e.section, counts=counts, reason=reason,
            has_data=data_score(e.kpi.id) is not None if e.counts else value is not None,
            actual=value.value if value else None, baseline=value.baseline if value else None,
            achieved=result.achieved if result else None, target=result.target_value if result else (
                _plain_target(e, policy) if e.counts else None),
            target_text=target.text if target else None, target_kind=target.kind if target else None,
            comparator=target.comparator if target else None, score=score if e.counts else None,
            weight=final.kpi.get(e.kpi.id, 0.0) if counts else 0.0, rule=result.rule if result else None,
            provisional=e.kpi.provisional, annual=value,
        ))
    sections = {}
    for s in std.sections:
        index = sum(o.contribution for o in outcomes if o.counts and o.section == s.id)
        sections[s.id] = SectionOutcome(index=index, weight=final.section.get(s.id, 0.0), base_weight=float(s.weight),
                                        redistributed=s.id in final.redistributed,
                                        kpis=sum(1 for o in outcomes if o.counts and o.section == s.id))
    base = min(100.0, max(0.0, sum(sec.index for sec in sections.values())))
    bonus_points = sum(v.points for v in bonus)
    uncapped = base + bonus_points
    exact = min(uncapped, 100.0) if policy.cap == "cap_100" else uncapped
    published = publish(exact, policy)
    return SettlementResult(
        settlement=settlement, category=category, year=year, base=base, bonus=bonus_points, uncapped=uncapped,
        exact=exact, cityscore=published, band=std.band_for(published).id, coverage=coverage,
        sections=sections, kpis=tuple(outcomes), bonus_verdicts=bonus,
    )
