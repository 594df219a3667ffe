"""Small builders for scoring tests."""

from __future__ import annotations

from datetime import date

from cityscore.scoring import AnnualValue, Observation

ASTANA, ALMATY, SHYMKENT = "710000000", "750000000", "790000000"
SEMEY = "101010000"
KASKELEN = "195220100"


def year_obs(settlement: str, kpi: str, value: float | None = None, *, year: int = 2026,
             baseline: float | None = None, numerator: float | None = None, denominator: float | None = None,
             component: str | None = None) -> Observation:
    return Observation(settlement, kpi, date(year, 1, 1), date(year, 12, 31), value, numerator, denominator,
                       baseline, component)


def annual(kpi: str, value: float | None, baseline: float | None = None, components: dict[str, float] | None = None,
           ) -> AnnualValue:
    return AnnualValue("x", kpi, 2026, value, "test", 1, baseline=baseline, components=components or {})


def perfect_observations(std, settlement: str, year: int = 2026) -> list[Observation]:  # type: ignore[no-untyped-def]
    """One observation per KPI that meets any category's target (for scoring every KPI)."""
    out = []
    for kpi in std.kpis:
        higher = kpi.direction == "higher_is_better"
        if kpi.id == "1.4":
            for domain in ("safety", "housing_utilities", "ecology", "education"):
                out.append(year_obs(settlement, kpi.id, 0.5, year=year, component=domain))
            continue
        kinds = {t.kind for t in (kpi.targets.target(c) for c in ("republican", "oblast", "district")) if t}
        if kinds & {"reduction", "growth", "stabilisation", "qualitative"}:
            value, baseline = (200.0, 100.0) if higher else (50.0, 100.0)
            if kpi.unit == "percent":
                value, baseline = (100.0, 40.0) if higher else (0.0, 40.0)
            out.append(year_obs(settlement, kpi.id, value, year=year, baseline=baseline))
        elif kpi.unit == "percent":
            out.append(year_obs(settlement, kpi.id, 100.0 if higher else 0.0, year=year))
        elif kpi.unit in ("score_5", "score_10"):
            out.append(year_obs(settlement, kpi.id, 5.0 if kpi.unit == "score_5" else 10.0, year=year))
        else:
            out.append(year_obs(settlement, kpi.id, 1e9 if higher else 0.0, year=year))
    return out
