"""``open311``: Open311 service requests (Boston 311 exports, Open311 GeoReport v2) → ``service_requests``.

The file is read by the ordinary readers (CSV in any of their encodings and separators, JSON — GeoReport v2
``GET requests.json`` returns a list of objects —, NDJSON, XLSX, Parquet); GeoReport XML is not read. Column by
column (the first source column present wins):

============== =====================================================================================================
target         source
============== =====================================================================================================
request_id     ``case_enquiry_id`` (Boston) · ``service_request_id`` (GeoReport) · ``request_id``
settlement     the file's own ``settlement`` (or ``kato``) column where it has a value, else the ``settlement``
               argument (as the loader does); a file without the column needs the argument, else
               :class:`~cityscore.ingest.tabular.InputFileError` (a city's 311 export does not say which Kazakh
               settlement it is)
opened_at      ``open_dt`` · ``requested_datetime``
sla_due_at     ``target_dt`` · ``expected_datetime``
closed_at      ``closed_dt``; GeoReport has no closing time, so ``updated_datetime`` is taken when ``status`` is
               ``closed`` (the last update of a closed request is its closure) and left empty otherwise
category       the first match of :data:`CATEGORY_KEYWORDS` in ``type``, then ``reason``, then ``subject`` (Boston),
               then ``service_name``, ``service_code`` (GeoReport); no match → ``other``
channel        ``source`` (Boston: Citizens Connect App, Constituent Call, …); GeoReport has no channel field
============== =====================================================================================================

Other columns (``ontime``, ``case_status``, ``queue``, coordinates, ``description`` …) are not carried over; in
particular Boston's ``ontime`` flag is not used: KPI 1.9 is computed from the three timestamps.

Times. A time with an offset (``…-05:00``, ``…Z``; GeoReport v2 requires one) is converted to UTC as given. A time
without one (Boston writes ``2022-01-21 13:47:00``) is civil time of ``timezone`` (an IANA name; default
``Asia/Almaty``, i.e. a Kazakh system's export — a Boston file needs ``America/New_York``) and is converted to UTC;
a civil time that is ambiguous or skipped at a daylight-saving change is read with the offset in force before the
change (``fold=0``). Every time is written as ISO 8601 UTC with ``+00:00``. Accepted shapes: ISO 8601 (with ``T`` or
a space, optional fraction of a second and offset), ``MM/DD/YYYY hh:mm[:ss] AM|PM`` and ``MM/DD/YYYY HH:MM[:SS]``
(older Boston exports), ``DD.MM.YYYY HH:MM[:SS]``. A time that fits none of them rejects the row with code
``bad-timestamp`` and a message naming the source column; the cell keeps the text so the quarantine shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..reading import RowBatch, Source, open_source
from ..tabular import InputFileError
from . import Adapter, register

TABLE = "service_requests"
HEADER = ["request_id", "settlement", "opened_at", "sla_due_at", "closed_at", "category", "channel"]
DEFAULT_TIMEZONE = "Asia/Almaty"

ID_COLUMNS = ("case_enquiry_id", "service_request_id", "request_id")
OPENED_COLUMNS = ("open_dt", "requested_datetime")
DUE_COLUMNS = ("target_dt", "expected_datetime")
CLOSED_COLUMNS = ("closed_dt",)
CATEGORY_COLUMNS = ("type", "reason", "subject", "service_name", "service_code")
CHANNEL_COLUMNS = ("source",)
SETTLEMENT_COLUMNS = ("settlement", "kato")

# Keyword table, tried in this order on each of CATEGORY_COLUMNS in turn (the first column with a match decides).
# English patterns are whole words (\b); Russian and Kazakh stems match inside words. The order settles overlaps:
# "Street Lights" is lighting before "street" is roads, "Street Cleaning" is waste before it is roads, a manhole
# or a sewer is water before a sidewalk is a road. Every category outside the table is "other" (parking enforcement,
# abandoned vehicles, graffiti, animals, rodents, general comments in the Boston file).
CATEGORY_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("street_lighting", r"\bstreet ?lights?\b|\blighting\b|\blight outages?\b|\blamps?\b|освещ|фонар|жарықт"),
    ("bus_stops", r"\bbus (stop|shelter)s?\b|остановк|аялдама"),
    ("public_transport", r"\bbus(es)?\b|\btransit\b|\btram\b|\btrolley ?bus\b|транспорт|автобус|көлік"),
    ("waste", r"\btrash\b|\bgarbage\b|\blitter\b|\bwaste\b|\bsanitation\b|\bneedles?\b|\brecycl\w*|\bbulk item\b"
              r"|\bstreet cleaning\b|\bdead animal\b|\bce collection\b|\bdumping\b|мусор|отход|свалк|қоқыс"),
    ("water", r"\bwater\b|\bsewer\w*|\bmanholes?\b|\bhydrants?\b|\bdrain\w*|\bplumbing\b|водо|канализ|\bсу\b"),
    ("heating", r"\bheat(ing)?\b|\bboiler\b|\bradiators?\b|отоплен|жылу"),
    ("gas", r"\bgas\b|\bгаз(?!он)"),
    ("electricity", r"\belectric\w*|\bpower outages?\b|электр"),
    ("green_spaces", r"\btrees?\b|\bparks?\b|\bgrass\b|\bground maintenance\b|\bplayground\b|\bgreen\b"
                     r"|дерев(о|а|ья|ьев)\b|озелен|сквер|газон|\bпарк(и|а|е|ов)?\b|ағаш"),
    ("roads", r"\bpotholes?\b|\bstreets?\b|\broads?\b|\bsidewalks?\b|\bpavement\b|\bcrosswalk\b|\bsigns?\b"
              r"|\btraffic signals?\b|\btraffic lights?\b|\bsnow\b|\bplow\w*|\bice\b"
              r"|дорог|\bям[аыу]\b|выбоин|тротуар|светофор|снег|\bжол"),
    ("housing", r"\bhousing\b|\bliving conditions\b|\bbuilding\b|\brental\b|\belevator\b|жиль|лифт|подъезд"
                r"|кровл"),
    ("billing", r"\bbill(ing)?\b|\bmeter\b|\bcharges?\b|квитанц|начислен|\bсч[её]т|төлем"),
    ("health", r"\bhealth\b|\bclinic\b|\bhospital\b|поликлин|больниц|здрав"),
    ("education", r"\bschools?\b|\bkindergarten\b|школ|детск\w* сад|мектеп"),
    ("safety", r"\bpolice\b|\bnoise\b|\bcrime\b|\bloud\b|полиц|шум|безопасн"),
)
_COMPILED = tuple((category, re.compile(pattern, re.IGNORECASE)) for category, pattern in CATEGORY_KEYWORDS)

_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
            "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")


def category_of(texts: list[str | None]) -> str:
    """The request category of the first text (in the order given) that a keyword of the table matches."""
    for text in texts:
        if text and text.strip():
            for category, pattern in _COMPILED:
                if pattern.search(text):
                    return category
    return "other"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputFileError(f"unknown time zone '{name}': give an IANA name such as America/New_York or "
                             "Asia/Almaty") from None


def parse_time(text: str, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a source time (naive → civil time of ``tz``), or None when it is not a time."""
    text = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def utc_text(instant: datetime) -> str:
    """ISO 8601 with the explicit ``+00:00`` the loader converts as given."""
    return instant.astimezone(UTC).isoformat()


