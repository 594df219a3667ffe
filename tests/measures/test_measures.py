"""KPI values from raw records against values computed by hand, for every kind of measure."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityscore.measures import BoundMeasure, KpiValue, bind, civil, civil_python, compute
from cityscore.records import SCHEMAS
from cityscore.scoring import ScoringPolicy
from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse

ASTANA, SEMEY, KASKELEN = "710000000", "101010000", "195220100"


@pytest.fixture
def wh(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Warehouse(tmp_path / "wh.duckdb") as warehouse:
        yield warehouse


def run(wh: Warehouse, std: Standard, year: int = 2026, policy: ScoringPolicy | None = None,
        measures: tuple[BoundMeasure, ...] | None = None) -> dict[tuple[str, str, date], KpiValue]:
    values = compute(wh.ibis(), std, load_registry(), policy or ScoringPolicy(), year=year, measures=measures)
    return {(v.settlement, v.kpi, v.period_start): v for v in values}


def insert(wh: Warehouse, table: str, rows: list[tuple[object, ...]]) -> None:
    marks = ", ".join("?" for _ in rows[0])
    names = ", ".join(f'"{c.name}"' for c in SCHEMAS[table].columns[:len(rows[0])])
    wh.con.executemany(f"INSERT INTO raw_{table} (batch_id, row_number, {names}) VALUES (1, 1, {marks})", rows)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def test_share_with_category_thresholds(wh: Warehouse, std: Standard) -> None:
    calls = [  # call_id, settlement, received_at (UTC), answered, answer_seconds, abandoned, phone, channel, weight
        ("a1", ASTANA, utc("2026-01-10 06:00"), True, 25.0, False, None, None, None),  # ≤ 30 s: in time
        ("a2", ASTANA, utc("2026-01-10 06:01"), True, 35.0, False, None, None, None),  # > 30 s
        ("a3", ASTANA, utc("2026-01-10 06:02"), False, None, True, None, None, None),  # abandoned: not in time
        ("s1", SEMEY, utc("2026-01-10 06:00"), True, 40.0, False, None, None, None),   # ≤ 45 s (oblast)
        ("k1", KASKELEN, utc("2026-01-10 06:00"), True, 80.0, False, None, None, None),  # ≤ 90 s lenient, > 60 strict
        ("k2", KASKELEN, utc("2026-01-31 20:00"), True, 10.0, False, None, None, None),  # 1 Feb 01:00 civil time
    ]
    insert(wh, "contact_center_calls", calls)
    values = run(wh, std)
    astana = values[(ASTANA, "1.8", JAN)]
    assert (astana.numerator, astana.denominator, astana.value) == (1, 3, pytest.approx(100 / 3))
    assert astana.period_end == date(2026, 1, 31) and astana.rows_used == 3
    assert values[(SEMEY, "1.8", JAN)].value == 100
    assert values[(KASKELEN, "1.8", JAN)].value == 100
    assert values[(KASKELEN, "1.8", FEB)].value == 100  # the civil month, not the UTC one
    strict = run(wh, std, policy=ScoringPolicy(range_parameter="strict"))
    assert strict[(KASKELEN, "1.8", JAN)].value == 0


def test_shares_means_and_rates_from_service_requests(wh: Warehouse, std: Standard) -> None:
    def request(rid: str, category: str, opened: str, due: str | None, closed: str | None, first: bool | None,
                satisfaction: float | None, weight: float | None = None) -> tuple[object, ...]:
        return (rid, SEMEY, utc(opened), utc(due) if due else None, utc(closed) if closed else None, category, first,
                satisfaction, None, None, None, weight)

    insert(wh, "service_requests", [
        request("r1", "roads", "2026-03-02 04:00", "2026-03-05 04:00", "2026-03-04 04:00", True, 5),   # on time
        request("r2", "roads", "2026-03-02 04:00", "2026-03-05 04:00", "2026-03-06 04:00", False, 2),  # late
        request("r3", "roads", "2026-03-03 04:00", "2026-03-06 04:00", None, None, None),              # open: late
        request("r4", "street_lighting", "2026-03-03 04:00", "2026-03-04 04:00", "2026-03-04 03:00", True, 4),
        request("r5", "waste", "2026-03-03 04:00", None, "2026-03-04 03:00", False, None, 3.0),       # no deadline
    ])
    values = run(wh, std)
    march = date(2026, 3, 1)
    on_time = values[(SEMEY, "1.9", march)]
    assert (on_time.numerator, on_time.denominator) == (2 + 3, 4 + 3)  # r5 (×3) has no deadline: closed = in time
    roads = values[(SEMEY, "1.14", march)]
    assert (roads.numerator, roads.denominator) == (1, 3)
    assert values[(SEMEY, "1.15", march)].value == 100
    waste = values[(SEMEY, "1.18", march)]  # the undated waste request counts (D-45)
    assert (waste.numerator, waste.denominator) == (3, 3)
    satisfaction = values[(SEMEY, "1.10", march)]
    assert (satisfaction.numerator, satisfaction.denominator, satisfaction.value) == (11, 3, pytest.approx(11 / 3))
    first = values[(SEMEY, "2.1", march)]  # weighted: r5 stands for 3 requests
    assert (first.numerator, first.denominator) == (2, 6)
    population = load_registry().get(SEMEY).population  # type: ignore[union-attr]
    rate = values[(SEMEY, "7.5", march)]  # complaints about roads per 1 000 residents
    assert (rate.numerator, rate.denominator) == (3, population)
    assert rate.value == pytest.approx(1000 * 3 / population)  # type: ignore[operator]


def test_emergency_dispatch_share_mean_and_false_alarms(wh: Warehouse, std: Standard) -> None:
    insert(wh, "emergency_dispatches", [
        # id, settlement, service, call_at, dispatched_at, arrived_at, false_alarm, weight
        ("d1", ASTANA, "ambulance", utc("2026-05-01 01:00"), None, utc("2026-05-01 01:05"), False, None),  # 5 ≤ 6
        ("d2", ASTANA, "fire", utc("2026-05-01 02:00"), utc("2026-05-01 02:01"), utc("2026-05-01 02:08"), False,
         None),                                                                                             # 8 > 6
        ("d3", ASTANA, "fire", utc("2026-05-01 03:00"), utc("2026-05-01 03:03"), None, True, None),         # false
        ("d4", ASTANA, "police", utc("2026-05-01 03:00"), None, utc("2026-05-01 03:02"), False, None),      # out
    ])
    values = run(wh, std)
    may = date(2026, 5, 1)
    arrival = values[(ASTANA, "1.11", may)]
    assert (arrival.numerator, arrival.denominator) == (1, 2)
    departure = values[(ASTANA, "10.1", may)]
    assert (departure.numerator, departure.denominator, departure.value) == (4, 2, 2)
    false_alarms = values[(ASTANA, "10.3", may)]
    assert (false_alarms.numerator, false_alarms.denominator) == (1, 2)


def test_sums_with_baselines_and_ratios(wh: Warehouse, std: Standard) -> None:
    insert(wh, "incidents", [
        (ASTANA, date(2025, 4, 3), "fire", 4, True), (ASTANA, date(2025, 4, 9), "serious_crime", 30, None),
        (ASTANA, date(2026, 4, 3), "fire", 2, True), (ASTANA, date(2026, 4, 4), "fire", 5, False),
        (ASTANA, date(2026, 4, 9), "serious_crime", 27, None), (ASTANA, date(2026, 4, 9), "transport_accident", 3,
                                                                 False),
    ])
    insert(wh, "transit_validations", [
        (ASTANA, utc("2026-04-01 03:00"), "r1", "bank_card", 1_000_000),
        (ASTANA, utc("2026-04-02 03:00"), "r1", "cash", 500_000),
    ])
    values = run(wh, std)
    april = date(2026, 4, 1)
    major = values[(ASTANA, "1.12", april)]
    assert (major.value, major.baseline) == (2, 4)
    crimes = values[(ASTANA, "1.13", april)]
    assert (crimes.value, crimes.baseline) == (27, 30)
    assert values[(ASTANA, "4.3", april)].value == 1_500_000
    cashless = values[(ASTANA, "4.5", april)]
    assert (cashless.numerator, cashless.denominator) == (1_000_000, 1_500_000)
    accidents = values[(ASTANA, "4.7", april)]  # per million trips
    assert accidents.value == pytest.approx(3 / 1.5) and accidents.numerator == 3
    assert (ASTANA, "1.12", date(2025, 4, 1)) not in values  # only the year asked for


def test_counts_weighted_means_and_uptime(wh: Warehouse, std: Standard) -> None:
    insert(wh, "payments", [
        # id, settlement, received, credited, automated, disputed, amount, iin, weight
        ("p1", ASTANA, utc("2026-06-01 00:00"), utc("2026-06-01 02:00"), True, False, 100.0, None, 100.0),
        ("p2", ASTANA, utc("2026-06-01 00:00"), utc("2026-06-01 05:00"), False, True, 100.0, None, 300.0),
    ])
    insert(wh, "uptime_checks", [
        (ASTANA, "public_dashboard", utc("2026-06-01 00:00"), True, 3000.0),
        (ASTANA, "public_dashboard", utc("2026-06-01 01:00"), False, 600.0),
        (ASTANA, "other", utc("2026-06-01 02:00"), False, 600.0),
    ])
    values = run(wh, std)
    june = date(2026, 6, 1)
    assert values[(ASTANA, "3.3", june)].value == 400  # Σ weight
    hours = values[(ASTANA, "3.4", june)]
    assert hours.value == pytest.approx((2 * 100 + 5 * 300) / 400)
    assert values[(ASTANA, "3.5", june)].value == pytest.approx(25)
    assert values[(ASTANA, "3.6", june)].value == pytest.approx(75)
    uptime = values[(ASTANA, "1.2", june)]
    assert (uptime.numerator, uptime.denominator) == (3000, 3600)


def test_wait_time_and_schedule_adherence(wh: Warehouse, std: Standard) -> None:
    base = utc("2026-07-01 03:00")
    events = []
    for i, (scheduled, delay) in enumerate(((0, 30), (10, 200), (25, -90), (30, 400))):
        actual = base + timedelta(minutes=scheduled, seconds=delay)
        events.append((f"t{i}", ASTANA, "r1", "s1", base + timedelta(minutes=scheduled), actual))
    insert(wh, "transit_stop_events", events)
    values = run(wh, std)
    july = date(2026, 7, 1)
    adherence = values[(ASTANA, "4.2", july)]  # −60…+300 s: delays 30, 200 on time; −90, 400 not
    assert (adherence.numerator, adherence.denominator) == (2, 4)
    actual = sorted(e[5] for e in events)
    headways = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(actual)]
    wait = values[(ASTANA, "4.1", july)]
    assert wait.value == pytest.approx(sum(h * h for h in headways) / (2 * sum(headways)))
    assert values[(ASTANA, "8.2", july)].value == wait.value


def test_daily_compliance_with_norms(wh: Warehouse, std: Standard) -> None:
    rows = [("st1", ASTANA, "pm25", utc("2026-01-05 00:00") + timedelta(hours=h), 20.0 + 2 * h, "hour")
            for h in range(24)]  # civil 5 Jan 05:00 … 6 Jan 04:00: two civil days
    rows += [("st1", ASTANA, "no2", utc("2026-01-05 12:00"), 30.0, "hour")]
    insert(wh, "air_quality", rows)
    values = run(wh, std)
    compliance = values[(ASTANA, "1.17", JAN)]
    civil_days: dict[date, list[float]] = {}
    for _, _, pollutant, at, value, _ in rows:
        if pollutant == "pm25":
            civil_days.setdefault(civil_python(at).date(), []).append(value)
    within = sum(1 for v in civil_days.values() if sum(v) / len(v) <= 35) + 1  # + the NO₂ day (30 ≤ 40)
    assert (compliance.numerator, compliance.denominator) == (within, len(civil_days) + 1)


def test_median_measure(wh: Warehouse, std: Standard) -> None:
    kpi = std.kpi("10.1")
    assert kpi is not None and kpi.measure is not None
    median = bind(kpi.model_copy(update={"measure": kpi.measure.model_copy(update={"kind": "median"})}))
    assert median is not None
    insert(wh, "emergency_dispatches", [
        (f"d{i}", ASTANA, "fire", utc("2026-08-01 00:00"), utc("2026-08-01 00:00") + timedelta(minutes=m), None,
         False, None) for i, m in enumerate((1, 2, 10))])
    values = run(wh, std, measures=(median,))
    result = values[(ASTANA, "10.1", date(2026, 8, 1))]
    assert (result.value, result.numerator, result.denominator) == (2, None, None)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2031, 1, 1)))
def test_civil_time_matches_the_time_zone_database(instant: datetime) -> None:
    expected = instant.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Almaty")).replace(tzinfo=None)
    assert civil_python(instant) == expected


def test_civil_time_expression_matches_python() -> None:
    con = ibis.duckdb.connect()
    instants = [datetime(2024, 2, 29, 17, 59, 59), datetime(2024, 2, 29, 18, 0), datetime(2023, 12, 31, 18, 30),
                datetime(2026, 12, 31, 19, 0), datetime(2026, 6, 30, 23, 59)]
    table = ibis.memtable({"ts": instants})
    result = con.execute(table.mutate(local=civil(table.ts)))
    assert [x.to_pydatetime() for x in result["local"]] == [civil_python(i) for i in instants]
