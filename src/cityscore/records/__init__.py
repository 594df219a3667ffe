"""The raw record tables: what the cities' systems export, column by column (read by ingest, store, measures,
simulate)."""

from .schemas import (
    EMERGENCY_SERVICES,
    INCIDENT_TYPES,
    PAYMENT_TYPES,
    POLLUTANTS,
    REQUEST_CATEGORIES,
    SCHEMAS,
    WEIGHTED_TABLES,
    Column,
    Schema,
)

__all__ = [
    "EMERGENCY_SERVICES",
    "INCIDENT_TYPES",
    "PAYMENT_TYPES",
    "POLLUTANTS",
    "REQUEST_CATEGORIES",
    "SCHEMAS",
    "WEIGHTED_TABLES",
    "Column",
    "Schema",
]
