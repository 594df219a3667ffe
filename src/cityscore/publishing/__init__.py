"""What is published: the read model of ratings, KPI values and the monitor (shared by the API and the dashboard)."""

from .finite import dumps, finite
from .repository import Repository, RunInfo
from .tables import flatten, to_csv, to_xlsx
from .window import Day, Year

__all__ = ["Day", "Repository", "RunInfo", "Year", "dumps", "finite", "flatten", "to_csv", "to_xlsx"]
