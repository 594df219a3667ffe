"""The README's main command, end to end at a small scale: simulate → ingest → compute → score → rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cityscore.store import Warehouse

from ..conftest import Cli


def test_demo_end_to_end(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _, out = cli("demo", "--scale", "0.001", "--seed", "3")
    assert "213 settlements rated" in out
    for band in ("Отличный", "Хороший", "Средний", "Ниже среднего", "Низкий"):
        assert band in out
    db = tmp_path / "cityscore.duckdb"
    with Warehouse(db) as wh:
        assert wh.count("quarantine") == 0
        assert wh.scalar("SELECT count(DISTINCT settlement) FROM scores") == 213
        tables = {r[0] for r in wh.rows("SELECT table_name FROM batches")}
        assert {"contact_center_calls", "service_requests", "payments", "observations"} <= tables
        computed = {r[0] for r in wh.rows("SELECT DISTINCT kpi FROM kpi_values")}
        assert {"1.8", "1.9", "1.11", "1.13", "3.3", "4.2"} <= computed
        batches_before = wh.count("batches")
    # again: the same simulated files, nothing ingested twice, the same ratings
    cli("demo", "--scale", "0.001", "--seed", "3")
    with Warehouse(db) as wh:
        assert wh.count("batches") == batches_before
        runs = wh.rows("SELECT run_id FROM score_runs ORDER BY run_id")
        first = wh.rows("SELECT settlement, cityscore, rank FROM scores WHERE run_id = ? ORDER BY 1", [runs[0][0]])
        second = wh.rows("SELECT settlement, cityscore, rank FROM scores WHERE run_id = ? ORDER BY 1", [runs[-1][0]])
    assert first == second
    # the stored result explains itself through `cityscore score`
    _, out = cli("score", "--year", "2026", "--settlement", "Астана", "--format", "json")
    result = json.loads(out[out.index("{"):])["results"][0]
    assert result["settlement"] == "710000000" and result["kpis"]["1.8"]["input"]["method"] == "pooled"
