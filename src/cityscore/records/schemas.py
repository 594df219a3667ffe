"""Schemas of the raw record tables: what a city's systems export, column by column.

Each schema names its columns, their type, whether they are required, their limits (every numeric column has a
plausible range), the unique id (a repeated id is rejected), which columns are personal data to pseudonymise, what
happens to a phone number or ИИН found in any other text column (``if_personal``: an id is pseudonymised, anything
else rejects the row), and alternative header names seen in exports (Russian and Kazakh headers are matched too).
A table without a record id names its ``scope``: the columns that, with the settlement, tell one stream of records
from another, so that a corrected file replaces the stream it covers instead of adding to it (decisions.md D-43).
Timestamps are stored in UTC: a timestamp with an offset is converted, one
without is read as Kazakhstan civil time (``Asia/Almaty``: UTC+6 before 1 March 2024, UTC+5 from then).

The schemas cover the data behind the KPIs computed from raw records (``cityscore.measures``); KPIs without a raw
schema are ingested as values (the ``observations`` table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "int", "float", "bool", "date", "timestamp"]
WEIGHTED_TABLES = ("contact_center_calls", "service_requests", "emergency_dispatches", "transit_trips", "payments")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    pseudonymise: Literal["phone", "iin"] | None = None
    aliases: tuple[str, ...] = ()
    if_personal: Literal["pseudonymise", "reject"] = "reject"  # a phone or ИИН found in this (text) column


@dataclass(frozen=True)
class Schema:
    table: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: str | None = None  # the unique id of a record, if the source has one
    time: str | None = None  # the column that places a record in time
    checks: tuple[tuple[str, str, str, str], ...] = field(default_factory=tuple)  # (code, column, SQL that is
    # TRUE for a bad row — over the typed columns —, message)
    scope: tuple[str, ...] = ()  # tables without a key: the columns besides the settlement that name a stream
    time_fallback: str | None = None  # where ``time`` is empty (a cancelled arrival), this column places the row

    def time_sql(self, alias: str = "") -> str:
        """SQL for the instant that places a row in time (``time``, else ``time_fallback``), columns quoted."""
        prefix = f"{alias}." if alias else ""
        time = f'{prefix}"{self.time}"'
        return f'coalesce({time}, {prefix}"{self.time_fallback}")' if self.time_fallback else time

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


SETTLEMENT = Column("settlement", "text", True, "KATO code or the name of the settlement (ru, kk or en)",
                    aliases=("kato", "като", "населенный_пункт", "город", "елді_мекен"))
WEIGHT = Column("weight", "float", False, "how many records the row stands for (a sample or a summary row; "
                "default 1)", minimum=0, maximum=1_000_000)


def ident(name: str, description: str, required: bool = True, aliases: tuple[str, ...] = ()) -> Column:
    """An identifier column: a phone number or ИИН used as an id is pseudonymised (the id stays unique)."""
    return Column(name, "text", required, description, aliases=aliases, if_personal="pseudonymise")

INCIDENT_TYPES = ("fire", "road_accident", "transport_accident", "transport_incident", "industrial_accident", "flood",
                  "serious_crime",
                  "especially_serious_crime", "other")
REQUEST_CATEGORIES = ("roads", "street_lighting", "waste", "green_spaces", "electricity", "water", "heating", "gas",
                      "public_transport", "bus_stops", "billing", "housing", "health", "education", "safety", "other")
EMERGENCY_SERVICES = ("fire", "ambulance", "police", "gas", "rescue")
POLLUTANTS = ("pm25", "pm10", "no2", "so2", "co", "o3")
PAYMENT_TYPES = ("cash", "bank_card", "transport_card", "qr", "mobile", "other")

SCHEMAS: dict[str, Schema] = {s.table: s for s in (
    Schema(
        "contact_center_calls", "Contact-centre calls (ЕКЦ 109)",
        "One row per call to the unified contact centre: when it arrived, whether and how fast it was answered.",
        (
            ident("call_id", "id of the call in the telephony system", aliases=("id", "id_звонка")),
            SETTLEMENT,
            Column("received_at", "timestamp", True, "when the call arrived", aliases=("call_time", "время_звонка")),
            Column("answered", "bool", True, "answered by an operator"),
            Column("answer_seconds", "float", False, "seconds from arrival to answer", minimum=0, maximum=86400,
                   aliases=("wait_seconds", "время_ожидания_сек")),
            Column("abandoned", "bool", False, "the caller hung up before an answer"),
            Column("caller_phone", "text", False, "caller's number (pseudonymised)", pseudonymise="phone",
                   aliases=("phone", "телефон")),
            Column("channel", "text", False, "voice, chat, messenger …"),
            WEIGHT,
        ),
        key="call_id", time="received_at",
        checks=(("answer-without-answer", "answer_seconds", "answered = false AND answer_seconds IS NOT NULL "
                 "AND answer_seconds > 0", "a call that was not answered has no answer time"),
                ("answered-without-time", "answer_seconds", "answered = true AND answer_seconds IS NULL",
                 "an answered call needs answer_seconds")),
    ),
    Schema(
        "service_requests", "Service requests and appeals",
        "One row per request or appeal (ЕКЦ 109, the e-appeals platform): opened, due, closed, category, outcome.",
        (
            ident("request_id", "id of the request", aliases=("id", "case_id", "номер_заявки")),
            SETTLEMENT,
            Column("opened_at", "timestamp", True, "when the request was registered",
                   aliases=("open_dt", "дата_регистрации")),
            Column("sla_due_at", "timestamp", False, "deadline under the service standard",
                   aliases=("target_dt", "due_at", "срок_исполнения")),
            Column("closed_at", "timestamp", False, "when it was resolved and closed",
                   aliases=("closed_dt", "дата_закрытия")),
            Column("category", "text", True, "what the request is about", choices=REQUEST_CATEGORIES),
            Column("resolved_first_contact", "bool", False, "resolved during the first contact"),
            Column("satisfaction", "float", False, "the applicant's rating after closure, 1–5", minimum=1,
                   maximum=5),
            Column("applicant_iin", "text", False, "ИИН of the applicant (pseudonymised)", pseudonymise="iin",
                   aliases=("iin", "иин")),
            Column("applicant_phone", "text", False, "phone of the applicant (pseudonymised)", pseudonymise="phone"),
            Column("channel", "text", False, "phone, app, web, messenger …"),
            WEIGHT,
        ),
        key="request_id", time="opened_at",
        checks=(("closed-before-opened", "closed_at", "closed_at < opened_at", "closed before it was opened"),
                ("due-before-opened", "sla_due_at", "sla_due_at < opened_at", "due before it was opened")),
    ),
    Schema(
        "emergency_dispatches", "Emergency dispatches",
        "One row per dispatch of fire, ambulance or police crews: call, departure and arrival times.",
        (
            ident("dispatch_id", "id of the dispatch", aliases=("id",)),
            SETTLEMENT,
            Column("service", "text", True, "which service", choices=EMERGENCY_SERVICES),
            Column("call_at", "timestamp", True, "when the call was received"),
            Column("dispatched_at", "timestamp", False, "when the crew left"),
            Column("arrived_at", "timestamp", False, "when the crew arrived"),
            Column("false_alarm", "bool", False, "the call was a false alarm"),
            WEIGHT,
        ),
        key="dispatch_id", time="call_at",
        checks=(("arrived-before-call", "arrived_at", "arrived_at < call_at", "arrived before the call was received"),
                ("left-before-call", "dispatched_at", "dispatched_at < call_at", "left before the call was received")),
    ),
    Schema(
        "incidents", "Incidents and crimes (daily counts)",
        "Counts of incidents and registered crimes per settlement, day and type.",
        (
            SETTLEMENT,
            Column("date", "date", True, "the civil date"),
            Column("type", "text", True, "kind of incident", choices=INCIDENT_TYPES),
            Column("count", "int", True, "how many", minimum=0, maximum=100_000),
            Column("major", "bool", False, "major incident (большой ущерб или жертвы)"),
        ),
        time="date", scope=("type",),
    ),
    Schema(
        "air_quality", "Air-quality measurements",
        "One row per station, pollutant and measurement (hourly or daily mean), in µg/m³.",
        (
            ident("station_id", "the monitoring station"),
            SETTLEMENT,
            Column("pollutant", "text", True, "what was measured", choices=POLLUTANTS),
            Column("measured_at", "timestamp", True, "start of the averaging period"),
            Column("value", "float", True, "concentration, µg/m³", minimum=0, maximum=100_000,
                   aliases=("value_ugm3",)),
            Column("averaging", "text", False, "hour or day (default hour)", choices=("hour", "day")),
        ),
        time="measured_at", scope=("station_id", "pollutant"),
    ),
    Schema(
        "transit_stop_events", "Public transport stop events",
        "One row per timetabled or observed vehicle arrival at a stop: scheduled and actual time (AVL / "
        "GTFS-realtime). A timetabled arrival of a cancelled trip is a row with `cancelled` true, its "
        "`scheduled_at` and no `actual_at`.",
        (
            ident("trip_id", "the scheduled trip"),
            SETTLEMENT,
            ident("route_id", "the route"),
            ident("stop_id", "the stop"),
            Column("scheduled_at", "timestamp", False, "timetabled arrival"),
            Column("actual_at", "timestamp", False, "observed arrival (required unless the trip was cancelled)"),
            Column("cancelled", "bool", False, "the trip was cancelled: the arrival did not take place"),
        ),
        time="actual_at", scope=("route_id",), time_fallback="scheduled_at",
        checks=(("missing-actual", "actual_at", "actual_at IS NULL AND NOT coalesce(cancelled, false)",
                 "no actual arrival time, and the trip is not marked cancelled"),
                ("cancelled-unscheduled", "scheduled_at", "coalesce(cancelled, false) AND scheduled_at IS NULL",
                 "a cancelled arrival needs its timetabled time (scheduled_at)")),
    ),
    Schema(
        "transit_trips", "Public transport journeys",
        "One row per passenger journey with boarding and alighting times (from fare validations or surveys).",
        (
            ident("journey_id", "id of the journey"),
            SETTLEMENT,
            Column("started_at", "timestamp", True, "boarding"),
            Column("ended_at", "timestamp", True, "alighting"),
            WEIGHT,
        ),
        key="journey_id", time="started_at",
        checks=(("ended-before-started", "ended_at", "ended_at < started_at", "the journey ends before it starts"),),
    ),
    Schema(
        "transit_validations", "Fare validations",
        "Validations (boardings) per route and period with the payment type; one row may count several.",
        (
            SETTLEMENT,
            Column("validated_at", "timestamp", True, "time (or start of the hour) of the validations"),
            ident("route_id", "the route", required=False),
            Column("payment_type", "text", True, "how the fare was paid", choices=PAYMENT_TYPES),
            Column("validations", "int", False, "number of validations (default 1)", minimum=1,
                   maximum=10_000_000),
        ),
        time="validated_at", scope=("payment_type",),
    ),
    Schema(
        "payments", "Payments of the unified settlement centre (ЕРЦ)",
        "One row per utility payment: received, credited, whether processed automatically, whether disputed.",
        (
            ident("payment_id", "id of the payment", aliases=("id",)),
            SETTLEMENT,
            Column("received_at", "timestamp", True, "when the payment was received"),
            Column("credited_at", "timestamp", False, "when it was credited to the supplier"),
            Column("automated", "bool", False, "processed without manual steps"),
            Column("disputed", "bool", False, "the charge was disputed as erroneous"),
            Column("amount_kzt", "float", False, "amount, tenge", minimum=0, maximum=1e12),
            Column("payer_iin", "text", False, "ИИН of the payer (pseudonymised)", pseudonymise="iin"),
            WEIGHT,
        ),
        key="payment_id", time="received_at",
        checks=(("credited-before-received", "credited_at", "credited_at < received_at",
                 "credited before it was received"),),
    ),
    Schema(
        "uptime_checks", "Availability checks",
        "One row per availability probe of a public service (the public dashboard of the situational centre).",
        (
            SETTLEMENT,
            Column("service", "text", True, "what was probed, e.g. public_dashboard"),
            Column("checked_at", "timestamp", True, "when"),
            Column("up", "bool", True, "available"),
            Column("interval_seconds", "float", True, "the period the probe stands for", minimum=0,
                   maximum=31 * 86400),
        ),
        time="checked_at", scope=("service",),
    ),
)}


def table_columns() -> dict[str, dict[str, str]]:
    """Every raw record table's columns and their types (what the catalog's measures may use)."""
    return {schema.table: {c.name: c.type for c in schema.columns} for schema in SCHEMAS.values()}
