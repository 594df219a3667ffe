"""Open-standard adapters: read a published format and present it as rows of a raw record table.

An adapter opens a file in a published format and returns a :class:`~cityscore.ingest.reading.Source` whose header
uses the target table's column names exactly; the loader then types and checks the rows like any other file. Rows
the adapter cannot convert are passed on with a problem (``RowBatch.problems``) so they are rejected with their row
number, never silently dropped. Timestamps are written as UTC with an explicit ``+00:00`` (or with the offset of the
source's civil time), because the loader reads a timestamp without an offset as Kazakhstan civil time.

Adapters: ``open311`` (Open311 GeoReport v2 and Boston 311 exports → ``service_requests``), ``gtfs-rt``
(GTFS-realtime TripUpdates → ``transit_stop_events``), ``airdata-hourly`` and ``airdata-daily`` (AirData.kz open
air-quality files → ``air_quality``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..reading import Source


@dataclass(frozen=True)
class Adapter:
    name: str
    table: str
    description: str
    open: Callable[..., Source]


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    ADAPTERS[adapter.name] = adapter
    return adapter


def open_adapter(name: str, path: Path, *, settlement: str | None = None, timezone: str | None = None) -> Source:
    """Open ``path`` with the adapter ``name``; ``timezone`` is the IANA zone of naive source times (adapters whose
    times are absolute ignore it)."""
    return ADAPTERS[name].open(Path(path), settlement=settlement, timezone=timezone)


# The adapters register themselves on import (kept last: they import Adapter and register from this module).
from . import airdata, gtfs, open311  # noqa: E402

__all__ = ["ADAPTERS", "Adapter", "airdata", "gtfs", "open311", "open_adapter", "register"]
