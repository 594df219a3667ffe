"""What is published: the read model of ratings, KPI values and the monitor (shared by the API and the dashboard)."""

from .repository import Repository, RunInfo
from .tables import flatten, to_csv, to_xlsx

__all__ = ["Repository", "RunInfo", "flatten", "to_csv", "to_xlsx"]
