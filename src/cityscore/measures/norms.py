"""Daily air-quality norms used by KPI 1.17 (decisions.md D-15): average daily maximum permissible concentrations
(ПДК среднесуточные) of Kazakhstan's hygienic norms for atmospheric air, in µg/m³. Data, not logic: a different
set of norms can be passed to the measure."""

from __future__ import annotations

DAILY_NORMS_UG_M3: dict[str, float] = {
    "pm25": 35.0,
    "pm10": 60.0,
    "no2": 40.0,
    "so2": 50.0,
    "co": 3000.0,
    "o3": 30.0,
}
