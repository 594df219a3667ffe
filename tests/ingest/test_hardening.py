"""Ingestion that cannot be fooled: non-finite and implausible values, personal data anywhere, corrections, the
pseudonym key, odd CSV files. Each test is one of the defects found when ingestion was tried as an attacker would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cityscore.ingest.loader import ingest_file
from cityscore.ingest.pseudonym import Pseudonymiser, PseudonymKeyError
from cityscore.ingest.tabular import InputFileError
from cityscore.records.personal import iin_is_valid, mask, personal_kind
from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse
from cityscore.store.changes import kpi_values_staleness

from ..conftest import Cli
from .conftest import KEY, load

HEAD = "call_id;settlement;received_at;answered;answer_seconds;abandoned;caller_phone;channel;weight\n"
IIN = next(f"9001013{n:04d}{c}" for n in range(1000) for c in range(10) if iin_is_valid(f"9001013{n:04d}{c}"))


def codes(report) -> list[tuple[int, str | None, str]]:  # type: ignore[no-untyped-def]
    return [(e.row, e.column, e.code) for e in report.errors]


def test_non_finite_and_implausible_values_are_rejected(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    rows = [
        "c1;750000000;2026-01-05 10:00:00;да;12;нет;;voice;inf",          # 2 inf weight
        "c2;750000000;2026-01-05 10:00:00;да;NaN;нет;;voice;1",           # 3 NaN
        "c3;750000000;2026-01-05 10:00:00;да;1e308;нет;;voice;1",         # 4 beyond the range
        "c4;750000000;infinity;да;1;нет;;voice;1",                        # 5 infinity
        "c5;750000000;epoch;да;1;нет;;voice;1",                           # 6 epoch
        "c6;750000000;294247-01-01 00:00:00;да;1;нет;;voice;1",           # 7 year 294247
        "c7;750000000;2026-01-05 10:00:00+25:00;да;1;нет;;voice;1",       # 8 offset +25:00
        "c8;750000000;1999-12-31 23:00:00;да;1;нет;;voice;1",             # 9 before the window
        "c9;750000000;2026-01-05 10:00:00+05:00;да;1;нет;;voice;1e-3",    # 10 good
    ]
    path = tmp_path / "calls.csv"
    path.write_text(HEAD + "\n".join(rows) + "\n", "utf-8")
    report = load(wh, std, path)
    assert codes(report) == [
        (2, "weight", "not-a-number"), (3, "answer_seconds", "not-a-number"), (4, "answer_seconds", "too-large"),
        (5, "received_at", "not-a-timestamp"), (6, "received_at", "not-a-timestamp"),
        (7, "received_at", "implausible-time"), (8, "received_at", "bad-offset"),
        (9, "received_at", "implausible-time")]
    assert (report.rows, report.accepted) == (9, 1)
    assert wh.rows("SELECT call_id, weight FROM raw_contact_center_calls") == [("c9", 0.001)]
    # the quarantine keeps each rejected row as the file has it (not its typed values)
    raw = json.loads(wh.scalar("SELECT raw FROM quarantine WHERE row_number = 2"))
    assert raw == {"call_id": "c1", "settlement": "750000000", "received_at": "2026-01-05 10:00:00", "answered": "да",
                   "answer_seconds": "12", "abandoned": "нет", "channel": "voice", "weight": "inf"}


def test_integers_that_are_not_integers_are_reports_not_tracebacks(wh: Warehouse, std: Standard,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "incidents.csv"
    path.write_text("settlement,date,type,count\n750000000,2026-01-05,fire,NaN\n750000000,2026-01-05,fire,1e19\n"
                    "750000000,2026-01-06,fire,2\n", "utf-8")
    report = load(wh, std, path)
    assert codes(report) == [(2, "count", "not-an-integer"), (3, "count", "not-an-integer")]
    assert report.accepted == 1


def test_personal_data_anywhere_is_pseudonymised_or_rejected_and_never_stored(std: Standard, tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    rows = [
        f"{IIN};750000000;2026-01-05 10:00:00;да;12;нет;;voice;1",                     # 2 ИИН as the id: pseudonymised
        "c2;750000000;2026-01-05 10:00:00;да;12;нет;;+7 701 765 43 21;1",              # 3 phone in channel: rejected
        "c3;750000000;2026-01-05 10:00:00;да;12;нет;+7 (702) 111-22-33;voice;1",       # 4 designated: pseudonymised
        "c4;Атлантида 87057654321;2026-01-05 10:00:00;да;12;нет;;voice;1",             # 5 phone in a bad settlement
        f"c5;750000000;2026-01-05 10:00:00;{IIN};12;нет;;voice;1",                     # 6 ИИН in a boolean
    ]
    path = tmp_path / "calls.csv"
    path.write_text(HEAD + "\n".join(rows) + "\n", "utf-8")
    report = ingest_file(db, path, std=std, registry=load_registry(), pseudonymiser=KEY)
    assert codes(report) == [(3, "channel", "personal-data"), (5, "settlement", "unknown-settlement"),
                             (6, "answered", "not-a-boolean")]
    for error in report.errors:
        assert "7657654321" not in error.message.replace(" ", "") and IIN not in error.message
        assert "87057654321" not in error.message
    with Warehouse(db, read_only=True) as wh:
        ids = [r[0] for r in wh.rows("SELECT call_id FROM raw_contact_center_calls ORDER BY row_number")]
        assert ids[0].startswith("c_") and ids[1] == "c3"
        raw = json.dumps(wh.rows("SELECT * FROM quarantine"), default=str, ensure_ascii=False)
        assert IIN not in raw and "765 43 21" not in raw and "87057654321" not in raw
    data = db.read_bytes()
    for secret in (IIN, "7657654321", "765 43 21", "87057654321", "111-22-33"):
        assert secret.encode() not in data and secret.encode("utf-16-le") not in data


def test_masking_and_detection() -> None:
    assert personal_kind(f"id {IIN}") == "iin" and personal_kind("8 (701) 123-45-67") == "phone"
    assert personal_kind("750000000") is None and personal_kind("2026-01-05 10:00:00") is None
    assert personal_kind("123456789012") is None or iin_is_valid("123456789012")
    assert mask(f"call from +7 701 123 45 67 about {IIN}") == "call from [phone number] about [ИИН]"
    assert mask("87011234567,87011234568") == "[phone number],[phone number]"


def test_another_pseudonym_key_is_refused(std: Standard, tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    first = tmp_path / "a.csv"
    first.write_text(HEAD + "c1;750000000;2026-01-05 10:00:00;да;12;нет;;voice;1\n", "utf-8")
    ingest_file(db, first, std=std, registry=load_registry(), pseudonymiser=KEY)
    second = tmp_path / "b.csv"
    second.write_text(HEAD + "c2;750000000;2026-01-05 10:00:00;да;12;нет;;voice;1\n", "utf-8")
    with pytest.raises(PseudonymKeyError, match="another pseudonymisation key"):
        ingest_file(db, second, std=std, registry=load_registry(), pseudonymiser=Pseudonymiser(b"z" * 32))
    with Warehouse(db, read_only=True) as wh:
        assert wh.count("raw_contact_center_calls") == 1


INCIDENTS = "settlement,date,type,count\n" + "".join(f"750000000,2026-03-{d:02d},fire,2\n" for d in range(1, 32))


def test_a_corrected_file_replaces_instead_of_adding(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    first = tmp_path / "march.csv"
    first.write_text(INCIDENTS + "750000000,2026-03-05,road_accident,7\n", "utf-8")
    load(wh, std, first)
    fixed = tmp_path / "march-fixed.csv"
    fixed.write_text(INCIDENTS.replace("2026-03-10,fire,2", "2026-03-10,fire,3"), "utf-8")
    report = load(wh, std, fixed)
    assert wh.scalar("SELECT sum(count) FROM raw_incidents WHERE type = 'fire'") == 63  # not 125
    assert wh.scalar("SELECT sum(count) FROM raw_incidents WHERE type = 'road_accident'") == 7  # another stream
    assert report.replaced == [{"batch_id": 1, "settlement": "750000000", "first": "2026-03-01",
                                "last": "2026-03-31", "rows": 31}]
    assert any("replaced 31 row(s) of batch 1" in n for n in report.notes)
    april = tmp_path / "april.csv"
    april.write_text("settlement,date,type,count\n750000000,2026-04-01,fire,1\n", "utf-8")
    assert load(wh, std, april).replaced == []
    appended = tmp_path / "again.csv"
    appended.write_text("settlement,date,type,count\n750000000,2026-04-01,fire,5\n", "utf-8")
    load(wh, std, appended, replace="none")
    assert wh.scalar("SELECT sum(count) FROM raw_incidents WHERE date = '2026-04-01'") == 6


def test_deleting_a_batch_makes_kpi_values_stale(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "cli.duckdb"
    monkeypatch.setenv("CITYSCORE_DB", str(db))
    path = tmp_path / "incidents.csv"
    path.write_text(INCIDENTS, "utf-8")
    cli("ingest", str(path))
    cli("compute", "--year", "2026")
    with Warehouse(db, read_only=True) as wh:
        assert not kpi_values_staleness(wh, 2026).stale
    _, out = cli("batches", "--delete", "1")
    assert "stale" in out
    with Warehouse(db, read_only=True) as wh:
        stale = kpi_values_staleness(wh, 2026)
        assert stale.stale and stale.changes[0][:3] == ("deleted", "incidents", 1)
    cli("compute", "--year", "2026")
    with Warehouse(db, read_only=True) as wh:
        assert not kpi_values_staleness(wh, 2026).stale
    april, may = tmp_path / "april.csv", tmp_path / "may.csv"  # a load after computing says what to run
    april.write_text(INCIDENTS.replace("2026-03-", "2026-04-").replace(",31,", ",30,"), "utf-8")
    may.write_text(INCIDENTS.replace("2026-03-", "2026-05-"), "utf-8")
    _, out = cli("ingest", str(april))
    assert "computed before this load" not in out
    cli("compute", "--year", "2026")
    _, out = cli("ingest", str(may))
    assert "run `cityscore compute --year 2026` and `cityscore score --year 2026`" in " ".join(out.split())


@pytest.mark.parametrize(("name", "data", "message"), [
    ("garbage.csv", bytes(range(256)) * 40, "not a text file"),
    ("empty.csv", b"", "empty"),
])
def test_files_that_are_not_tables_are_refused_clearly(wh: Warehouse, std: Standard, tmp_path: Path, name: str,
                                                       data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputFileError, match=message):
        load(wh, std, path)
    assert wh.count("batches") == 0


def test_cr_only_line_ends_and_a_late_cp1251_row(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    lines = [HEAD.strip()] + [f"c{i};750000000;2026-01-05 10:00:00;да;12;нет;;voice;1" for i in range(5000)]
    lines.append("c9999;Алматы;2026-01-05 10:00:00;да;12;нет;;голос;1")
    path = tmp_path / "cr.csv"
    path.write_bytes("\r".join(lines).encode("cp1251"))
    report = load(wh, std, path)
    assert (report.rows, report.accepted, report.errors) == (5001, 5001, [])
    assert wh.rows("SELECT settlement, channel, row_number FROM raw_contact_center_calls WHERE call_id = 'c9999'") \
        == [("750000000", "голос", 5002)]


def test_quoted_values_across_lines_and_a_stray_quote(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(HEAD + 'c1;750000000;2026-01-05 10:00:00;да;12;нет;;"voice\nline two";1\n'
                    "\n"
                    'c2;750000000;2026-01-05 10:00:00;да;12;нет;;"broken;1\n'
                    + "".join(f"c{i};750000000;2026-01-05 10:00:00;да;12;нет;;voice;1\n" for i in range(3, 60)),
                    "utf-8")
    report = load(wh, std, path)
    assert codes(report) == [(5, None, "malformed-csv")]
    assert report.rows == report.accepted + 1 == 59
    assert wh.scalar("SELECT row_number FROM raw_contact_center_calls WHERE call_id = 'c3'") == 6


def test_row_numbers_survive_parallel_reading(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    """DuckDB reads big files in parallel: rows are still numbered by their line, blank and bad lines included."""
    lines = [HEAD.strip()]
    for i in range(300_000):
        if i == 150_000:
            lines.append("")
        if i == 200_000:
            lines.append("bad;line")
        lines.append(f"c{i};750000000;2026-01-05 10:00:00;{'да' if i % 2 else 'yes'};{i % 50};нет;;voice;1")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    report = load(wh, std, path)
    assert (report.rows, report.accepted) == (300_001, 300_000)
    assert codes(report) == [(200_003, None, "short-row")]
    assert not any("exact reader" in n for n in report.notes)  # DuckDB's reader, in parallel
    wrong = wh.scalar("SELECT count(*) FROM raw_contact_center_calls WHERE row_number <> CAST(substr(call_id, 2) "
                      "AS BIGINT) + 2 + (CAST(substr(call_id, 2) AS BIGINT) >= 150000)::INT "
                      "+ (CAST(substr(call_id, 2) AS BIGINT) >= 200000)::INT")
    assert wrong == 0


def test_quarantine_purge(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "cli.duckdb"
    monkeypatch.setenv("CITYSCORE_DB", str(db))
    path = tmp_path / "calls.csv"
    path.write_text(HEAD + "c1;Атлантида;2026-01-05 10:00:00;да;12;нет;;voice;1\n", "utf-8")
    cli("ingest", str(path), ok=False)  # every row rejected: exit 1
    _, out = cli("quarantine", "--format", "json")
    assert json.loads(out)[0]["code"] == "unknown-settlement"
    _, out = cli("quarantine", "purge", "--older-than", "90d", "--format", "json")
    assert json.loads(out)["purged"] == 0
    with Warehouse(db) as wh:
        wh.con.execute("UPDATE quarantine SET quarantined_at = quarantined_at - INTERVAL 100 DAY")
    _, out = cli("quarantine", "purge", "--older-than", "90d", "--format", "json")
    assert json.loads(out)["purged"] == 1


def test_a_parquet_file_with_nested_columns_is_rejected_row_by_row(wh: Warehouse, std: Standard,
                                                                   tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"call_id": pa.array([{"id": "c1"}, {"id": "c2"}]), "settlement": ["750000000"] * 2,
                             "received_at": ["2026-01-05 10:00:00"] * 2, "answered": ["да"] * 2}), path)
    report = load(wh, std, path)
    assert (report.rows, report.accepted) == (2, 0)
    assert {e.code for e in report.errors} == {"nested-value"}
    assert wh.count("raw_contact_center_calls") == 0


def test_parquet_typed_columns_are_read_as_values_with_the_same_checks(wh: Warehouse, std: Standard,
                                                                        tmp_path: Path) -> None:
    """Typed Parquet columns are converted without going through text, and checked as text would be: a naive
    timestamp is Kazakhstan civil time, NaN and out-of-range numbers are rejected, a fraction is no count."""
    from datetime import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "settlement": ["750000000"] * 4, "date": pa.array([datetime(2026, 1, 5)] * 4, pa.date32()),
        "type": ["fire"] * 4, "count": pa.array([2.0, 2.5, float("nan"), -1.0], pa.float64()),
    }), tmp_path / "incidents.parquet")
    report = load(wh, std, tmp_path / "incidents.parquet")
    assert codes(report) == [(2, "count", "not-an-integer"), (3, "count", "not-an-integer"), (4, "count", "negative")]
    assert wh.rows("SELECT count FROM raw_incidents") == [(2,)]
    pq.write_table(pa.table({
        "call_id": ["a", "b", "c"], "settlement": ["750000000"] * 3,
        "received_at": pa.array([datetime(2026, 1, 5, 10), datetime(2023, 1, 5, 10), datetime(1990, 1, 1)],
                                pa.timestamp("us")),
        "answered": [True, False, True], "answer_seconds": pa.array([12.0, None, float("inf")], pa.float64()),
    }), tmp_path / "calls.parquet")
    report = load(wh, std, tmp_path / "calls.parquet")
    assert codes(report) == [(3, "answer_seconds", "not-a-number"), (3, "received_at", "implausible-time")]
    assert [(r[0], r[1].isoformat()) for r in wh.rows("SELECT call_id, received_at FROM raw_contact_center_calls "
                                                      "ORDER BY call_id")] == [("a", "2026-01-05T05:00:00"),
                                                                               ("b", "2023-01-05T04:00:00")]


def test_value_files_refuse_implausible_dates(std: Standard, tmp_path: Path) -> None:
    from cityscore.ingest import read_monitor_records

    path = tmp_path / "monitor.csv"
    path.write_text("settlement,metric,date,value,target,kind\n750000000,1.8,0001-01-01,5,,\n"
                    "750000000,1.8,2026-01-05,5,,\n", "utf-8")
    _, report = read_monitor_records(path, std, load_registry())
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "date", "implausible-time")]


def test_an_identifier_in_the_other_designated_column_is_masked_whole(wh: Warehouse, std: Standard,
                                                                      tmp_path: Path) -> None:
    """An ИИН typed into caller_phone is no phone number: rejected, and its message masks it whole (a partial mask
    would show the year of birth)."""
    path = tmp_path / "calls.csv"
    path.write_text(HEAD + f"c1;750000000;2026-01-05 10:00:00;да;12;нет;{IIN};voice;1\n"
                    "c2;750000000;2026-01-05 10:00:00;да;12;нет;12345;voice;1\n", "utf-8")
    report = load(wh, std, path)
    assert codes(report) == [(2, "caller_phone", "invalid-phone"), (3, "caller_phone", "invalid-phone")]
    assert report.errors[0].message.startswith("'[ИИН]'") and IIN[:2] + "•" not in report.errors[0].message
    assert report.errors[1].message.startswith("'12•45'")
    assert KEY.pseudonymise("phone", IIN)[1] == "'[ИИН]' is not a Kazakhstan phone number (11 digits, +7 …)"


def test_ingest_lists_problems_as_csv(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import csv as csvmodule

    monkeypatch.setenv("CITYSCORE_DB", str(tmp_path / "cli.duckdb"))
    path = tmp_path / "calls.csv"
    path.write_text(HEAD + "c1;750000000;2026-01-05 10:00:00;да;NaN;нет;;voice;1\n"
                    "c2;750000000;2026-01-05 10:00:00;да;12;нет;;+7 701 765 43 21;1\n", "utf-8")
    code, out = cli("ingest", str(path), "--format", "csv", ok=False)
    assert code == 1  # no row accepted
    rows = list(csvmodule.DictReader(line for line in out.strip().splitlines() if "No row was accepted" not in line))
    assert [(r["row"], r["column"], r["code"]) for r in rows] == [("2", "answer_seconds", "not-a-number"),
                                                                  ("3", "channel", "personal-data")]
    assert all(r["fix"] and r["batch"] == "1" for r in rows) and "765" not in out


def test_ingest_of_a_missing_path_a_folder_or_a_file_with_no_good_row(cli: Cli, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYSCORE_DB", str(tmp_path / "cli.duckdb"))
    code, out = cli("ingest", str(tmp_path / "nope.csv"), ok=False)
    assert code == 1 and "no such file" in out and "Traceback" not in out
    code, out = cli("ingest", str(tmp_path), ok=False)
    assert code == 1 and "is a folder" in out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEAD + "c1;Атлантида;2026-01-05 10:00:00;да;12;нет;;voice;1\n", "utf-8")
    code, out = cli("ingest", str(bad), "--format", "json", ok=False)
    assert code == 1 and json.loads(out[out.index("{"):out.rindex("}") + 1])["accepted"] == 0
    code, out = cli("ingest", str(bad), ok=False)  # the same file again: nothing changes, nothing to report
    assert code == 0 and "already loaded" in out
