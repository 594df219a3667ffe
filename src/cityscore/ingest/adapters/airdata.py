"""``airdata-hourly`` and ``airdata-daily``: AirData.kz open air-quality files → ``air_quality``.

AirData.kz (github.com/qazybekb/AirDatakz-OpenData, CC BY-NC 4.0: attribute "AirData.kz. Open Air Quality Dataset
for Kazakhstan. Global Shapers Almaty Hub") publishes gzip CSV (plain CSV is read too). Files are streamed with
``gzip`` + ``csv`` in batches of 50 000 rows; row numbers are CSV lines (the header is line 1).

Pollutant: from the file name — ``<city>_hourly_<param>``, ``<city>_daily_<param>`` or the repository's own layout
``<city>/<param>.csv.gz`` / ``<city>/daily/<param>.csv.gz`` — with ``pm2_5``/``pm2.5`` read as ``pm25``; one of
pm25, pm10, no2, so2, co, o3, else :class:`~cityscore.ingest.tabular.InputFileError`. Values are µg/m³ as published
(``value_ugm3``; AirData converts mg/m³ and ppb upstream); the loader rejects blanks, non-numbers and negatives.
KPI 1.17 compares station-day means with the daily norms of :mod:`cityscore.measures.norms` (ПДК с.с., µg/m³:
PM2.5 35, PM10 60, NO₂ 40, SO₂ 50, CO 3 000, O₃ 30; decisions.md D-15).

Hourly station files (``airdata-hourly``; columns datetime_utc, station_id, station_name, source, lat, lon,
value_ugm3, raw_value, raw_unit, conversion_note, cluster_id, cluster_name):

=========== =========================================================================================================
target      source
=========== =========================================================================================================
station_id  ``station_id`` (e.g. ``kgmt_25``, ``oaq_20512``)
settlement  the ``settlement`` argument; without it, the city of the file name resolved in the settlement registry
            (``astana`` → 710000000); neither → InputFileError
pollutant   the file name
measured_at ``datetime_utc`` → UTC ``…+00:00``. The snapshot writes instants with a US Pacific offset
            (``2018-07-27 09:00:00-07:00``); the offset is honoured. A value without an offset is taken as UTC (the
            column's name). The instant is taken as the start of the hour it averages.
value       ``value_ugm3``
averaging   ``hour``
=========== =========================================================================================================

Daily city-wide files (``airdata-daily``; columns date, value_ugm3, median_value, … n_stations — the city-wide mean
of the day):

=========== =========================================================================================================
station_id  ``<city>-citywide`` (the city of the file name): the city mean stands for one virtual station
settlement  as for hourly files
pollutant   the file name
measured_at ``date`` at 00:00 Kazakhstan civil time (``Asia/Almaty``: +06:00 before 1 March 2024, +05:00 from then),
            written with that offset, so the civil day of the row is the date
value       ``value_ugm3``
averaging   ``day``
=========== =========================================================================================================

The ``rest_of_kz_daily_pm2_5`` file (columns date, city, avg_ugm3, n_stations) has one mean per city and day:
``value`` = ``avg_ugm3``, ``station_id`` = ``<city>-citywide`` (the name in lower case, spaces as ``_``),
``settlement`` = the city resolved with the registry (``Registry.resolve``: KATO code or a unique ru/kk/en name),
after dropping AirData's ``vil.``/``town`` suffix and through :data:`CITY_ALIASES` for AirData spellings that differ
from the registry's GeoNames/OSM names (Oskemen is Ust-Kamenogorsk, Uralsk is Oral, …). A city that still does not
resolve (a village the standard does not rate, such as Burabai) keeps its name in ``settlement``, so the loader
rejects the row with code ``unknown-settlement`` (``ambiguous-settlement`` for a name several settlements share) —
unless a ``settlement`` argument is given, which then stands for every such row. Rows with an empty ``city``
(2 022 in the snapshot; AirData does not say what they cover) take the ``settlement`` argument, else are rejected
(``missing-city``). A first pass over the file resolves each city once; a note lists the cities left unresolved
with their row counts and what happened to them.

Caveat of the snapshot (SOURCE.md): its daily files group days by America/Los_Angeles dates (AirData regenerated
them on Asia/Almaty days later), so a daily row covers 13–14 hours of the next Kazakh day; the adapter reads the
``date`` as a Kazakh civil day as the current files intend. Hourly instants are exact.

Rows the adapter cannot convert are rejected with their line: ``bad-timestamp`` (``datetime_utc``), ``bad-date``
(``date``), ``missing-city``; a line with too many or too few cells, ``extra-cells`` / ``short-row``; a file
that breaks off (a cut gzip), ``unreadable`` at the line where reading stopped. The ``timezone`` argument is
ignored: hourly times carry offsets and daily dates are Kazakh days.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from ...records.schemas import POLLUTANTS
from ...settlements import Registry, load_registry, normalise_name
from ..reading import BATCH_ROWS, RowBatch, Source
from ..tabular import InputFileError, normalise_column
from . import Adapter, register

TABLE = "air_quality"
HEADER = ["station_id", "settlement", "pollutant", "measured_at", "value", "averaging"]
CIVIL = ZoneInfo("Asia/Almaty")
PARAMETER_NAMES = {"pm2_5": "pm25", "pm2.5": "pm25", "pm25": "pm25", "pm10": "pm10", "no2": "no2", "so2": "so2",
                   "co": "co", "o3": "o3"}
AVERAGING = {"hourly": "hour", "daily": "day"}
_NAME = re.compile(r"^(?P<city>.+?)_(?P<kind>hourly|daily)_(?P<param>[a-z0-9_.]+)$")

# AirData spellings (rest_of_kz file) → KATO codes of the registry, where the registry's GeoNames/OSM English name
# differs and the place is unambiguous. Cities AirData spells as the registry does (Aktobe, Karagandy, Kokshetau,
# Semey …) need no entry.
CITY_ALIASES: dict[str, str] = {
    "oskemen": "631010000",  # Усть-Каменогорск (Өскемен); registry en: Ust-Kamenogorsk
    "uralsk": "271010000",  # Уральск (Орал); en: Oral
    "turkestan": "611010000",  # Туркестан; en: Turkistan
    "talgar": "196220100",  # Талгар; en: Talghar
    "zhetikara": "394420100",  # Житикара; en: Zhitikara
    "shemonaiha": "636820100",  # Шемонаиха; en: Shemonaikha
    "glubokoe": "634030100",  # Глубокое; en: Glubokoye
    "zhanatas": "316020100",  # Жанатас; en: Zhangatas
    "chu": "316621100",  # Шу (Жамбылская обл.); en: Shu
    "shieli": "435230100",  # Шиели; en: Shiyeli
    "makat": "235230100",  # Макат; en: Maqat
    "inderborsky": "234030100",  # Индерборский; en: Inderbor
    "aiteke bi": "434430100",  # Айтеке би (Кызылординская обл., Казалинский р-н); en: Ayteke Bi
    "abay": "353220100",  # "Abay town": the town of Абай, Карагандинская обл. (the other Абай is a village)
}
_SUFFIX = re.compile(r"\s+(vil\.?|village|town|city)$", re.IGNORECASE)


def parse_file_name(path: Path) -> tuple[str, str | None, str]:
    """``(city, kind, pollutant)`` from an AirData file name; kind is hourly, daily or None (repository layout)."""
    stem = path.name
    for suffix in (".gz", ".csv"):
        stem = stem.removesuffix(suffix)
    stem = stem.lower()
    match = _NAME.match(stem)
    if match:
        city, kind, param = match["city"], match["kind"], match["param"]
    else:  # the repository's layout: <city>/<param>.csv.gz (hourly) or <city>/daily/<param>.csv.gz
        parent = path.parent
        kind = "daily" if parent.name.lower() == "daily" else None
        city = (parent.parent.name if kind else parent.name).lower()
        param = stem
    pollutant = PARAMETER_NAMES.get(param)
    if pollutant is None or pollutant not in POLLUTANTS:
        raise InputFileError(f"{path}: the pollutant cannot be told from the file name ('{param}'); name the file "
                             "<city>_hourly_<pollutant>.csv.gz or <city>_daily_<pollutant>.csv.gz with one of: "
                             + ", ".join(POLLUTANTS))
    return city, kind, pollutant


def resolve_city(name: str, registry: Registry) -> str | None:
    """KATO code of an AirData city name, or None."""
    text = name.strip()
    for candidate in (text, _SUFFIX.sub("", text)):
        found = registry.resolve(candidate)
        if found is not None:
            return found.kato
        alias = CITY_ALIASES.get(normalise_name(candidate))
        if alias is not None and registry.get(alias) is not None:
            return alias
    return None


def _slug(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


@lru_cache(maxsize=1 << 16)
def hourly_instant(text: str) -> str | None:
    """``datetime_utc`` text → ISO UTC with ``+00:00`` (naive = UTC), None when it is not a date and time."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


