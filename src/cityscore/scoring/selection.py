"""Which KPIs count for a settlement of a category in a year, in which section, and with what weight.

A KPI counts when it applies to the category (D-05), its initiative's stage has begun (D-16), the category has a
target (D-09), it has weight points, and the policy does not exclude it (qualitative targets D-18, unquantified
changes D-19, provisional KPIs D-22, near-duplicates D-17, overlapping KPIs D-53). Every KPI that does not count
carries the reason.

Weights (D-02, D-10): inside a section, ``weight_k = W'_section × points_k / Σ points``; ``W'`` is the section
weight, rescaled so that the sections with at least one counted KPI sum to 100 (``empty_section = redistribute``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..standard import CATEGORIES, KPI, Category, Standard, Target
from .policy import ScoringPolicy


@dataclass(frozen=True)
class Eligibility:
    """Whether a KPI counts for one category and year, and under which target and section."""

    kpi: KPI
    section: str
    counts: bool
    reason: str | None
    target: Target | None
    target_category: Category | None  # the category whose target is used (differs with next_category)


def start_year(std: Standard, kpi: KPI, category: Category, policy: ScoringPolicy) -> int:
    """First rating year in which the KPI's initiative is due in ``category`` (D-16)."""
    initiative = std.initiative(kpi.initiative)
    stage = initiative.categories[category] if initiative else None
    in_force = int(std.order.in_force[:4])
    if stage is None:  # applies through applies_to (1.8–1.21 in district centres): from the standard's start
        return in_force
    if policy.not_started == "excluded_until_deadline":
        return max(stage.years[1], in_force)
    return max(stage.years[0], in_force)


def eligibility(std: Standard, kpi: KPI, category: Category, year: int, policy: ScoringPolicy) -> Eligibility:
    """Decide whether ``kpi`` counts for ``category`` in ``year``."""
    initiative = std.initiative(kpi.initiative)
    section = kpi.section if policy.kpi_section == "catalog" or initiative is None else initiative.section

    def no(reason: str, target: Target | None = None) -> Eligibility:
        return Eligibility(kpi, section, False, reason, target, None)

    if policy.kpi_applicability == "initiative_only":
        applies = initiative is not None and initiative.applies_to(category)
    else:
        applies = std.kpi_applies(kpi, category)
    if not applies:
        return no(f"does not apply to {category} settlements")
    if policy.not_started != "counted" and year < start_year(std, kpi, category, policy):
        return no(f"initiative {kpi.initiative} is due from {start_year(std, kpi, category, policy)}")
    target, used = kpi.targets.target(category), category
    if target is None and policy.missing_target == "next_category":
        for higher in reversed(CATEGORIES[: CATEGORIES.index(category)]):
            target, used = kpi.targets.target(higher), higher
            if target is not None:
                break
    if target is None:
        return no(f"no target for {category} settlements")
    if kpi.weight_points is None:
        return no("no weight points (lost in the text)", target)
    if kpi.provisional and policy.provisional_kpis == "exclude":
        return no("provisional KPI (excluded by the policy)", target)
    if target.kind == "qualitative" and policy.qualitative_targets == "not_counted":
        return no(f"qualitative target «{target.text}» (no level to measure)", target)
    if target.kind in ("reduction", "growth") and target.value is None and policy.unquantified_change == "not_counted":
        return no(f"unquantified target «{target.text}»", target)
    if kpi.near_duplicate_of and policy.near_duplicates == "count_once":
        first = std.kpi(kpi.near_duplicate_of)
        if first is not None and eligibility(std, first, category, year, policy).counts:
            return no(f"near-duplicate of {kpi.near_duplicate_of} (counted once)", target)
    if policy.overlapping_kpis == "count_once":
        replacing = overlapping_counted(std, kpi, category, year, policy)
        if replacing:
            return no(f"overlaps {', '.join(replacing)}, counted instead of it (overlapping KPIs counted once)",
                      target)
    return Eligibility(kpi, section, True, None, target, used)


def overlapping_counted(std: Standard, kpi: KPI, category: Category, year: int, policy: ScoringPolicy) -> list[str]:
    """The KPIs that count instead of ``kpi`` under ``overlapping_kpis = count_once`` (D-53): those of the catalog's
    overlaps listing ``kpi`` under ``instead_of`` that count for ``category`` in ``year`` by every other rule.

    The choice depends on the category and year only, never on which KPIs a settlement reported, so a city cannot
    pick the better of the two by sending one.
    """
    plain = policy.model_copy(update={"overlapping_kpis": "count_both"})
    out: list[str] = []
    for overlap in std.overlaps_replacing(kpi.id):
        for other_id in overlap.counted:
            other = std.kpi(other_id)
            if other is not None and other_id not in out and eligibility(std, other, category, year, plain).counts:
                out.append(other_id)
    return out


@dataclass(frozen=True)
class Weights:
    """Final weights (in CityScore points) of the counted KPIs and of the sections."""

    kpi: dict[str, float]
    section: dict[str, float]  # W' after redistribution
    base_section: dict[str, float]  # W from the standard
    redistributed: tuple[str, ...]  # sections without counted KPIs whose weight went to the others


def weights(std: Standard, counted: list[Eligibility], policy: ScoringPolicy) -> Weights:
    """Weights of ``counted`` KPIs (all of one settlement): see the module docstring."""
    base = {s.id: float(s.weight) for s in std.sections}
    by_section: dict[str, list[Eligibility]] = {s: [] for s in base}
    for e in counted:
        by_section.setdefault(e.section, []).append(e)
    filled = [s for s, items in by_section.items() if items]
    empty = tuple(s for s in base if s not in filled)
    filled_total = sum(base.get(s, 0.0) for s in filled)
    if policy.empty_section == "redistribute" and filled_total > 0:
        section = {s: (base.get(s, 0.0) * 100.0 / filled_total if s in filled else 0.0) for s in base}
        redistributed = empty
    else:
        section = {s: (base[s] if s in filled else 0.0) for s in base}
        redistributed = ()
    kpi_weights: dict[str, float] = {}
    for s, items in by_section.items():
        if not items:
            continue
        if policy.kpi_weighting == "equal_within_section":
            shares = [1.0] * len(items)
        else:
            shares = [float(e.kpi.weight_points or 0) for e in items]
        total = sum(shares)
        for e, share in zip(items, shares, strict=True):
            kpi_weights[e.kpi.id] = section.get(s, 0.0) * share / total if total else 0.0
    return Weights(kpi_weights, section, base, redistributed)
