"""KPI values from raw records: the catalog's measures compiled to Ibis (DuckDB by default), per civil month."""

from .civil import SWITCH_UTC, civil, civil_python
from .compile import KpiValue, LineageRow, compute, settlement_params, year_end_utc
from .parts import BoundMeasure, bind, measured_kpis, measures_of

__all__ = ["SWITCH_UTC", "BoundMeasure", "KpiValue", "LineageRow", "bind", "civil", "civil_python", "compute",
           "measured_kpis", "measures_of", "settlement_params", "year_end_utc"]
