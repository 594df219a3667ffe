"""Data in: read analysts' files row by row, keep every good row, report every bad one (file, row, column, fix)."""

from .evidence import read_evidence, read_monitor_records
from .observations import ReadReport, read_observations
from .tabular import InputFileError
from .values import RowError

__all__ = [
    "InputFileError",
    "ReadReport",
    "RowError",
    "read_evidence",
    "read_monitor_records",
    "read_observations",
]
