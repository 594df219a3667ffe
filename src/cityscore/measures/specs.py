"""Declarative measures: how each KPI that raw records can give is computed from them.

A measure names its KPI, its raw table, its kind, the column that places a record in time and — as small functions
of the (Ibis) table and the settlement parameters — the rows in scope, the condition counted, or the quantity
aggregated. Kinds (all per settlement × civil month, keeping numerator and denominator so scores can pool them):

- ``share`` — numerator = rows in scope meeting the condition (or their ``weight``), denominator = rows in scope;
- ``mean`` — numerator = Σ value, denominator = number of values;
- ``median`` — the median value (no numerator/denominator: medians do not pool);
- ``sum`` — Σ value (or Σ of a count column); ``count`` — number of rows in scope;
- ``rate_per_1000`` — numerator = rows in scope, denominator = residents (the KPI's unit scales it per 1 000);
- ``uptime`` — Σ seconds up / Σ seconds probed;
- ``wait_time`` — the expected wait of a passenger arriving at random, Σ h² / (2 Σ h) over the headways h between
  consecutive arrivals at a stop on a route within a civil day (headways over 2 hours are service gaps, not waits);
- ``daily_compliance`` — share of station × pollutant × civil-day means within the daily norm;
- ``ratio`` — Σ of one measure over Σ of another (events per 1 000 or per million of another table's rows).

``baseline=True`` also computes the same month of the previous year, for KPIs judged as a change. In tables with a
``weight`` column (a sampled or summarised row stands for ``weight`` records) counts are Σ weight and means and
shares are weighted; ``rows_used`` counts the rows themselves.
Category-dependent numbers come from the catalog: the answer time of 1.8 (30 / 45 / 60–90 s) and the arrival time
of 1.11 (6 / 7–10 / 10–15 min), a range resolved by the policy's ``range_parameter`` (D-08).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

MeasureKind = Literal["share", "mean", "median", "sum", "count", "rate_per_1000", "uptime", "wait_time",
                      "daily_compliance", "ratio"]
Expr = Callable[[Any], Any]  # (joined table) → Ibis expression

ON_TIME_EARLY_SECONDS = 60  # 4.2: a stop event is on time from 1 minute early …
ON_TIME_LATE_SECONDS = 300  # … to 5 minutes late (decisions.md D-33)
MAX_HEADWAY_MINUTES = 120
COMPLAINT_KPIS = {"7.5": "roads", "11.5": "green_spaces", "12.3": "waste", "13.4": "electricity", "14.4": "water",
                  "16.4": "gas"}


@dataclass(frozen=True)
class Measure:
    kpi: str
    table: str
    kind: MeasureKind
    time: str
    description: str
    scope: Expr | None = None
    condition: Expr | None = None
    value: Expr | None = None
    weight: Expr | None = None
    baseline: bool = False
    parts: tuple[str, str] = ("", "")  # ratio: (numerator measure, denominator measure) ids
    params: bool = False  # uses the settlement parameters (p_… columns: thresholds, residents)

    @property
    def id(self) -> str:
        return self.kpi


def _seconds(later: Any, earlier: Any) -> Any:
    return later.epoch_seconds() - earlier.epoch_seconds()


def _minutes(later: Any, earlier: Any) -> Any:
    return _seconds(later, earlier) / 60.0


def _on_time(t: Any, category: str | None = None) -> Any:
    in_scope = t.sla_due_at.notnull()
    return in_scope if category is None else in_scope & (t.category == category)


def _category_is(category: str) -> Expr:
    def scope(t: Any) -> Any:
        return t.category == category

    return scope


def _closed_in_time(t: Any) -> Any:
    return t.closed_at.notnull() & (t.closed_at <= t.sla_due_at)


MEASURES: tuple[Measure, ...] = (
    Measure("1.8", "contact_center_calls", "share", "received_at",
            "calls answered within the category's time (30 / 45 / 60–90 s) among all calls received",
            condition=lambda t: t.answered & (t.answer_seconds <= t.p_answer_within_seconds), params=True),
    Measure("1.9", "service_requests", "share", "opened_at",
            "requests closed by their deadline among requests with a deadline (open and overdue = late)",
            scope=_on_time, condition=_closed_in_time),
    Measure("1.10", "service_requests", "mean", "opened_at", "mean satisfaction rating (1–5) of rated requests",
            scope=lambda t: t.satisfaction.notnull(), value=lambda t: t.satisfaction),
    Measure("1.14", "service_requests", "share", "opened_at", "road and pothole repairs closed by their deadline",
            scope=lambda t: _on_time(t, "roads"), condition=_closed_in_time),
    Measure("1.15", "service_requests", "share", "opened_at", "street-lighting repairs closed by their deadline",
            scope=lambda t: _on_time(t, "street_lighting"),
            condition=_closed_in_time),
    Measure("1.18", "service_requests", "share", "opened_at", "refuse and sanitation requests closed by their deadline",
            scope=lambda t: _on_time(t, "waste"), condition=_closed_in_time),
    Measure("2.1", "service_requests", "share", "opened_at", "requests resolved at the first contact",
            scope=lambda t: t.resolved_first_contact.notnull(), condition=lambda t: t.resolved_first_contact),
    *(Measure(kpi, "service_requests", "rate_per_1000", "opened_at", f"complaints about {category} per 1 000 residents",
              scope=_category_is(category), params=True) for kpi, category in COMPLAINT_KPIS.items()),
    Measure("1.11", "emergency_dispatches", "share", "call_at",
            "fire and ambulance calls reached within the category's time (6 / 7–10 / 10–15 min), false alarms aside",
            scope=lambda t: t.service.isin(["fire", "ambulance"]) & ~t.false_alarm.fill_null(False),
            condition=lambda t: t.arrived_at.notnull()
            & (_minutes(t.arrived_at, t.call_at) <= t.p_arrival_within_minutes), params=True),
    Measure("10.1", "emergency_dispatches", "mean", "call_at", "minutes from a fire call to the crew's departure",
            scope=lambda t: (t.service == "fire") & t.dispatched_at.notnull(),
            value=lambda t: _minutes(t.dispatched_at, t.call_at)),
    Measure("10.3", "emergency_dispatches", "share", "call_at", "false alarms among fire calls",
            scope=lambda t: t.service == "fire", condition=lambda t: t.false_alarm.fill_null(False)),
    Measure("1.12", "incidents", "sum", "date", "major incidents (fires, accidents, floods) in the month",
            scope=lambda t: t.major.fill_null(False) & t.type.isin(
                ["fire", "road_accident", "transport_accident", "industrial_accident", "flood"]),
            value=lambda t: t["count"], baseline=True),
    Measure("1.13", "incidents", "sum", "date", "serious and especially serious crimes registered in the month",
            scope=lambda t: t.type.isin(["serious_crime", "especially_serious_crime"]), value=lambda t: t["count"],
            baseline=True),
    Measure("1.17", "air_quality", "daily_compliance", "measured_at",
            "station-day means of each pollutant within the daily norm (ПДК с.с.)"),
    Measure("4.1", "transit_stop_events", "wait_time", "actual_at",
            "expected wait at a stop from the actual headways, Σh²/(2Σh)"),
    Measure("8.2", "transit_stop_events", "wait_time", "actual_at", "the same as 4.1, at the stops of the city"),
    Measure("4.2", "transit_stop_events", "share", "actual_at",
            "arrivals from 1 minute early to 5 minutes late among timetabled arrivals",
            scope=lambda t: t.scheduled_at.notnull(),
            condition=lambda t: _seconds(t.actual_at, t.scheduled_at).between(-ON_TIME_EARLY_SECONDS,
                                                                               ON_TIME_LATE_SECONDS)),
    Measure("1.16", "transit_trips", "mean", "started_at", "minutes per public transport journey",
            value=lambda t: _minutes(t.ended_at, t.started_at), baseline=True),
    Measure("4.3", "transit_validations", "sum", "validated_at", "passengers (validations) in the month",
            value=lambda t: t.validations.fill_null(1)),
    Measure("4.5", "transit_validations", "share", "validated_at", "validations paid without cash",
            condition=lambda t: t.payment_type != "cash", weight=lambda t: t.validations.fill_null(1)),
    Measure("3.3", "payments", "count", "received_at", "payments received in the month"),
    Measure("3.4", "payments", "mean", "received_at", "hours from receipt to crediting",
            scope=lambda t: t.credited_at.notnull(), value=lambda t: _seconds(t.credited_at, t.received_at) / 3600.0),
    Measure("3.5", "payments", "share", "received_at", "payments processed automatically",
            scope=lambda t: t.automated.notnull(), condition=lambda t: t.automated),
    Measure("3.6", "payments", "share", "received_at", "payments disputed as erroneous charges",
            condition=lambda t: t.disputed.fill_null(False)),
    Measure("1.2", "uptime_checks", "uptime", "checked_at", "share of the month the public dashboard was up",
            scope=lambda t: t.service == "public_dashboard"),
    Measure("_transport_accidents", "incidents", "sum", "date", "transport accidents",
            scope=lambda t: t.type == "transport_accident", value=lambda t: t["count"]),
    Measure("_stop_complaints", "service_requests", "count", "opened_at", "complaints about bus stops",
            scope=lambda t: t.category == "bus_stops"),
    Measure("4.7", "transit_validations", "ratio", "validated_at", "transport accidents per million trips",
            parts=("_transport_accidents", "4.3")),
    Measure("8.5", "transit_validations", "ratio", "validated_at", "complaints about stops per 1 000 passengers",
            parts=("_stop_complaints", "4.3")),
)
