"""One monitor: the API, the dashboard and ``cityscore monitor`` on the warehouse run the same function with the
same rules (scoring/daily.py, decisions.md D-63), and the server serves what scoring stored (D-66)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityscore.api.app import create_app
from cityscore.scoring import ScoringPolicy
from cityscore.scoring.selection import eligibility
from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse
from cityscore.store.warehouse import utcnow

from ..conftest import Cli, Demo

ASTANA = "710000000"
KASKELEN = "195220100"  # a district centre
NUMBERS = ("settlement", "as_of", "first_day", "last_day", "windows", "metrics", "overall", "overall_cap", "kpis",
           "left_out")


def numbers(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in NUMBERS}


@pytest.fixture(scope="module")
def monitors(client: TestClient) -> dict[str, dict[str, Any]]:
    """Every settlement's monitor as the API serves it by default."""
    out = {}
    for s in load_registry().settlements:
        response = client.get(f"/api/v1/settlements/{s.kato}/monitor")
        if response.status_code == 200:
            out[s.kato] = response.json()
    return out


def test_the_default_monitor_of_every_settlement_is_the_stored_one(monitors: dict[str, dict[str, Any]]) -> None:
    assert len(monitors) >= 200
    assert {m["source"] for m in monitors.values()} == {"stored"}


def test_only_kpis_that_count_for_the_settlement_that_year(monitors: dict[str, dict[str, Any]], std: Standard,
                                                          client: TestClient) -> None:
    """Every monitored KPI counts for the settlement in the as-of year, as in its published score; a district
    centre shows no KPI of an initiative that does not apply to it or has not started."""
    registry = load_registry()
    for kato, body in monitors.items():
        category = registry.get(kato).category  # type: ignore[union-attr]
        year = int(body["as_of"][:4])
        for kpi_id in body["metrics"]:
            kpi = std.kpi(kpi_id)
            assert kpi is not None and eligibility(std, kpi, category, year, ScoringPolicy()).counts, (kato, kpi_id)
        counted = client.get(f"/api/v1/settlements/{kato}/score").json()["kpis"]
        assert set(body["metrics"]) <= set(counted), kato
    district = monitors[KASKELEN]
    assert "7.5" not in district["metrics"] and district["left_out"]["7.5"] == "initiative 7 is due from 2029"
    assert district["left_out"]["10.1"] == "does not apply to district settlements"


def test_reductions_are_monitored_against_their_baseline(monitors: dict[str, dict[str, Any]]) -> None:
    astana = monitors[ASTANA]
    assert astana["kpis"]["1.13"] == {"kind": "baseline_over_current", "target_kind": "reduction", "comparator": None,
                                      "target": 5.0, "monthly": False, "day_score": False}
    assert astana["metrics"]["1.13"]["quarter"] is not None


def test_a_kpi_published_monthly_or_more_rarely_has_no_day_score(monitors: dict[str, dict[str, Any]],
                                                                  std: Standard) -> None:
    with_day = 0
    for body in monitors.values():
        for kpi_id, scores in body["metrics"].items():
            kpi = std.kpi(kpi_id)
            assert kpi is not None
            if kpi.periodicity in ("monthly", "quarterly", "annual"):
                assert scores["day"] is None and body["kpis"][kpi_id]["day_score"] is False, kpi_id
            else:
                with_day += scores["day"] is not None
    assert with_day > 0  # daily KPIs (1.8, 1.11) keep their day score


def test_cli_and_api_give_the_same_monitor(client: TestClient, demo: Demo, cli: Cli) -> None:
    """`cityscore monitor --db` computes from the stored daily values what the API serves (stored or computed)."""
    for extra, params in (([], {}), (["--as-of", "2026-06-30"], {"as_of": "2026-06-30"}),
                          (["--year", "2026"], {}), (["--overall-cap", "1000"], {"overall_cap": 1000})):
        out = json.loads(cli("monitor", "--db", str(demo.db), "-s", ASTANA, "-f", "json", *extra)[1])
        api = client.get(f"/api/v1/settlements/{ASTANA}/monitor", params=params).json()
        assert numbers(out) == numbers(api), extra
        assert out["input"] == {"warehouse": str(demo.db)}