def _first(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(n) for n in names if n in header), None)


def open_open311(path: Path, *, settlement: str | None = None, timezone: str | None = None) -> Source:
    """Open a Boston 311 or Open311 GeoReport v2 export as ``service_requests`` rows (see the module docstring)."""
    tz = zone(timezone)
    inner = open_source(Path(path))
    header = inner.header
    position = {
        "request_id": _first(header, ID_COLUMNS), "opened_at": _first(header, OPENED_COLUMNS),
        "sla_due_at": _first(header, DUE_COLUMNS), "closed_at": _first(header, CLOSED_COLUMNS),
        "channel": _first(header, CHANNEL_COLUMNS), "settlement": _first(header, SETTLEMENT_COLUMNS),
    }
    for target, names in (("request_id", ID_COLUMNS), ("opened_at", OPENED_COLUMNS)):
        if position[target] is None:
            raise InputFileError(f"{path}: not an Open311 file: no column {' or '.join(names)} for {target} (columns: "
                                 f"{', '.join(header)})")
    if not settlement and position["settlement"] is None:
        raise InputFileError(f"{path}: the file does not say which settlement it is: give --settlement (a KATO "
                             "code)")
    status, updated = _first(header, ("status",)), _first(header, ("updated_datetime",))
    closed_from_update = position["closed_at"] is None and status is not None and updated is not None
    category_positions = [header.index(c) for c in CATEGORY_COLUMNS if c in header]
    notes = [*inner.notes, f"naive times read as {tz.key} civil time"]
    if closed_from_update:
        notes.append("closed_at = updated_datetime of requests with status closed (GeoReport v2)")

    def cell(cells: list[str | None], at: int | None) -> str | None:
        value = cells[at] if at is not None and at < len(cells) else None
        return value if value is not None and value.strip() else None

    def convert(number: int, cells: list[str | None], problems: dict[int, tuple[str, str]]) -> list[str | None]:
        times: dict[str, str | None] = {}
        bad: list[str] = []
        for target, at in (("opened_at", position["opened_at"]), ("sla_due_at", position["sla_due_at"]),
                           ("closed_at", updated if closed_from_update else position["closed_at"])):
            text = cell(cells, at)
            if target == "closed_at" and closed_from_update and (cell(cells, status) or "").lower() != "closed":
                text = None
            if text is None:
                times[target] = None
                continue
            instant = parse_time(text, tz)
            if instant is None:
                times[target] = text
                column = header[at] if at is not None else target
                bad.append(f"{column} '{text}' is not a date and time (write e.g. 2022-01-21 13:47:00 or "
                           "2022-01-21T13:47:00-05:00)")
            else:
                times[target] = utc_text(instant)
        if bad and number not in problems:
            problems[number] = ("bad-timestamp", "; ".join(bad))
        own = cell(cells, position["settlement"])
        return [cell(cells, position["request_id"]), own or settlement, times["opened_at"], times["sla_due_at"],
                times["closed_at"], category_of([cell(cells, p) for p in category_positions]),
                cell(cells, position["channel"])]

    def batches() -> Iterator[RowBatch]:
        for batch in inner.batches:
            problems = dict(batch.problems)
            rows = [(number, convert(number, cells, problems)) for number, cells in batch.rows]
            yield RowBatch(rows, problems)

    return Source(inner.path, inner.format, list(HEADER), inner.encoding, batches(), notes)


register(Adapter("open311", TABLE, "Open311 service requests (Boston 311 CSV, GeoReport v2 JSON/CSV); naive times "
                 "in --timezone (default Asia/Almaty)", open_open311))
