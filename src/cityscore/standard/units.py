"""Facts about units and ranges that every stage needs: how a pooled ratio is scaled to a KPI's unit, which measure
kinds fit which units, and how a range (``[60, 90]``) in a target or a formula parameter becomes one number.

Kept in the standard so that measures, ingestion and the simulator use the same facts as scoring without importing
it.
"""

from __future__ import annotations

POOL_SCALE: dict[str, float] = {
    "percent": 100.0,
    "per_1000_residents": 1000.0,
    "per_1000_users": 1000.0,
    "per_1000_places": 1000.0,
    "per_1000_vehicles": 1000.0,
    "per_10000_vehicles": 10000.0,
    "per_100_km": 100.0,
    "per_million_trips": 1_000_000.0,
}
"""Σ numerator / Σ denominator × scale is in the KPI's unit (× 100 for a percentage, × 1 000 per 1 000 …)."""

COUNT_UNITS = frozenset({"count", "count_per_month", "count_per_year", "kwh"})
"""Units of amounts that accumulate over their period (a sum or a count of records)."""

RANGE_MODES = ("lenient", "strict", "midpoint")


def pool_scale(unit: str) -> float:
    """The factor that puts Σ numerator / Σ denominator in ``unit`` (1 for a unit without one)."""
    return POOL_SCALE.get(unit, 1.0)


def resolve(value: float | tuple[float, float] | None, comparator: str | None, mode: str) -> float | None:
    """A range to one number: ``lenient`` = the end easier to meet, ``strict`` the other, ``midpoint`` the middle.

    For «≥» the easier end is the low one, for «≤» the high one (decisions.md D-08).
    """
    if value is None or not isinstance(value, tuple):
        return value
    low, high = float(value[0]), float(value[1])
    if mode == "midpoint":
        return (low + high) / 2
    lenient_is_low = comparator != "≤"
    if mode == "lenient":
        return low if lenient_is_low else high
    return high if lenient_is_low else low


def kind_fits_unit(kind: str, unit: str) -> bool:
    """Whether a measure of ``kind`` can give a value in ``unit`` (a share is a percentage, a rate per 1 000
    residents needs that unit, a mean or a median is a plain quantity, a sum or count an amount)."""
    if kind in ("share", "daily_compliance"):
        return unit == "percent"
    if kind == "rate_per_1000":
        return unit == "per_1000_residents"
    if kind == "ratio":
        return unit in POOL_SCALE and unit != "percent"
    if kind in ("sum", "count"):
        return unit in COUNT_UNITS
    if kind in ("mean", "median", "wait_time"):
        return unit not in POOL_SCALE and unit not in COUNT_UNITS
    return False
