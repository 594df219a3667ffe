"""Where the warehouse's data came from: simulated batches, the rows of a year they can reach, and migration 6 marking
the runs and batches of earlier demos (decisions.md D-68)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from cityscore.cli import app
from cityscore.cli.provenance import simulated_file
from cityscore.store import Warehouse
from cityscore.store.provenance import mark_simulated, simulated_batches, simulated_settlements
from cityscore.store.warehouse import utcnow

from ..conftest import REPO

KASKELEN = "195220100"


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, f"cityscore {' '.join(args)} failed:\n{result.output}"
    return result.stdout


def test_files_the_simulator_wrote_are_recognised(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "sim"
    _run("simulate", "--year", "2026", "--out", str(out), "--scale", "0.001", "--settlement", KASKELEN)
    parquet = sorted(out.glob("*.parquet"))
    assert parquet and all(simulated_file(p) for p in parquet)
    assert simulated_file(out / "observations.csv") and simulated_file(out / "additional.csv")
    # a Parquet file carries the mark with it; a CSV file is recognised by the manifest beside it
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    shutil.copy(parquet[0], alone / parquet[0].name)
    shutil.copy(out / "observations.csv", alone / "observations.csv")
    assert simulated_file(alone / parquet[0].name)
    assert not simulated_file(alone / "observations.csv")
    assert not simulated_file(REPO / "docs" / "examples" / "observations.csv")
    assert not simulated_file(tmp_path / "missing.parquet")
    (alone / "broken.parquet").write_text("not parquet")
    assert not simulated_file(alone / "broken.parquet")


def test_simulated_rows_reach_the_year_and_the_two_after(tmp_path: Path, home: Path) -> None:
    """Raw records of 2022 feed the baselines of 2023 and, through the rating of 2023, the movement of 2024."""
    out, db = tmp_path / "sim", tmp_path / "wh.duckdb"
    _run("simulate", "--year", "2022", "--out", str(out), "--scale", "0.001", "--settlement", KASKELEN)
    _run("ingest", str(out / "incidents.parquet"), "--db", str(db))
    with Warehouse(db) as wh:
        assert simulated_batches(wh) == {"incidents": [1]}
        years = {year: KASKELEN in simulated_settlements(wh, year) for year in range(2019, 2027)}
    # the simulator writes incidents of the year before too (baselines): 2021 and 2022
    assert years == {2019: False, 2020: False, 2021: True, 2022: True, 2023: True, 2024: True, 2025: False,
                     2026: False}


def test_marking_is_idempotent(tmp_path: Path, home: Path) -> None:
    db = tmp_path / "wh.duckdb"
    _run("ingest", str(REPO / "docs" / "examples" / "observations.csv"), "--db", str(db))
    with Warehouse(db) as wh:
        assert simulated_settlements(wh, 2026) == frozenset()
        assert mark_simulated(wh, [1]) == 1 and mark_simulated(wh, [1, 1]) == 0 and mark_simulated(wh, []) == 0
        assert simulated_settlements(wh, 2026) == {KASKELEN}
        assert simulated_settlements(wh, 2028) == frozenset()  # value rows reach their year and the next


def test_migration_6_marks_the_runs_and_batches_of_earlier_demos(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    now = utcnow()
    with Warehouse(db) as wh:
        for batch, path in ((1, "/srv/demo-data/2026-scale0.02-seed0/incidents.parquet"),
                            (2, "/srv/real/incidents.parquet")):
            wh.con.execute("INSERT INTO batches (batch_id, table_name, file_name, file_path, content_sha256, source, "
                           "rows_total, rows_accepted, rows_rejected, ingested_at) VALUES (?, 'incidents', "
                           "'incidents.parquet', ?, ?, 'native', 1, 1, 0, ?)", [batch, path, str(batch), now])
        for run, source in ((1, "demo demo-data/2026-scale0.02-seed0"), (2, "/srv/cityscore.duckdb")):
            wh.con.execute("INSERT INTO score_runs (run_id, year, standard_version, policy_name, policy_json, source, "
                           "created_at) VALUES (?, 2026, 'x', 'official', '{}', ?, ?)", [run, source, now])
        # back to the schema before migration 6
        wh.con.execute("ALTER TABLE batches DROP COLUMN simulated")
        wh.con.execute("ALTER TABLE score_runs DROP COLUMN simulated")
        wh.con.execute("DELETE FROM schema_migrations WHERE version = 6")
    with Warehouse(db) as wh:
        assert wh.rows("SELECT batch_id, simulated FROM batches ORDER BY 1") == [(1, True), (2, False)]
        assert wh.rows("SELECT run_id, simulated FROM score_runs ORDER BY 1") == [(1, True), (2, False)]