@lru_cache(maxsize=1 << 14)
def civil_midnight(text: str) -> str | None:
    """A date → its 00:00 in Kazakhstan civil time with the offset (e.g. ``2025-01-01T00:00:00+05:00``)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=CIVIL).isoformat()


def _open_text(path: Path) -> IO[str]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open("r", encoding="utf-8-sig", newline="")


def _settlement_of_file(path: Path, city: str, settlement: str | None, registry: Registry) -> str:
    if settlement:
        return settlement
    found = resolve_city(city, registry)
    if found is None:
        raise InputFileError(f"{path}: the city '{city}' of the file name is not a rated settlement: give --settlement "
                             "(a KATO code)")
    return found


def _city_notes(path: Path, at_city: int, width: int, registry: Registry, settlement: str | None,
                cities: dict[str, str | None]) -> list[str]:
    """Resolve every city of a per-city file once (a first pass over the file) and say what happens to the rows
    of cities that are not rated settlements. Fills ``cities`` (name → KATO code or None)."""
    counts: dict[str, int] = {}
    with _open_text(path) as stream:
        reader = csv.reader(stream)
        next(reader, None)
        try:
            for record in reader:
                if len(record) == width:
                    name = record[at_city].strip()
                    counts[name] = counts.get(name, 0) + 1
        except (OSError, EOFError, UnicodeDecodeError, csv.Error):
            pass  # the second pass reports where the file breaks
    for name in counts:
        cities[name] = resolve_city(name, registry) if name else None
    unresolved = {n: c for n, c in sorted(counts.items()) if cities[n] is None}
    resolved = len(counts) - len(unresolved)
    notes = [f"{resolved} cities matched to rated settlements"]
    if unresolved:
        listing = ", ".join(f"{n or '(empty city)'} ({c} rows)" for n, c in unresolved.items())
        if settlement:
            notes.append(f"rows of cities that are not rated settlements are given --settlement {settlement}: "
                         + listing)
        else:
            notes.append("rows of cities that are not rated settlements are rejected (unknown-settlement, "
                         "missing-city): " + listing)
    return notes


def _read(path: Path, kind: str, settlement: str | None, registry: Registry | None) -> Source:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file.")
    city, named_kind, pollutant = parse_file_name(path)
    registry = registry or load_registry()
    stream = _open_text(path)
    reader = csv.reader(stream)
    try:
        header = [normalise_column(h) for h in next(reader)]
    except StopIteration:
        stream.close()
        raise InputFileError(f"{path}: the file is empty; its first line must name the columns.") from None
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        stream.close()
        raise InputFileError(f"{path}: not a readable (gzip) CSV file ({exc}).") from None
    per_city = kind == "daily" and "city" in header
    time_column = "datetime_utc" if kind == "hourly" else "date"
    value_column = "avg_ugm3" if per_city and "avg_ugm3" in header else "value_ugm3"
    needed = [time_column, value_column, *(["station_id"] if kind == "hourly" else []), *(["city"] if per_city else [])]
    missing = [c for c in needed if c not in header]
    if missing:
        stream.close()
        hint = " (is it a daily file? use airdata-daily)" if kind == "hourly" and "date" in header else (
            " (is it an hourly file? use airdata-hourly)" if kind == "daily" and "datetime_utc" in header else "")
        raise InputFileError(f"{path}: not an AirData {kind} file: no column {', '.join(missing)}{hint}")
    if named_kind is not None and named_kind != kind:
        stream.close()
        raise InputFileError(f"{path}: the file name says {named_kind}; open it with airdata-{named_kind}")
    own = None if per_city else _settlement_of_file(path, city, settlement, registry)
    at_time, at_value = header.index(time_column), header.index(value_column)
    at_station = header.index("station_id") if kind == "hourly" else None
    at_city = header.index("city") if per_city else None
    width = len(header)
    convert = hourly_instant if kind == "hourly" else civil_midnight
    station = f"{city}-citywide"
    notes = [f"pollutant {pollutant} (from the file name)"]
    cities: dict[str, str | None] = {}
    if at_city is not None:
        notes += _city_notes(path, at_city, width, registry, settlement, cities)
    averaging = AVERAGING[kind]

    def batches() -> Iterator[RowBatch]:
        batch = RowBatch([])
        try:
            for record in reader:
                line = reader.line_num
                if not record or not any(cell.strip() for cell in record):
                    continue
                if len(record) != width:
                    code = "extra-cells" if len(record) > width else "short-row"
                    batch.problems[line] = (code, f"{len(record)} cells but {width} columns")
                    batch.rows.append((line, [None] * len(HEADER)))
                else:
                    text = record[at_time]
                    when = convert(text)
                    where = own
                    station_id = record[at_station] if at_station is not None else station
                    if at_city is not None:
                        name = record[at_city].strip()
                        station_id = f"{_slug(name) or city}-citywide"
                        where = cities.get(name) or settlement or name or None
                        if where is None:
                            batch.problems[line] = ("missing-city", "city is empty and no --settlement was given")
                    if when is None:
                        code = "bad-timestamp" if kind == "hourly" else "bad-date"
                        expected = "2025-01-01 09:00:00-08:00" if kind == "hourly" else "2025-01-01"
                        message = f"{time_column} '{text}' is not a {'date and time' if kind == 'hourly' else 'date'}"
                        batch.problems[line] = (code, f"{message} (write e.g. {expected})")
                    batch.rows.append((line, [station_id, where, pollutant, when if when is not None else text,
                                              record[at_value], averaging]))
                if len(batch.rows) >= BATCH_ROWS:
                    yield batch
                    batch = RowBatch([])
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            line = reader.line_num + 1
            batch.problems[line] = ("unreadable", f"the file cannot be read from here on ({exc}); it may be cut off")
            batch.rows.append((line, [None] * len(HEADER)))
        finally:
            stream.close()
        if batch.rows:
            yield batch

    return Source(path, "csv.gz" if path.name.lower().endswith(".gz") else "csv", list(HEADER), "utf-8", batches(),
                  notes)


def open_airdata_hourly(path: Path, *, settlement: str | None = None, timezone: str | None = None,
                        registry: Registry | None = None) -> Source:
    """Open an AirData hourly station file as ``air_quality`` rows with averaging=hour."""
    return _read(path, "hourly", settlement, registry)


def open_airdata_daily(path: Path, *, settlement: str | None = None, timezone: str | None = None,
                       registry: Registry | None = None) -> Source:
    """Open an AirData daily city file (or ``rest_of_kz_daily_pm2_5``) as ``air_quality`` rows with averaging=day."""
    return _read(path, "daily", settlement, registry)


register(Adapter("airdata-hourly", TABLE, "AirData.kz hourly station files (<city>_hourly_<pollutant>.csv.gz)",
                 open_airdata_hourly))
register(Adapter("airdata-daily", TABLE, "AirData.kz daily city means (<city>_daily_<pollutant>.csv.gz, "
                 "rest_of_kz_daily_pm2_5)", open_airdata_daily))
