"""KPI values from raw records: declarative measures compiled to Ibis (DuckDB by default), per civil month."""

from .civil import SWITCH_UTC, civil, civil_python
from .compile import KpiValue, compute, settlement_params
from .specs import MEASURES, Measure

__all__ = ["MEASURES", "SWITCH_UTC", "KpiValue", "Measure", "civil", "civil_python", "compute", "settlement_params"]
