"""``cityscore score``, ``monitor`` and ``policy`` from the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..conftest import REPO, Cli, Demo

EXAMPLES = REPO / "docs" / "examples"
OBS = str(EXAMPLES / "observations.csv")
EXTRA = str(EXAMPLES / "additional.csv")


def test_score_json_shape(cli: Cli) -> None:
    data = json.loads(cli("score", "--observations", OBS, "--additional", EXTRA, "--year", "2026", "-f", "json")[1])
    assert data["standard_version"] == "469/НК-2025"
    assert data["policy"]["name"] == "official" and data["policy"]["cap"] == "cap_100"
    assert data["year"] == 2026
    assert data["input"]["observations"]["accepted"] == 14
    (row,) = data["results"]
    for key in ("settlement", "category", "cityscore", "cityscore_uncapped", "bonus", "band", "rank", "coverage",
                "sections", "kpis"):
        assert key in row
    assert (row["settlement"], row["category"], row["cityscore"], row["band"], row["rank"]) == (
        "195220100", "district", 70.2, "Средний", 1)
    assert set(row["sections"]) == {"city_management", "safety", "transport", "ecology", "housing_utilities"}
    kpi = row["kpis"]["1.8"]
    assert {"actual", "target", "score", "weight", "points_at_stake"} <= kpi.keys()
    assert kpi["actual"] == 68.0 and kpi["target"] == 70
    assert row["not_counted"]["9.1"] == "initiative 9 is due from 2027"
    assert row["improvements"][0]["kpi"] == "1.20"


def test_score_table_csv_and_explanation(cli: Cli) -> None:
    out = cli("score", "-o", OBS, "-a", EXTRA, "-y", "2026")[1]
    assert "Каскелен" in out and "70.2" in out and "Средний" in out
    rows = list(csv.DictReader(io.StringIO(cli("score", "-o", OBS, "-y", "2026", "-f", "csv")[1])))
    assert rows[0]["cityscore"] == "68.2" and rows[0]["section_city_management"] == "23.8641"
    out = cli("score", "-o", OBS, "-a", EXTRA, "-y", "2026", "--settlement", "Каскелен", "--lang", "en")[1]
    assert "What would raise the score most" in out and "+15.00" in out


def test_policy_from_file_and_flags(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text("name: strict\nrange_target: strict\nstabilisation: linear\n")
    data = json.loads(cli("score", "-o", OBS, "-y", "2026", "--policy", str(tmp_path / "policy.yaml"),
                          "--set", "cap=no_cap", "-f", "json")[1])
    assert data["policy"]["name"] == "strict" and data["policy"]["range_target"] == "strict"
    assert data["policy"]["cap"] == "no_cap"
    row = data["results"][0]
    assert row["kpis"]["1.9"]["target"] == 70 and row["kpis"]["1.9"]["score"] == 57 / 70
    code, out = cli("score", "-o", OBS, "-y", "2026", "--set", "cap=sometimes", ok=False)
    assert code == 1 and "choose one of: cap_100, no_cap" in out
    code, out = cli("score", "-o", OBS, "-y", "2026", "--set", "colour=red", ok=False)
    assert code == 1 and "unknown field(s) colour" in out
    monitoring = json.loads(cli("score", "-o", OBS, "-y", "2026", "--mode", "monitoring", "-f", "json")[1])
    assert monitoring["policy"]["missing_data"] == "exclude"


def test_bad_rows_strict_and_missing_file(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text((EXAMPLES / "observations.csv").read_text("utf-8") + "Атлантида,1.8,2026-01-01,2026-12-31,9,,,\n")
    _, out = cli("score", "-o", str(path), "-y", "2026")
    assert "1 of 15 row(s) rejected" in out and "row 16, column settlement" in out and "[unknown-settlement]" in out
    code, _ = cli("score", "-o", str(path), "-y", "2026", "--strict", ok=False)
    assert code == 1
    code, out = cli("score", "-o", str(tmp_path / "none.csv"), "-y", "2026", ok=False)
    assert code == 1 and "no such file" in out


def test_policy_command(cli: Cli) -> None:
    data = json.loads(cli("policy", "-f", "json")[1])
    rules = {r["field"]: r for r in data["rules"]}
    assert rules["band_rounding"]["decision"] == "D-13"
    assert rules["cap"]["alternatives"] == ["cap_100", "no_cap"]
    assert "missing_data: exclude" in cli("policy", "--mode", "monitoring", "-f", "yaml")[1]
    assert "le_normalisation" in cli("policy")[1]


def test_monitor_command(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(
        "settlement,metric,date,numerator,denominator,value,target,kind,baseline\n"
        "710000000,1.8,2026-03-31,90,100,,,,\n"
        "710000000,1.8,2026-03-30,80,100,,,,\n"
        "710000000,crimes,2026-03-31,,,4,,baseline_over_current,6\n"
        "710000000,crimes,2026-03-20,,,0,,baseline_over_current,5\n"
        "710000000,broken,2026-03-31,,,1,,sometimes,\n")
    _, out = cli("monitor", "--records", str(path), "-f", "json")
    data = json.loads(out[out.index("{"):])
    assert data["as_of"] == "2026-03-31" and data["settlement"] == "710000000"
    assert data["windows"]["week"] == {"start": "2026-03-25", "end": "2026-03-31", "days": 7}
    assert data["metrics"]["1.8"]["day"] == 90 / 95  # the catalog's republican target, 95 %
    assert data["metrics"]["1.8"]["week"] == 85 / 95
    assert data["metrics"]["crimes"]["week"] == 6 / 4 and data["metrics"]["crimes"]["month"] == 11 / 4
    assert set(data["overall"]) == {"day", "week", "month", "quarter"}
    assert data["input"]["rejected"] == 1
    out = cli("monitor", "--records", str(path), "--as-of", "2026-03-30")[1]
    assert "as of 2026-03-30" in out and "overall" in out


def test_score_refuses_values_computed_under_another_standard(cli: Cli, tmp_path: Path) -> None:
    from datetime import date, datetime

    from cityscore.store import Warehouse

    db = tmp_path / "wh.duckdb"
    with Warehouse(db) as wh:
        for start, end in ((date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 5), date(2026, 3, 5))):
            wh.con.execute("INSERT INTO kpi_values (settlement, kpi, period_start, period_end, value, numerator, "
                           "denominator, measure, source_table, rows_used, standard_version, computed_at) VALUES "
                           "('710000000', '1.8', ?, ?, 50, 1, 2, 'share', 'contact_center_calls', 2, "
                           "'469/НК-2025/изм-1', ?)", [start, end, datetime(2026, 4, 1)])
    code, out = cli("score", "--year", "2026", "--db", str(db), ok=False)
    out = " ".join(out.split())
    assert code == 1 and "Traceback" not in out
    assert "monthly values under '469/НК-2025/изм-1'" in out and "daily values under" in out
    assert "cityscore compute --year 2026 --standard '469/НК-2025' --grain day" in out
    with Warehouse(db) as wh:
        assert wh.scalar("SELECT count(*) FROM score_runs") == 0  # nothing stored


def test_explaining_one_settlement_stores_no_run(cli: Cli, demo: Demo, tmp_path: Path) -> None:
    import shutil

    import duckdb

    demo_copy = tmp_path / "copy.duckdb"
    shutil.copy(demo.db, demo_copy)

    def runs() -> int:
        with duckdb.connect(str(demo_copy), read_only=True) as con:
            found = con.execute("SELECT count(*) FROM score_runs").fetchone()
        return int(found[0]) if found else 0

    before = runs()
    code, out = cli("score", "--year", "2026", "--db", str(demo_copy), "--settlement", "750000000")
    assert code == 0 and "Not stored" in " ".join(out.split())
    assert runs() == before
