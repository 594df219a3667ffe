"""``cityscore score --format json`` says whether each result (and the run) was computed from simulated data, from a
file or from the warehouse; ``cityscore ingest`` marks the batches of the simulator's files (decisions.md D-68)."""

from __future__ import annotations

from pathlib import Path

from ..simulated import EXAMPLES, KASKELEN, mixed_warehouse, other_district, real_warehouse, run, run_json


def test_score_of_files(tmp_path: Path) -> None:
    home, sim = tmp_path / "home", tmp_path / "sim"
    real = run_json(home, "score", "-o", str(EXAMPLES / "observations.csv"), "-a", str(EXAMPLES / "additional.csv"),
                    "-y", "2026")
    assert real["simulated"] is False and [r["simulated"] for r in real["results"]] == [False]
    run(home, "simulate", "--year", "2026", "--out", str(sim), "--scale", "0.001", "--settlement", KASKELEN)
    simulated = run_json(home, "score", "-o", str(sim / "observations.csv"), "-y", "2026")
    assert simulated["simulated"] is True and [r["simulated"] for r in simulated["results"]] == [True]
    # real observations, simulated evidence of additional initiatives: the bonus is computed from simulated rows
    bonus = run_json(home, "score", "-o", str(EXAMPLES / "observations.csv"), "-a", str(sim / "additional.csv"),
                     "-y", "2026")
    assert [r["simulated"] for r in bonus["results"]] == [True]


def test_score_of_warehouses(tmp_path: Path) -> None:
    home = tmp_path / "home"
    real = run_json(home, "score", "-y", "2026", "--db", str(real_warehouse(tmp_path)))
    assert real["simulated"] is False and {r["settlement"]: r["simulated"] for r in real["results"]} == {
        KASKELEN: False}
    mixed = run_json(home, "score", "-y", "2026", "--db", str(mixed_warehouse(tmp_path)))
    assert mixed["simulated"] is True
    assert {r["settlement"]: r["simulated"] for r in mixed["results"]} == {KASKELEN: False, other_district(): True}


def test_ingest_marks_the_simulators_files(tmp_path: Path) -> None:
    home, sim, db = tmp_path / "home", tmp_path / "sim", tmp_path / "wh.duckdb"
    run(home, "simulate", "--year", "2026", "--out", str(sim), "--scale", "0.001", "--settlement", KASKELEN)
    reports = run_json(home, "ingest", str(EXAMPLES / "additional.csv"), str(sim / "incidents.parquet"),
                       str(sim / "observations.csv"), "--db", str(db))
    assert [(Path(r["file"]).name, r["simulated"]) for r in reports] == [
        ("additional.csv", False), ("incidents.parquet", True), ("observations.csv", True)]
    assert "simulated data" in run(home, "ingest", str(sim / "additional.csv"), "--db", str(db))
    batches = run_json(home, "batches", "--db", str(db))
    assert [(b["file"], b["simulated"]) for b in batches] == [
        ("additional.csv", False), ("incidents.parquet", True), ("observations.csv", True), ("additional.csv", True)]
