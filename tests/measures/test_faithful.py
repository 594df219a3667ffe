"""The measures read as Appendix 4 writes them: hand-computed fixtures for each rule of decisions D-45 … D-48."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityscore.measures import compute
from cityscore.measures.civil import day_end_utc
from cityscore.pipeline import compute_kpis, scoring_input
from cityscore.records import SCHEMAS
from cityscore.scoring import ScoringPolicy
from cityscore.scoring.annual import Observation, annual_value
from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse

ASTANA = "710000000"


@pytest.fixture
def wh(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Warehouse(tmp_path / "wh.duckdb") as warehouse:
        yield warehouse


def insert(wh: Warehouse, table: str, rows: list[dict[str, object]]) -> None:
    names = [c.name for c in SCHEMAS[table].columns]
    for number, row in enumerate(rows, 1):
        unknown = set(row) - set(names)
        assert not unknown, unknown
        values = [row.get(n) for n in names]
        wh.con.execute(f"INSERT INTO raw_{table} (batch_id, row_number, {', '.join(names)}) VALUES "
                       f"(1, {number}, {', '.join('?' for _ in names)})", values)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def values_of(wh: Warehouse, std: Standard, year: int = 2026, **kwargs: object) -> dict[tuple[str, date], object]:
    out = compute(wh.ibis(), std, load_registry(), ScoringPolicy(), year=year, **kwargs)  # type: ignore[arg-type]
    return {(v.kpi, v.period_start): v for v in out}


def request(rid: str, opened: str, due: str | None, closed: str | None, category: str = "roads") -> dict[str, object]:
    return {"request_id": rid, "settlement": ASTANA, "opened_at": at(opened), "sla_due_at": at(due) if due else None,
            "closed_at": at(closed) if closed else None, "category": category}


def test_an_open_request_before_its_deadline_is_not_yet_late(wh: Warehouse, std: Standard) -> None:
    insert(wh, "service_requests", [
        request("on-time", "2026-12-01 04:00", "2026-12-03 04:00", "2026-12-02 04:00"),
        request("late-open", "2026-12-01 04:00", "2026-12-05 04:00", None),  # deadline passed by 31 Dec: late
        request("not-yet", "2026-12-28 04:00", "2027-01-03 04:00", None),  # deadline after the year: not yet late
        request("undated-open", "2026-12-10 04:00", None, None),  # no deadline, still open: counts, not in time
        request("undated-closed", "2026-12-10 04:00", None, "2026-12-11 04:00"),  # no deadline, closed: in time
    ])
    december = date(2026, 12, 1)
    year_end = values_of(wh, std)
    for kpi in ("1.9", "1.14"):
        value = year_end[(kpi, december)]
        assert (value.numerator, value.denominator) == (2, 4), kpi  # type: ignore[attr-defined]
    # judged at the end of 4 December (the running period): late-open's deadline has not passed yet, so it leaves;
    # on-time counts in time; the two undated requests count, not in time (the closed one closed after 4 December)
    early = values_of(wh, std, as_of=day_end_utc(date(2026, 12, 4)))[("1.9", december)]
    assert (early.numerator, early.denominator) == (1, 3)  # type: ignore[attr-defined]


def test_a_cancelled_trip_is_a_timetabled_arrival_not_served(wh: Warehouse, std: Standard) -> None:
    def event(trip: str, scheduled: str | None, actual: str | None, cancelled: bool | None = None) -> dict[str, object]:
        return {"trip_id": trip, "settlement": ASTANA, "route_id": "10", "stop_id": "A",
                "scheduled_at": at(scheduled) if scheduled else None, "actual_at": at(actual) if actual else None,
                "cancelled": cancelled}

    insert(wh, "transit_stop_events", [
        event("t1", "2026-05-10 03:00", "2026-05-10 03:02"),  # 2 min late: on time
        event("t2", "2026-05-10 03:20", "2026-05-10 03:31"),  # 11 min late
        event("t3", "2026-05-10 03:40", None, cancelled=True),  # cancelled: in the denominator, not on time
        event("t4", None, "2026-05-10 03:50"),  # not timetabled: outside 4.2
    ])
    value = values_of(wh, std)[("4.2", date(2026, 5, 1))]
    assert (value.numerator, value.denominator) == (1, 3)  # type: ignore[attr-defined]


def test_accidents_and_incidents_per_million_trips(wh: Warehouse, std: Standard) -> None:
    insert(wh, "incidents", [
        {"settlement": ASTANA, "date": date(2026, 6, 3), "type": "transport_accident", "count": 2},
        {"settlement": ASTANA, "date": date(2026, 6, 9), "type": "transport_incident", "count": 1},
        {"settlement": ASTANA, "date": date(2026, 6, 9), "type": "road_accident", "count": 50},  # not transit
    ])
    insert(wh, "transit_validations", [
        {"settlement": ASTANA, "validated_at": at("2026-06-10 03:00"), "route_id": "1", "payment_type": "card",
         "validations": 1_500_000},
        {"settlement": ASTANA, "validated_at": at("2026-06-11 03:00"), "route_id": "1", "payment_type": "cash",
         "validations": 500_000},
    ])
    values = values_of(wh, std)
    value = values[("4.7", date(2026, 6, 1))]
    assert (value.numerator, value.denominator, value.value) == (3, 2_000_000, 1.5)  # type: ignore[attr-defined]
    # the rows used are rows, not the validations they count: 2 incident rows in scope and 2 validation rows
    assert value.rows_used == 4  # type: ignore[attr-defined]
    assert values[("4.5", date(2026, 6, 1))].rows_used == 2  # type: ignore[attr-defined]
    assert values[("4.3", date(2026, 6, 1))].rows_used == 2  # type: ignore[attr-defined]


def trips(year: int, month: int, minutes: float, n: int) -> list[dict[str, object]]:
    start = datetime(year, month, 10, 3, 0)
    return [{"journey_id": f"{year}-{month}-{minutes}-{i}", "settlement": ASTANA, "started_at": start,
             "ended_at": start + timedelta(minutes=minutes)} for i in range(n)]


def test_unchanged_months_give_no_change_whatever_their_mix(wh: Warehouse, std: Standard) -> None:
    # January journeys take 30 min, February ones 60, in both years; only the number of journeys per month differs
    insert(wh, "transit_trips", trips(2025, 1, 30, 1) + trips(2025, 2, 60, 3) + trips(2026, 1, 30, 3)
           + trips(2026, 2, 60, 1))
    compute_kpis(wh, std, load_registry(), ScoringPolicy(), year=2026)
    kpi = std.kpi("1.16")
    assert kpi is not None
    annual = annual_value(kpi, 2026, [o for o in scoring_input(wh, [2026]) if o.kpi == "1.16"])
    assert annual is not None
    assert annual.value == pytest.approx((3 * 30 + 60) / 4)
    assert annual.baseline == pytest.approx(annual.value)  # the same counts: 0 % change
    monthly = {v.period_start: v for v in scoring_input(wh, [2026]) if v.kpi == "1.16"}
    assert monthly[date(2026, 2, 1)].baseline == 60  # each month's own baseline


def test_a_month_without_a_baseline_drops_that_month_not_the_year(std: Standard) -> None:
    kpi = std.kpi("1.13")
    assert kpi is not None

    def month(m: int, value: float, baseline: float | None) -> Observation:
        start = date(2026, m, 1)
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return Observation(ASTANA, "1.13", start, end, value=value, baseline=baseline)

    annual = annual_value(kpi, 2026, [month(1, 10, 12), month(2, 8, None), month(3, 9, 10)])
    assert annual is not None
    assert (annual.value, annual.baseline, annual.observations) == (19, 22, 2)  # February left out of both
    assert "1 period(s) without a baseline left out" in annual.method


def test_a_whole_year_of_a_monthly_count_is_divided_by_twelve(std: Standard) -> None:
    kpi = next(k for k in std.kpis if k.unit == "count_per_month" and k.measure is None)
    year = Observation(ASTANA, kpi.id, date(2026, 1, 1), date(2026, 12, 31), value=1200)
    annual = annual_value(kpi, 2026, [year])
    assert annual is not None and annual.value == 100  # not 1200 / (365 / 30.4375)
    quarter = Observation(ASTANA, kpi.id, date(2026, 1, 1), date(2026, 3, 31), value=300)
    assert annual_value(kpi, 2026, [quarter]).value == 100  # type: ignore[union-attr]


def test_the_day_grain_computes_29_february(wh: Warehouse, std: Standard) -> None:
    leap = {"journey_id": "leap", "settlement": ASTANA, "started_at": at("2028-02-29 05:00"),
            "ended_at": at("2028-02-29 05:40")}
    insert(wh, "transit_trips", [*trips(2028, 2, 30, 1), leap])
    insert(wh, "incidents", [{"settlement": ASTANA, "date": date(2027, 2, 28), "type": "serious_crime", "count": 4},
                             {"settlement": ASTANA, "date": date(2028, 2, 29), "type": "serious_crime", "count": 3}])
    values = values_of(wh, std, year=2028, grain="day")
    crimes = values[("1.13", date(2028, 2, 29))]
    assert (crimes.value, crimes.baseline) == (3, 4)  # type: ignore[attr-defined]  # 29 Feb against 28 Feb 2027
    assert values[("1.16", date(2028, 2, 29))].value == 40  # type: ignore[attr-defined]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(min_value=date(2023, 1, 1), max_value=date(2029, 12, 31)), grain=st.sampled_from(["day",
                                                                                                       "month"]),
       minute=st.integers(min_value=0, max_value=24 * 60 - 1))
def test_every_civil_day_and_grain_places_a_record_in_its_period(tmp_path_factory: pytest.TempPathFactory,
                                                                  std: Standard, day: date, grain: str,
                                                                  minute: int) -> None:
    from cityscore.measures.civil import civil_to_utc

    local = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
    with Warehouse(tmp_path_factory.mktemp("dates") / "wh.duckdb") as wh:
        insert(wh, "transit_trips", [{"journey_id": "j", "settlement": ASTANA, "started_at": civil_to_utc(local),
                                      "ended_at": civil_to_utc(local) + timedelta(minutes=25)}])
        insert(wh, "incidents", [{"settlement": ASTANA, "date": day, "type": "serious_crime", "count": 2}])
        values = values_of(wh, std, year=day.year, grain=grain)
    period = day if grain == "day" else day.replace(day=1)
    assert values[("1.16", period)].value == pytest.approx(25)  # type: ignore[attr-defined]
    assert values[("1.13", period)].value == 2  # type: ignore[attr-defined]
    assert {p for (_, p) in values} == {period}
