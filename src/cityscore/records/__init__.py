"""The raw record tables: what the cities' systems export, column by column (read by ingest, store, measures,
simulate)."""

from .schemas import SCHEMAS, Column, Schema

__all__ = ["SCHEMAS", "Column", "Schema"]
