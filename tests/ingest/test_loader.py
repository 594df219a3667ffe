"""``cityscore ingest``: exact reports, quarantine, idempotency, atomicity, pseudonymisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cityscore.ingest.loader import IngestError, guess_table
from cityscore.ingest.pseudonym import Pseudonymiser, iin_is_valid, load_key, normalise_phone
from cityscore.standard import Standard
from cityscore.store import Warehouse

from ..conftest import Cli
from .conftest import KEY, load

CALLS = ("call_id;settlement;received_at;answered;answer_seconds;abandoned;caller_phone\n"
         "c1;710000000;2026-01-05 10:00:00;да;12,5;нет;+7 (701) 123-45-67\n")


def bad_file(tmp_path: Path) -> Path:
    """Every kind of bad row named in the issue, mixed with good ones."""
    lines = [
        "call_id;settlement;received_at;answered;answer_seconds;abandoned;caller_phone",
        "c1;710000000;2026-01-05 10:00:00;да;12,5;нет;+7 (701) 123-45-67",   # 2 good (decimal comma)
        "c2;Астана;05.01.2026 10:05;1;40;0;87011234567",                     # 3 good (name, Russian date)
        "c3;Атлантида;2026-01-05 10:06:00;yes;10;no;",                        # 4 unknown settlement
        "c4;710000000;2026-02-30 10:00:00;yes;10;no;",                        # 5 impossible date
        "c5;710000000;2026-01-05 10:00:00;yes;-4;no;",                        # 6 negative duration
        "c1;710000000;2026-01-05 10:07:00;yes;5;no;",                         # 7 duplicate id
        "c7;Шымкент;2026-01-05 10:08:00;no;;yes;",                           # 8 good (unanswered)
    ]
    data = "\n".join(lines).encode("utf-8") + "\nc8;710000000;2026-01-05 10:09:00;yes;3;no;\n".encode("cp1251")
    data += "c9;Алматы;2026-01-05 10:10:00;yes;7;no;\n".encode("cp1251")  # 10 good: a Windows-1251 line (D-40)
    data += b"c10;710000000;2026-01-05 10:11:00;yes;3"  # 11 truncated last line
    path = tmp_path / "calls.csv"
    path.write_bytes(data)
    return path


def test_bad_rows_are_reported_precisely_and_good_rows_kept(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    report = load(wh, std, path)
    assert report.table == "contact_center_calls"
    assert (report.rows, report.accepted, report.rejected, report.duplicate_batch) == (10, 5, 5, False)
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (4, "settlement", "unknown-settlement"),
        (5, "received_at", "not-a-timestamp"),
        (6, "answer_seconds", "negative"),
        (7, "call_id", "duplicate-id"),
        (11, None, "short-row"),
    ]
    assert sorted(r[0] for r in wh.rows("SELECT call_id FROM raw_contact_center_calls")) == ["c1", "c2", "c7", "c8",
                                                                                            "c9"]
    assert any("Windows-1251" in n for n in report.notes)
    quarantined = wh.rows("SELECT row_number, code, file_name FROM quarantine ORDER BY row_number")
    assert [(r[0], r[1]) for r in quarantined] == [(e.row, e.code) for e in report.errors]
    assert {r[2] for r in quarantined} == {"calls.csv"}
    json_report = report.to_json()
    assert set(json_report) >= {"accepted", "rejected", "duplicate_batch", "errors"}
    assert json_report["errors"][0] == {"row": 4, "column": "settlement", "code": "unknown-settlement",
                                        "message": report.errors[0].message,
                                        "fix": "use the 9-digit KATO code (`cityscore settlements --search NAME`)"}


def test_the_same_file_twice_changes_nothing(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    first = load(wh, std, path)
    counts = {t: wh.count(t) for t in ("raw_contact_center_calls", "quarantine", "batches")}
    second = load(wh, std, path)
    assert second.duplicate_batch and second.batch_id == first.batch_id
    assert (second.rows, second.accepted, second.rejected) == (first.rows, first.accepted, first.rejected)
    assert {t: wh.count(t) for t in counts} == counts
    # a corrected file with the same ids: the stored ids are rejected, not duplicated
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(CALLS, "utf-8")
    report = load(wh, std, fixed)
    assert [(e.row, e.code) for e in report.errors] == [(2, "already-stored")]


def test_a_failure_mid_file_stores_nothing(wh: Warehouse, std: Standard, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import cityscore.ingest.commit as commit

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(commit, "record_loaded", broken)
    with pytest.raises(OSError, match="disk full"):
        load(wh, std, bad_file(tmp_path))
    assert wh.count("raw_contact_center_calls") == 0
    assert wh.count("quarantine") == 0
    assert wh.count("batches") == 0


def test_timestamps_and_pseudonyms(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(CALLS + "c2;710000000;2023-06-01T10:00:00+06:00;yes;5;no;8 701 123 45 67\n"
                    "c3;710000000;2023-06-01 10:00:00;yes;5;no;\n", "utf-8")
    load(wh, std, path)
    rows = dict(wh.rows("SELECT call_id, strftime(received_at, '%Y-%m-%d %H:%M') FROM raw_contact_center_calls"))
    assert rows == {"c1": "2026-01-05 05:00", "c2": "2023-06-01 04:00", "c3": "2023-06-01 04:00"}
    phones = [r[0] for r in wh.rows("SELECT caller_phone FROM raw_contact_center_calls WHERE caller_phone "
                                    "IS NOT NULL")]
    assert len(phones) == 2 and phones[0] == phones[1] and phones[0].startswith("p_")
    everything = json.dumps(wh.rows("SELECT * FROM raw_contact_center_calls"), default=str)
    assert "7011234567" not in everything and "701" not in everything.replace("2026", "")


def test_pseudonymisation_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalise_phone("+7 (701) 123-45-67") == normalise_phone("87011234567") == "77011234567"
    assert normalise_phone("12345") is None
    assert iin_is_valid("900101300123") is False or iin_is_valid("900101300123") is True  # format only below
    assert iin_is_valid("123") is False
    valid = next(f"9001013{n:04d}{c}" for n in range(1000) for c in range(10) if iin_is_valid(f"9001013{n:04d}{c}"))
    assert iin_is_valid(valid)
    monkeypatch.delenv("CITYSCORE_PSEUDONYM_KEY", raising=False)
    key = load_key(tmp_path)
    assert len(key) == 32 and load_key(tmp_path) == key
    assert oct((tmp_path / "pseudonym.key").stat().st_mode & 0o777) == "0o600"
    a, b = Pseudonymiser(key), Pseudonymiser(b"another key of 32 bytes........!")
    assert a.pseudonymise("iin", valid) == a.pseudonymise("iin", valid[:6] + " " + valid[6:])
    assert a.pseudonymise("iin", valid)[0] != b.pseudonymise("iin", valid)[0]
    token, problem = a.pseudonymise("iin", "123456789012")
    assert problem is not None and "123456789012" not in problem and "123456789012" not in token


def test_value_tables_and_table_guessing(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    observations = tmp_path / "obs.csv"
    observations.write_text("settlement,kpi,period_start,period_end,value\n"
                            "710000000,1.9,2026-01-01,2026-12-31,81\n"
                            "710000000,1.9,2026-01-01,2026-12-31,82\n", "utf-8")
    report = load(wh, std, observations)
    assert report.table == "observations" and report.accepted == 1
    assert [(e.row, e.code) for e in report.errors] == [(3, "duplicate")]
    again = tmp_path / "obs2.csv"
    again.write_text("settlement,kpi,period_start,period_end,value\n710000000,1.9,2026-06-01,2026-06-30,70\n")
    stored = load(wh, std, again).errors
    assert [e.code for e in stored] == ["already-stored"]
    assert f"`cityscore batches --delete {report.batch_id}`" in stored[0].message  # a command that exists
    assert guess_table(["request_id", "settlement", "opened_at", "category"]) == "service_requests"
    assert guess_table(["case_id", "kato", "open_dt", "category"]) == "service_requests"  # other header names
    with pytest.raises(IngestError, match="No table matches"):
        guess_table(["foo", "bar"])


def test_settlement_override_and_missing_column(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    path = tmp_path / "incidents.csv"
    path.write_text("date,type,count\n2026-01-01,fire,2\n2026-01-02,serious_crime,1\n2026-01-03,meteor,1\n")
    report = load(wh, std, path, table="incidents", settlement="Алматы")
    assert report.accepted == 2 and [(e.row, e.code) for e in report.errors] == [(4, "not-allowed")]
    assert {r[0] for r in wh.rows("SELECT settlement FROM raw_incidents")} == {"750000000"}
    no_settlement = tmp_path / "no.csv"
    no_settlement.write_text("date,type,count\n2026-01-01,fire,2\n")
    report = load(wh, std, no_settlement, table="incidents")
    assert report.accepted == 0 and [e.code for e in report.errors] == ["missing-column"]


def test_xlsx_json_parquet(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["settlement", "date", "type", "count"])
    sheet.append(["710000000", "2026-01-01", "fire", 3])
    sheet.append(["710000000", "не дата", "fire", 1])
    book.save(tmp_path / "incidents.xlsx")
    report = load(wh, std, tmp_path / "incidents.xlsx")
    assert report.accepted == 1 and [(e.row, e.code) for e in report.errors] == [(3, "not-a-date")]
    (tmp_path / "incidents.json").write_text(json.dumps(
        [{"settlement": "750000000", "date": "2026-01-01", "type": "flood", "count": 1}]))
    assert load(wh, std, tmp_path / "incidents.json").accepted == 1
    pq.write_table(pa.table({"settlement": ["790000000"], "date": pa.array([__import__("datetime").date(2026, 1, 1)]),
                             "type": ["fire"], "count": [4]}), tmp_path / "incidents.parquet")
    assert load(wh, std, tmp_path / "incidents.parquet").accepted == 1
    assert wh.scalar("SELECT sum(count) FROM raw_incidents") == 8


def test_ingest_cli(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYSCORE_DB", str(tmp_path / "cli.duckdb"))
    path = bad_file(tmp_path)
    _, out = cli("ingest", str(path), "--format", "json")
    report = json.loads(out)
    assert (report["accepted"], report["rejected"], report["duplicate_batch"]) == (5, 5, False)
    assert report["errors"][0]["row"] == 4
    _, out = cli("ingest", str(path))
    assert "already loaded" in out
    _, out = cli("batches", "--format", "json")
    batches = json.loads(out)
    assert len(batches) == 1 and batches[0]["accepted"] == 5
    _, out = cli("batches", "--delete", str(batches[0]["batch"]))
    assert "removed" in out
    _, out = cli("batches", "--format", "json")
    assert json.loads(out) == []


def test_value_files_are_checked_before_the_lock_and_again_if_a_load_came_in_between(
        std: Standard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An observation file is read and checked without the write lock, against the stored periods of that moment;
    when another load changed the warehouse meanwhile, it is checked again under the lock."""
    from cityscore.ingest import loader

    db = tmp_path / "wh.duckdb"
    head = "settlement,kpi,period_start,period_end,value\n"
    (tmp_path / "a.csv").write_text(head + "710000000,1.9,2026-01-01,2026-12-31,81\n", "utf-8")
    (tmp_path / "b.csv").write_text(head + "710000000,1.9,2026-06-01,2026-06-30,70\n", "utf-8")
    assert load(db, std, tmp_path / "a.csv").accepted == 1
    snapshots = []
    real = loader._stored_snapshot

    def before_a(held: object, path: Path) -> object:  # as if read before a.csv was stored
        snapshots.append(real(held, path))  # type: ignore[arg-type]
        return (None, {})

    monkeypatch.setattr(loader, "_stored_snapshot", before_a)
    report = load(db, std, tmp_path / "b.csv")
    assert snapshots and [e.code for e in report.errors] == ["already-stored"] and report.accepted == 0


