"""The warehouse: DuckDB by default (one file, no server), schema migrations, transactions."""

from .migrations import LATEST, MIGRATIONS
from .warehouse import Warehouse, WarehouseError, default_path

__all__ = ["LATEST", "MIGRATIONS", "Warehouse", "WarehouseError", "default_path"]
