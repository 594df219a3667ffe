"""One verdict per city: the trend is the official CityScore month by month under the run's own policy, stored
with the run, and its last point is the headline score (scoring/trend.py, decisions.md D-65)."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from cityscore.settlements import load_registry
from cityscore.store import Warehouse

from ..conftest import Cli, Demo


def test_every_settlement_trend_ends_at_its_headline(client: TestClient) -> None:
    ends_apart = 0
    for s in load_registry().settlements:
        body = client.get(f"/api/v1/settlements/{s.kato}/score").json()
        trend, monitoring = body["trend"], body["trend_monitoring"]
        assert [p["month"] for p in trend] == [f"2026-{m:02d}" for m in range(1, 13)], s.kato
        assert trend[-1]["cityscore"] == body["cityscore"], s.kato
        assert trend[-1]["bonus"] == body["bonus"] and trend[-1]["band_id"] == body["band_id"], s.kato
        assert [p["month"] for p in monitoring] == [p["month"] for p in trend]
        ends_apart += monitoring[-1]["cityscore"] != body["cityscore"]
    assert ends_apart > 0  # the monitoring line is another thing, shown beside the official one only


def test_the_trend_is_scored_under_the_runs_own_policy(demo: Demo, tmp_path: Path, cli: Cli) -> None:
    """A run under another policy stores its own trend, ending at its own headline: equal weights inside each
    section move the scores; a run that leaves KPIs without data out stores no second, identical line."""
    db = tmp_path / "cityscore.duckdb"
    shutil.copy(demo.db, db)
    cli("score", "--year", "2026", "--db", str(db), "--set", "kpi_weighting=equal_within_section", "-f", "json")
    cli("score", "--year", "2026", "--db", str(db), "--mode", "monitoring", "-f", "json")
    with Warehouse(db, read_only=True) as wh:
        official, equal, monitoring = (r[0] for r in wh.rows("SELECT run_id FROM score_runs ORDER BY run_id"))
        ends = {run: dict(wh.rows("SELECT settlement, cityscore FROM score_trend WHERE run_id = ? AND series = 'run' "
                                  "AND month = DATE '2026-12-01'", [run])) for run in (official, equal, monitoring)}
        headlines = {run: dict(wh.rows("SELECT settlement, cityscore FROM scores WHERE run_id = ?", [run]))
                     for run in (official, equal, monitoring)}
        series = {run: {r[0] for r in wh.rows("SELECT DISTINCT series FROM score_trend WHERE run_id = ?", [run])}
                  for run in (official, equal, monitoring)}
        triggers = [r[0] for r in wh.rows("SELECT trigger FROM monitor_runs")]
    for run in (official, equal, monitoring):
        assert ends[run] == headlines[run] and len(ends[run]) == 213, run
    assert ends[equal] != ends[official]
    assert series == {official: {"run", "monitoring"}, equal: {"run", "monitoring"}, monitoring: {"run"}}
    assert triggers == [f"score run {monitoring}"]  # the monitor is stored again by each run


def test_a_run_without_a_stored_trend_has_an_empty_one(demo: Demo, tmp_path: Path) -> None:
    """A run scored before trends were stored: no trend rather than one re-scored by the server."""
    from cityscore.api.app import create_app

    db = tmp_path / "cityscore.duckdb"
    shutil.copy(demo.db, db)
    with Warehouse(db) as wh:
        wh.con.execute("DELETE FROM score_trend")
    with TestClient(create_app(db)) as client:
        body = client.get("/api/v1/settlements/710000000/score").json()
        page = client.get("/settlements/710000000", params={"lang": "en"}).text
    assert body["trend"] == [] and body["trend_monitoring"] == []
    assert "No monthly trend stored for this run" in page