def test_stored_ids_are_found_before_the_lock_and_again_if_a_batch_came_in_between(
        std: Standard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cityscore.ingest import staging

    db = tmp_path / "wh.duckdb"
    head = "call_id;settlement;received_at;answered;answer_seconds\n"

    def calls(name: str, *ids: str) -> Path:
        path = tmp_path / name
        path.write_text(head + "".join(f"{i};710000000;2026-01-05 10:00:00;да;5\n" for i in ids), "utf-8")
        return path

    assert load(db, std, calls("a.csv", "c1", "c2")).accepted == 2
    looked: list[int | None] = []
    real = staging.precheck_conflicts

    def spy(staged: staging.Staged, warehouse: Path) -> None:
        real(staged, warehouse)
        looked.append(staged.conflicts_at)

    monkeypatch.setattr(staging, "precheck_conflicts", spy)
    report = load(db, std, calls("b.csv", "c2", "c3"))
    assert looked == [1] and [(e.row, e.code) for e in report.errors] == [(2, "already-stored")]

    def meanwhile(staged: staging.Staged, warehouse: Path) -> None:  # another file arrives after the look
        real(staged, warehouse)
        monkeypatch.setattr(staging, "precheck_conflicts", real)
        assert load(db, std, calls("d.csv", "c5")).accepted == 1

    monkeypatch.setattr(staging, "precheck_conflicts", meanwhile)
    report = load(db, std, calls("c.csv", "c4", "c5"))
    assert [(e.row, e.code) for e in report.errors] == [(3, "already-stored")] and report.accepted == 1


def test_sql_and_python_pseudonyms_agree(tmp_path: Path) -> None:
    """Staged files are pseudonymised in SQL (while typed); value files and ad-hoc lookups in Python: the same value
    gets the same pseudonym, and the same values are invalid."""
    import duckdb

    from cityscore.ingest.sqlcheck import TimeWindow, typed_select
    from cityscore.records import Column, Schema

    valid = next(f"9001013{n:04d}{c}" for n in range(1000) for c in range(10) if iin_is_valid(f"9001013{n:04d}{c}"))
    values = {"phone": ["+7 (701) 123-45-67", "87011234567", "12345", " 7011234567 ", "   "],
              "iin": [valid, valid[:6] + " " + valid[6:], "123456789012", valid[:11] + str((int(valid[11]) + 1) % 10)]}
    con = duckdb.connect()
    for kind, items in values.items():
        schema = Schema("t", "", "", (Column("v", "text", pseudonymise=kind),))  # type: ignore[arg-type]
        query = typed_select(schema, {"v": "s.raw"}, TimeWindow(), "(SELECT unnest(?) AS raw)", key=KEY.key)
        found = con.execute(f"SELECT v, v__invalid FROM ({query})", [items]).fetchall()
        for item, (sql_token, invalid) in zip(items, found, strict=True):
            if not item.strip():
                assert sql_token is None and invalid is None
                continue
            py_token, problem = KEY.pseudonymise(kind, item)
            assert sql_token == py_token, (kind, item)
            assert (invalid is None) == (problem is None), (kind, item)
            assert invalid is None or item.strip() not in invalid


def test_civil_time_arithmetic_agrees_with_icu() -> None:
    """Kazakhstan civil time is converted by arithmetic where the offset is fixed; ICU's time zone data agrees for
    every hour of the plausible window and every minute around the 2004 and 2024 changes."""
    import duckdb

    from cityscore.ingest.sqlcheck import CIVIL_ZONE, civil_to_utc

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    fast, icu = civil_to_utc("t"), f"timezone('UTC', timezone('{CIVIL_ZONE}', t))"
    hours = ("SELECT TIMESTAMP '2000-01-01' + INTERVAL (i) HOUR AS t FROM range(0, 24 * 366 * 101) r(i)")
    minutes = " UNION ALL ".join(f"SELECT TIMESTAMP '{start}' + INTERVAL (i) MINUTE AS t "
                                 "FROM range(0, 3 * 24 * 60) r(i)" for start in ("2004-10-30", "2024-02-28"))
    for times in (hours, minutes):
        differ = con.execute(f"SELECT count(*), min(t) FROM ({times}) WHERE {fast} <> {icu}").fetchall()[0]
        assert differ[0] == 0, differ
    noon = civil_to_utc("TIMESTAMP '2026-06-01 12:00'")
    assert con.execute(f"SELECT {noon}").fetchall()[0][0].isoformat() == "2026-06-01T07:00:00"


def test_parquet_fast_path_pseudonymises_and_reports(wh: Warehouse, std: Standard, tmp_path: Path) -> None:
    from datetime import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "call_id": ["a", "b", "c"], "settlement": ["710000000", "", "Алматы"],
        "received_at": pa.array([datetime(2026, 1, 5, 5), datetime(2026, 1, 5, 6), datetime(2026, 1, 5, 7)],
                                pa.timestamp("us", tz="UTC")),
        "answered": [True, True, False], "answer_seconds": [12.0, 20.0, None],
        "caller_phone": ["+7 701 123 45 67", "12", None],
    }), tmp_path / "calls.parquet")
    report = load(wh, std, tmp_path / "calls.parquet", settlement="Шымкент")
    assert report.accepted == 2
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "caller_phone", "invalid-phone")]
    rows = dict(wh.rows("SELECT call_id, caller_phone FROM raw_contact_center_calls"))
    assert rows["a"] == KEY.pseudonymise("phone", "87011234567")[0] and rows["c"] is None
    assert dict(wh.rows("SELECT call_id, settlement FROM raw_contact_center_calls")) == {"a": "710000000",
                                                                                          "c": "750000000"}
    assert "12" not in json.dumps(wh.rows("SELECT raw FROM quarantine"), default=str).replace("2026", "")
