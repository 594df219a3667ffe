"""The warehouse: DuckDB by default (one file, no server), schema migrations, transactions."""

from .migrations import LATEST, MIGRATIONS
from .warehouse import Warehouse, WarehouseBusyError, WarehouseError, connect, default_path

__all__ = ["LATEST", "MIGRATIONS", "Warehouse", "WarehouseBusyError", "WarehouseError", "connect", "default_path"]