def test_cli_monitor_of_every_settlement(demo: Demo, cli: Cli, monitors: dict[str, dict[str, Any]]) -> None:
    out = json.loads(cli("monitor", "--db", str(demo.db), "-f", "json")[1])
    assert {m["settlement"]: numbers(m) for m in out["settlements"]} == {k: numbers(v) for k, v in monitors.items()}
    code, text = cli("monitor", "--db", str(demo.db), "-s", ASTANA, "--year", "2025", ok=False)
    assert code == 1 and "no daily KPI values for 710000000 in 2025" in flat(text) and "Traceback" not in text
    code, text = cli("monitor", "--db", str(demo.db), "--year", "2026", "--as-of", "2025-12-31", ok=False)
    assert code == 2 and "is not in --year 2026" in flat(text)


def flat(text: str) -> str:
    """Command output on one line, without the frame of Typer's error box."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.fixture
def db(demo: Demo, tmp_path: Path) -> Path:
    copy = tmp_path / "cityscore.duckdb"
    shutil.copy(demo.db, copy)
    return copy


def test_daily_values_computed_again_are_never_served_from_a_stale_store(db: Path, cli: Cli) -> None:
    """Daily values changed after the monitor was stored: the stored one is not served (it is computed from the
    values stored now) until `cityscore compute --grain day` stores it again (D-66)."""
    with TestClient(create_app(db)) as client:
        before = client.get(f"/api/v1/settlements/{ASTANA}/monitor").json()
    assert before["source"] == "stored"
    with Warehouse(db) as wh:
        wh.con.execute("UPDATE kpi_values SET value = value * 2, computed_at = ? WHERE settlement = ? AND kpi = '3.3' "
                       "AND period_end = period_start", [utcnow(), ASTANA])
    with TestClient(create_app(db)) as client:
        changed = client.get(f"/api/v1/settlements/{ASTANA}/monitor").json()
    assert changed["source"] == "computed"
    assert changed["metrics"]["3.3"]["month"] == pytest.approx(2 * before["metrics"]["3.3"]["month"])
    cli("compute", "--year", "2026", "--grain", "day", "--db", str(db))
    with Warehouse(db, read_only=True) as wh:
        assert wh.rows("SELECT trigger FROM monitor_runs") == [("compute --year 2026 --grain day",)]
    with TestClient(create_app(db)) as client:
        again = client.get(f"/api/v1/settlements/{ASTANA}/monitor").json()
    assert again["source"] == "stored"
    assert again["metrics"]["3.3"]["month"] == pytest.approx(before["metrics"]["3.3"]["month"])  # computed again
    out = json.loads(cli("monitor", "--db", str(db), "-s", ASTANA, "-f", "json")[1])
    assert numbers(again) == numbers(out)  # what compute stored is what the values stored now give


def test_no_request_scores_anything(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages and the API of a scored warehouse answer with every scoring function out of reach."""
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a request scored")

    for target in ("cityscore.scoring.rating.score_settlement", "cityscore.scoring.rating.score_year",
                   "cityscore.scoring.trend.score_year", "cityscore.derived.settlement_monitor",
                   "cityscore.scoring.daily.monitor"):
        monkeypatch.setattr(target, refuse)
    with TestClient(create_app(db)) as client:
        for url in (f"/api/v1/settlements/{ASTANA}/score", f"/api/v1/settlements/{ASTANA}/monitor",
                    f"/settlements/{ASTANA}", f"/settlements/{KASKELEN}?lang=en", f"/fragments/monitor/{ASTANA}",
                    "/api/v1/scores", "/"):
            assert client.get(url).status_code == 200, url
        assert client.get(f"/api/v1/settlements/{ASTANA}/score").json()["trend"]


def test_a_day_outside_the_daily_values_is_a_clear_404(client: TestClient) -> None:
    for day in ("2025-06-30", "2030-01-01"):
        response = client.get(f"/api/v1/settlements/750000000/monitor?as_of={day}")
        assert response.status_code == 404, day
        assert "they run from" in response.json()["error"]
