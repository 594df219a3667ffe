"""Every response that serves the scores of a run says whether they are stale: ``"stale"`` is
``Staleness.to_json()`` of the published run (store/changes.py), alongside the keys clients already read. A data
change recorded after the run (a batch loaded, replaced or deleted; KPI values computed again) shows on the next
request (within a second: the response cache and the repository cache follow the warehouse file), one of another
year or from before the run does not."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityscore.api.app import create_app
from cityscore.publishing import Repository
from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse
from cityscore.store.warehouse import utcnow

from ..conftest import Demo
from .conftest import Clock

ASTANA = "710000000"
SCORE_ROUTES = ["/api/v1/scores", f"/api/v1/settlements/{ASTANA}/score", "/api/v1/ratings/republican",
                "/api/v1/kpis/1.8/distribution"]
# the keys each response had before "stale" was added: none may go
KEYS = {
    "/api/v1/scores": {"standard_version", "policy", "year", "run_id", "results"},
    f"/api/v1/settlements/{ASTANA}/score": {"standard_version", "policy", "year", "run_id", "settlement", "cityscore",
                                            "kpis", "sections", "improvements", "trend"},
    "/api/v1/ratings/republican": {"standard_version", "policy", "year", "run_id", "category", "ratings"},
    "/api/v1/kpis/1.8/distribution": {"kpi", "year", "run_id", "unit", "values", "summary"},
}


def run_created(db: Path) -> datetime:
    with Warehouse(db, read_only=True) as wh:
        created: datetime = wh.scalar("SELECT created_at FROM score_runs WHERE run_id = "
                                      "(SELECT max(run_id) FROM score_runs WHERE year = 2026)")
    return created


def record_change(db: Path, *, year: int = 2026, kind: str = "deleted", table: str = "incidents",
                  changed_at: datetime | None = None) -> int:
    """A row of data_changes as ingest/commit.py writes it for a batch deleted, replaced or loaded: one settlement,
    the span of time its rows covered, when. Returns the batch."""
    with Warehouse(db) as wh:
        batch = int(wh.scalar("SELECT coalesce(min(batch_id), 1) FROM batches WHERE table_name = ?", [table]))
        wh.con.execute("INSERT INTO data_changes (change_id, kind, table_name, batch_id, by_batch, settlement, "
                       "first_at, last_at, rows, changed_at, note) VALUES (nextval('change_ids'), ?, ?, ?, NULL, ?, ?, "
                       "?, 12, ?, NULL)", [kind, table, batch, ASTANA, datetime(year, 1, 1),
                                           datetime(year, 12, 31, 23, 0), changed_at or utcnow()])
    return batch


@pytest.fixture
def db(demo: Demo, tmp_path: Path) -> Path:
    copy = tmp_path / "cityscore.duckdb"
    shutil.copy(demo.db, copy)
    return copy


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fresh(db: Path, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(db, clock=clock)) as client:
        yield client


@pytest.mark.parametrize("url", SCORE_ROUTES)
def test_a_fresh_run_is_not_stale(client: TestClient, demo: Demo, url: str) -> None:
    body = client.get(url).json()
    assert KEYS[url] <= set(body), KEYS[url] - set(body)
    assert body["stale"] == {"stale": False, "since": run_created(demo.db).isoformat(sep=" "), "changes": [],
                             "kpi_values_recomputed": False}


def test_a_data_change_after_the_run_makes_every_score_response_stale(fresh: TestClient, db: Path,
                                                                      clock: Clock) -> None:
    before = {url: fresh.get(url) for url in SCORE_ROUTES}
    csv_before = fresh.get("/api/v1/scores", params={"format": "csv"}).text
    assert all(r.json()["stale"]["stale"] is False for r in before.values())
    batch = record_change(db)
    clock.advance(1.0)  # the server looks at the warehouse file at most once a second
    for url, old in before.items():
        response = fresh.get(url, headers={"If-None-Match": old.headers["etag"]})
        assert response.status_code == 200 and response.headers["etag"] != old.headers["etag"], url
        body = response.json()
        assert body["stale"] == {"stale": True, "since": run_created(db).isoformat(sep=" "),
                                 "changes": [{"kind": "deleted", "table": "incidents", "batch_id": batch,
                                              "settlements": 1}],
                                 "kpi_values_recomputed": False}, url
        # nothing else of the response changed: the scores shown are still the stored run's
        assert {k: v for k, v in body.items() if k != "stale"} == {k: v for k, v in old.json().items()
                                                                  if k != "stale"}, url
    # the tables keep their columns
    assert fresh.get("/api/v1/scores", params={"format": "csv"}).text == csv_before


def kpi_values_computed(db: Path) -> datetime:
    with Warehouse(db, read_only=True) as wh:
        computed: datetime = wh.scalar("SELECT max(computed_at) FROM kpi_values WHERE year(period_start) = 2026 "
                                       "AND period_end > period_start")
    return computed


@pytest.mark.parametrize(("year", "shift"), [(2025, timedelta(hours=1)), (2027, timedelta(hours=1)),
                                             (2026, None)],
                         ids=["another-year", "a-later-year", "before-the-kpi-values"])
def test_a_change_of_another_year_or_before_the_kpi_values_is_not_stale(db: Path, year: int,
                                                                         shift: timedelta | None) -> None:
    when = run_created(db) + shift if shift else kpi_values_computed(db) - timedelta(seconds=1)
    record_change(db, year=year, changed_at=when)
    with TestClient(create_app(db)) as client:
        for url in SCORE_ROUTES:
            assert client.get(url).json()["stale"]["stale"] is False, url


def test_scoring_again_without_computing_keeps_the_scores_stale(db: Path) -> None:
    """Raw records changed after the KPI values were computed and before the run: the run scored stale KPI values,
    so it is stale until `cityscore compute` and then `cityscore score` run."""
    computed, created = kpi_values_computed(db), run_created(db)
    assert computed < created
    batch = record_change(db, table="contact_center_calls", kind="loaded",
                          changed_at=computed + (created - computed) / 2)
    with TestClient(create_app(db)) as client:
        body = client.get("/api/v1/scores").json()
    assert body["stale"]["stale"] is True
    assert body["stale"]["changes"] == [{"kind": "loaded", "table": "contact_center_calls", "batch_id": batch,
                                         "settlements": 1}]


@pytest.mark.parametrize(("monthly", "stale"), [(True, True), (False, False)], ids=["per-month", "per-day"])
def test_kpi_values_computed_again(db: Path, monthly: bool, stale: bool) -> None:
    """Scores are computed from the monthly KPI values: computing those again makes them stale; computing the
    monitor's daily values again does not."""
    later = run_created(db) + timedelta(minutes=5)
    with Warehouse(db) as wh:
        wh.con.execute("UPDATE kpi_values SET computed_at = ? WHERE year(period_start) = 2026 AND "
                       + ("period_end > period_start" if monthly else "period_end = period_start"), [later])
    with TestClient(create_app(db)) as client:
        body = client.get("/api/v1/scores").json()
    assert body["stale"]["stale"] is stale and body["stale"]["kpi_values_recomputed"] is stale
    assert body["stale"]["changes"] == []


def test_the_repository_caches_the_staleness_until_the_warehouse_changes(db: Path, std: Standard,
                                                                        clock: Clock) -> None:
    repo = Repository(db, std, load_registry(), clock=clock)
    first = repo.staleness(2026)
    assert not first.stale and repo.staleness() is first  # cached: no second read
    record_change(db, table="observations", kind="loaded")
    clock.advance(0.9)
    assert repo.staleness(2026) is first  # the file is looked at again only a second (of the clock) later
    clock.advance(0.1)
    now = repo.staleness(2026)
    assert now.stale and now.changes[0][:2] == ("loaded", "observations")
    assert now.describe().startswith("batch ")
