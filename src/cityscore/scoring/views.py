"""The JSON shapes of scores (``cityscore score --format json``; later the API).

One object per settlement: ``settlement``, ``category``, ``cityscore``, ``cityscore_uncapped``, ``bonus``, ``band``,
``rank``, ``coverage``, ``sections`` (section → index in points) and ``kpis`` (KPI id → ``{actual, target, score,
weight, points_at_stake, …}`` for the KPIs that count), plus names, movement, section details, the KPIs that do not
count with the reason, the bonus verdicts, the improvements worth most and ``simulated`` (computed from data the
simulator wrote). The run object holds ``standard_version``, ``policy``, ``year``, ``simulated`` (any result is) and
``results``. Keys may be added, never renamed.
"""

from __future__ import annotations

from collections.abc import Collection

from ..settlements import Registry
from ..standard import Standard
from .engine import SettlementResult
from .explain import improvements
from .rating import ScoreRun


def result_json(std: Standard, registry: Registry, result: SettlementResult, *, explain: int = 5,
                simulated: bool = False) -> dict[str, object]:
    """One settlement's result; ``simulated``: computed from data the simulator wrote (decisions.md D-68)."""
    settlement = registry.get(result.settlement)
    band = next(b for b in std.bands if b.id == result.band)
    return {
        "settlement": result.settlement,
        "name_ru": settlement.name_ru if settlement else None,
        "name_kk": settlement.name_kk if settlement else None,
        "name_en": settlement.name_en if settlement else None,
        "category": result.category,
        "year": result.year,
        "cityscore": result.cityscore,
        "cityscore_exact": result.exact,
        "cityscore_uncapped": result.uncapped,
        "base": result.base,
        "bonus": result.bonus,
        "band": band.name.ru,
        "band_id": band.id,
        "band_en": band.name.en,
        "rank": result.rank,
        "previous_rank": result.previous_rank,
        "previous_cityscore": result.previous_cityscore,
        "movement": result.movement,
        "coverage": result.coverage,
        "sections": {sid: s.index for sid, s in result.sections.items()},
        "section_details": {sid: {"index": s.index, "weight": s.weight, "base_weight": s.base_weight,
                                  "share": s.share, "redistributed": s.redistributed, "kpis": s.kpis}
                            for sid, s in result.sections.items()},
        "kpis": {o.kpi: o.to_json() for o in result.kpis if o.counts},
        "not_counted": {o.kpi: o.reason for o in result.kpis if not o.counts},
        "additional_initiatives": [v.to_json() for v in result.bonus_verdicts],
        "improvements": [i.to_json() for i in improvements(std, result, explain)],
        "simulated": simulated,
    }


def run_json(std: Standard, registry: Registry, run: ScoreRun, *, simulated: Collection[str] = (),
             **extra: object) -> dict[str, object]:
    """The run; ``simulated``: the settlements whose results were computed from simulated data (the run is
    simulated when any is)."""
    marked = frozenset(simulated)
    return {
        "standard_version": run.standard_id,
        "policy": run.policy.model_dump(),
        "year": run.year,
        "previous_year_scored": run.previous_year_scored,
        "simulated": any(r.settlement in marked for r in run.results),
        **extra,
        "results": [result_json(std, registry, r, simulated=r.settlement in marked) for r in run.results],
    }
