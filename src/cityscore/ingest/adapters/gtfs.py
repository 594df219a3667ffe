"""``gtfs-rt``: a GTFS-realtime TripUpdates feed (``.pb``) → ``transit_stop_events``, one row per stop_time_update.

The feed is a ``FeedMessage`` (protocol buffers, read with ``gtfs-realtime-bindings``). Every entity with a
``trip_update`` contributes its ``stop_time_update`` records; row numbers count the stop_time_updates of the feed
in order, from 1 (skipped ones included, so a row number always points at the same update). Column by column:

============ ======================================================================================================
target       source
============ ======================================================================================================
trip_id      ``trip_update.trip.trip_id``
route_id     ``trip_update.trip.route_id``; when the descriptor has none, ``route_id`` of the trip in the static
             feed's ``trips.txt``
stop_id      ``stop_time_update.stop_id`` (``stop_sequence`` alone cannot be placed without ``stop_times.txt``)
actual_at    ``arrival.time``, else ``departure.time`` (POSIX seconds → UTC ``…+00:00``)
scheduled_at ``scheduled_time`` of the same event (experimental field of GTFS-rt 2.0), else ``time − delay`` when the
             event gives a ``delay``, else empty (the arrival is then outside the scope of KPI 4.2)
settlement   the ``settlement`` argument (required: a feed does not name a Kazakh settlement)
============ ======================================================================================================

Static feed. The GTFS directory or zip with ``trips.txt`` is looked for next to the ``.pb`` file: a folder whose name
starts with ``google_transit`` (``google_transit/``, ``google_transit_partial/``), then any ``*.zip`` holding a
``trips.txt``; ``static=`` names one explicitly. It is only needed for trips without ``route_id``; without it such
rows are rejected (``no-route``).

Skipped and rejected updates. A stop_time_update with ``schedule_relationship`` ``SKIPPED`` or ``NO_DATA`` (and every
update of a ``CANCELED`` trip) has no arrival to measure and is left out; their number is stated in a note. KPI 4.2
counts a cancelled trip's timetabled arrivals as not served (decisions.md D-48), but a TripUpdates feed does not carry
the timetable of a cancelled trip: deliver them as ``transit_stop_events`` rows with ``cancelled`` true and their
``scheduled_at``. An update that is none of these and has neither ``arrival.time`` nor ``departure.time`` is rejected
(``no-time``), as is one without ``stop_id`` (``no-stop-id``), ``trip_id`` (``no-trip-id``) or route (``no-route``).

Assumptions. ``time`` is the arrival the feed reports; in a TripUpdates snapshot it is an observed time for stops
already served and a *prediction* for the stops ahead (a note counts the updates later than the feed's header
timestamp). KPI 4.2 and the headways of 4.1/8.2 therefore mix the two; feeds archived over the day, keeping the
last update of each (trip, stop), measure observed service. Successive snapshots repeat the same (trip, stop):
ingest one snapshot per period, or deduplicate before ingesting. The ``timezone`` argument is accepted for a uniform
adapter signature and ignored: POSIX times are absolute.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..reading import BATCH_ROWS, RowBatch, Source
from ..tabular import InputFileError
from . import Adapter, register

TABLE = "transit_stop_events"
HEADER = ["trip_id", "settlement", "route_id", "stop_id", "scheduled_at", "actual_at"]
SKIPPED = 1  # StopTimeUpdate.ScheduleRelationship.SKIPPED
NO_DATA = 2  # StopTimeUpdate.ScheduleRelationship.NO_DATA
CANCELED = 3  # TripDescriptor.ScheduleRelationship.CANCELED


def utc_from_posix(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def find_static(pb: Path) -> Path | None:
    """The static GTFS (directory or zip with ``trips.txt``) next to a realtime file, if there is one."""
    folder = pb.parent
    for candidate in sorted(folder.glob("google_transit*")):
        if candidate.is_dir() and (candidate / "trips.txt").is_file():
            return candidate
    for candidate in sorted(folder.glob("*.zip")):
        try:
            with zipfile.ZipFile(candidate) as z:
                if "trips.txt" in z.namelist():
                    return candidate
        except zipfile.BadZipFile:
            continue
    return None


def trip_routes(static: Path) -> dict[str, str]:
    """``trip_id → route_id`` from ``trips.txt`` of a GTFS directory or zip."""
    if static.is_dir():
        data = (static / "trips.txt").read_bytes()
    else:
        try:
            with zipfile.ZipFile(static) as z:
                data = z.read("trips.txt")
        except (zipfile.BadZipFile, KeyError) as exc:
            raise InputFileError(f"{static}: not a GTFS zip with trips.txt ({exc})") from None
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return {row["trip_id"].strip(): row["route_id"].strip() for row in reader
            if row.get("trip_id") and row.get("route_id")}


def _feed(path: Path) -> Any:
    try:
        from google.transit import gtfs_realtime_pb2  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputFileError("reading GTFS-realtime needs the package gtfs-realtime-bindings "
                             "(pip install gtfs-realtime-bindings)") from None
    feed = gtfs_realtime_pb2.FeedMessage()
    try:
        feed.ParseFromString(path.read_bytes())
    except Exception as exc:  # protobuf's DecodeError, or its C implementation's own errors
        raise InputFileError(f"{path}: not a GTFS-realtime FeedMessage ({exc})") from None
    return feed


def open_gtfs_rt(path: Path, *, settlement: str | None = None, timezone: str | None = None,
                 static: Path | None = None) -> Source:
    """Open a TripUpdates ``.pb`` as ``transit_stop_events`` rows (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file.")
    if not settlement:
        raise InputFileError(f"{path}: a GTFS-realtime feed does not say which settlement it serves: give --settlement "
                             "(a KATO code)")
    feed = _feed(path)
    static = Path(static) if static is not None else find_static(path)
    routes = trip_routes(static) if static is not None else {}
    header_time = int(feed.header.timestamp) if feed.header.HasField("timestamp") else None
    notes: list[str] = [f"static GTFS: {static.name}" if static is not None else "no static GTFS found next to the "
                        "file: route_id only from the trip descriptors"]
    rows: list[tuple[int, list[str | None]]] = []
    problems: dict[int, tuple[str, str]] = {}
    skipped = predicted = 0
    number = 0
    for entity in feed.entity:
        if not entity.HasField("trip_update"):
            continue
        trip = entity.trip_update.trip
        trip_id = trip.trip_id.strip() or None
        route_id = trip.route_id.strip() or (routes.get(trip_id) if trip_id else None)
        canceled = trip.schedule_relationship == CANCELED
        for update in entity.trip_update.stop_time_update:
            number += 1
            if canceled or update.schedule_relationship in (SKIPPED, NO_DATA):
                skipped += 1
                continue
            event = next((e for e in (update.arrival, update.departure) if e.HasField("time") and e.time > 0), None)
            actual = utc_from_posix(event.time) if event is not None else None
            scheduled = None
            if event is not None and event.HasField("scheduled_time") and event.scheduled_time > 0:
                scheduled = utc_from_posix(event.scheduled_time)
            elif event is not None and event.HasField("delay"):
                scheduled = utc_from_posix(event.time - event.delay)
            if event is not None and header_time is not None and event.time > header_time:
                predicted += 1
            stop_id = update.stop_id.strip() or None
            rows.append((number, [trip_id, settlement, route_id, stop_id, scheduled, actual]))
            where = f"trip {trip_id or '?'} stop_sequence {update.stop_sequence}"
            if trip_id is None:
                problems[number] = ("no-trip-id", f"trip_update.trip.trip_id is empty ({where})")
            elif actual is None:
                problems[number] = ("no-time", f"stop_time_update has neither arrival.time nor departure.time "
                                                f"({where})")
            elif stop_id is None:
                problems[number] = ("no-stop-id", f"stop_time_update.stop_id is empty ({where}); stop_sequence "
                                                  "alone cannot be placed without stop_times.txt")
            elif route_id is None:
                problems[number] = ("no-route", f"trip.route_id is empty and trip_id {trip_id} is not in "
                                                f"{'trips.txt' if routes else 'a static GTFS (none found)'}")
    if skipped:
        notes.append(f"{skipped} stop_time_updates SKIPPED, NO_DATA or of canceled trips: left out")
    if predicted:
        notes.append(f"{predicted} of the arrivals are after the feed's timestamp ({utc_from_posix(header_time or 0)}):"
                     " predictions, not observations")

    def batches() -> Iterator[RowBatch]:
        for start in range(0, len(rows), BATCH_ROWS):
            chunk = rows[start:start + BATCH_ROWS]
            yield RowBatch(chunk, {n: problems[n] for n, _ in chunk if n in problems})

    return Source(path, "gtfs-rt", list(HEADER), None, batches(), notes)


register(Adapter("gtfs-rt", TABLE, "GTFS-realtime TripUpdates (.pb): one stop event per stop_time_update; static "
                 "GTFS next to it for route_id", open_gtfs_rt))
