"""Every route of /api/v1 against the demo warehouse: the data it returns is the data stored, in JSON, CSV and XLSX;
errors have one shape; ETags and 304s; a locked warehouse answers 503."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse

from ..conftest import Demo
from .conftest import Clock

ASTANA = "710000000"


def stored_results(demo: Demo) -> dict[str, dict[str, object]]:
    with Warehouse(demo.db, read_only=True) as wh:
        run_id = wh.scalar("SELECT max(run_id) FROM score_runs WHERE year = 2026")
        return {r[0]: json.loads(r[1]) for r in wh.rows("SELECT settlement, result_json FROM scores WHERE run_id = ?",
                                                       [run_id])}


def test_initiatives_and_kpis_are_the_catalog(client: TestClient, std: Standard) -> None:
    initiatives = client.get("/api/v1/standard/initiatives").json()
    assert [i["number"] for i in initiatives] == [i.number for i in std.initiatives]
    kpis = client.get("/api/v1/standard/kpis").json()
    assert [k["id"] for k in kpis] == [k.id for k in std.kpis]
    only_7 = client.get("/api/v1/standard/kpis", params={"initiative": 7}).json()
    assert {k["id"] for k in only_7} == {k.id for k in std.kpis if k.initiative == 7}
    district = client.get("/api/v1/standard/kpis", params={"category": "district"}).json()
    assert {k["id"] for k in district} == {k.id for k in std.kpis if std.kpi_applies(k, "district")}
    one = client.get("/api/v1/standard/kpis/1.8").json()
    assert one["id"] == "1.8" and one["weight_points"] == 10


def test_settlements(client: TestClient) -> None:
    registry = load_registry()
    rows = client.get("/api/v1/settlements").json()
    assert len(rows) == 213 == len(registry)
    republican = client.get("/api/v1/settlements", params={"category": "republican"}).json()
    assert {r["kato"] for r in republican} == {"710000000", "750000000", "790000000"}
    region = client.get("/api/v1/settlements", params={"region": "35"}).json()
    assert region and all(r["region_code"] == "35" for r in region)
    assert client.get(f"/api/v1/settlements/{ASTANA}").json()["name_en"] == "Astana"


def test_scores_are_the_stored_run(client: TestClient, demo: Demo) -> None:
    stored = stored_results(demo)
    body = client.get("/api/v1/scores").json()
    assert body["year"] == 2026 and body["standard_version"] == "469/НК-2025"
    assert {r["settlement"]: r["cityscore"] for r in body["results"]} == {k: v["cityscore"] for k, v in stored.items()}
    oblast = client.get("/api/v1/scores", params={"category": "oblast", "year": 2026}).json()["results"]
    assert oblast and {r["category"] for r in oblast} == {"oblast"}


def test_settlement_score_explains_itself(client: TestClient, demo: Demo) -> None:
    body = client.get(f"/api/v1/settlements/{ASTANA}/score").json()
    stored = stored_results(demo)[ASTANA]
    assert body["cityscore"] == stored["cityscore"] and body["kpis"] == stored["kpis"]
    assert body["sections"] == stored["sections"] and body["improvements"] == stored["improvements"]
    # the trend: CityScore year to date after each month of the year, the last one the year's monitoring score
    assert [p["month"] for p in body["trend"]] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert all(0 <= p["cityscore"] <= 100 for p in body["trend"])


def test_monitor_windows(client: TestClient) -> None:
    body = client.get(f"/api/v1/settlements/{ASTANA}/monitor").json()
    assert body["as_of"] == "2026-12-31" and body["overall_cap"] == 2.0
    assert {w: v["days"] for w, v in body["windows"].items()} == {"day": 1, "week": 7, "month": 30, "quarter": 90}
    assert body["windows"]["quarter"]["start"] == "2026-10-03"
    assert "1.8" in body["metrics"]
    for window, overall in body["overall"].items():
        scores = [m[window] for m in body["metrics"].values() if m[window] is not None]
        assert overall == pytest.approx(sum(min(s, 2.0) for s in scores) / len(scores))
    plain = client.get(f"/api/v1/settlements/{ASTANA}/monitor", params={"overall_cap": 1000}).json()
    scores = [m["quarter"] for m in plain["metrics"].values() if m["quarter"] is not None]
    assert plain["overall"]["quarter"] == pytest.approx(sum(scores) / len(scores))
    earlier = client.get(f"/api/v1/settlements/{ASTANA}/monitor", params={"as_of": "2026-06-30"}).json()
    assert earlier["as_of"] == "2026-06-30" and earlier["windows"]["week"]["start"] == "2026-06-24"


def test_monthly_quantities_are_monitored_per_month(client: TestClient, demo: Demo) -> None:
    """3.3 (payments per month, target ≥ a monthly number): the month window compares ~a month of payments with
    the target, not one day's (decisions.md D-39)."""
    body = client.get(f"/api/v1/settlements/{ASTANA}/monitor").json()
    with Warehouse(demo.db, read_only=True) as wh:
        daily = [r[0] for r in wh.rows("SELECT value FROM kpi_values WHERE settlement = ? AND kpi = '3.3' AND "
                                       "period_end = period_start AND period_start > DATE '2026-12-01' ",
                                       [ASTANA])]
    month_target = 1_000_000  # 3.3, republican: ≥ 1 000 000 payments a month
    expected = (sum(daily) / len(daily)) * 365.25 / 12 / month_target
    assert body["metrics"]["3.3"]["month"] == pytest.approx(expected)


def test_rating_of_a_category_is_ordered_by_rank(client: TestClient) -> None:
    body = client.get("/api/v1/ratings/district").json()
    ranks = [r["rank"] for r in body["ratings"]]
    assert body["category"] == "district" and ranks == sorted(ranks) and ranks[0] == 1
    scores = [r["cityscore"] for r in body["ratings"]]
    assert scores == sorted(scores, reverse=True)
    assert set(body["ratings"][0]) >= {"band", "movement", "coverage", "cityscore", "settlement"}


def test_distribution_of_a_kpi(client: TestClient, demo: Demo) -> None:
    body = client.get("/api/v1/kpis/1.8/distribution").json()
    stored = stored_results(demo)
    assert len(body["values"]) == 213
    for value in body["values"]:
        outcome = stored[value["settlement"]]["kpis"].get("1.8")
        assert outcome is not None and value["actual"] == outcome["actual"] and value["score"] == outcome["score"]
    counted = [v["actual"] for v in body["values"] if v["category"] == "oblast" and v["actual"] is not None]
    assert body["summary"]["oblast"]["count"] == len(counted)
    assert body["summary"]["oblast"]["max"] == max(counted)


def test_years(client: TestClient) -> None:
    assert client.get("/api/v1/years").json() == {"years": [2026]}


TABLES = [
    "/api/v1/standard/initiatives", "/api/v1/standard/kpis", "/api/v1/standard/kpis/1.8", "/api/v1/settlements",
    f"/api/v1/settlements/{ASTANA}", "/api/v1/scores", f"/api/v1/settlements/{ASTANA}/score",
    f"/api/v1/settlements/{ASTANA}/monitor", "/api/v1/ratings/oblast", "/api/v1/kpis/1.8/distribution",
]


@pytest.mark.parametrize("url", TABLES)
def test_every_table_as_csv_and_xlsx(client: TestClient, url: str) -> None:
    as_csv = client.get(url, params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)
    as_xlsx = client.get(url, params={"format": "xlsx"})
    assert as_xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert [str(c) for c in cells[0]] == rows[0] and len(cells) == len(rows)


def test_csv_of_the_rating_has_the_scores(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/ratings/republican?format=csv").text)))
    assert [r["settlement"] for r in rows] == [r["settlement"] for r in
                                               client.get("/api/v1/ratings/republican").json()["ratings"]]
    assert {"sections.city_management", "band", "rank"} <= set(rows[0])


@pytest.mark.parametrize(("url", "status", "says"), [
    ("/api/v1/settlements/999999999", 404, "No settlement with KATO code 999999999"),
    ("/api/v1/settlements/12345/score", 422, "path.kato"),
    ("/api/v1/kpis/99.9/distribution", 404, "No KPI '99.9'"),
    ("/api/v1/standard/kpis/99.9", 404, "No KPI '99.9'"),
    ("/api/v1/scores?year=2031", 404, "No scores for 2031. Years with scores: 2026"),
    ("/api/v1/scores?format=pdf", 422, "query.format"),
    ("/api/v1/ratings/village", 422, "path.category"),
    ("/api/v1/settlements/710000000/monitor?as_of=yesterday", 422, "query.as_of"),
    ("/api/v1/nothing-here", 404, "Not Found"),
])
def test_every_error_has_one_shape(client: TestClient, url: str, status: int, says: str) -> None:
    response = client.get(url)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"ok", "error", "errors", "status"}
    assert body["ok"] is False and body["status"] == status and says in body["error"]
    if status == 422:
        assert body["errors"] and {"location", "message", "type"} <= set(body["errors"][0])


def test_etag_and_304(client: TestClient) -> None:
    first = client.get("/api/v1/ratings/oblast")
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/api/v1/ratings/oblast", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = client.get("/api/v1/ratings/district")
    assert other.headers["etag"] != tag
    assert client.get("/api/v1/ratings/oblast", headers={"If-None-Match": '"stale"'}).status_code == 200
    for header in (f"W/{tag}", "*", f'"other", {tag}', f'"other", W/{tag}'):  # weak comparison, lists, any
        assert client.get("/api/v1/ratings/oblast", headers={"If-None-Match": header}).status_code == 304, header
    assert "etag" not in client.get("/api/v1/settlements/999999999").headers


def test_gzip_when_asked(client: TestClient) -> None:
    zipped = client.get("/api/v1/scores", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/api/v1/scores", headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.json() == plain.json() and zipped.headers["etag"] != plain.headers["etag"]


def test_a_new_scoring_run_changes_the_etag_and_the_data(demo: Demo, tmp_path: object) -> None:
    """The server reads the warehouse afresh when it changes: a `cityscore score` while it runs is served on the
    next request (after at most a second)."""
    import shutil
    from pathlib import Path

    from cityscore.api.app import create_app

    db = Path(str(tmp_path)) / "copy.duckdb"
    shutil.copy(demo.db, db)
    clock = Clock()
    with TestClient(create_app(db, clock=clock)) as client:
        before = client.get("/api/v1/scores")
        with Warehouse(db) as wh:
            wh.con.execute("UPDATE score_runs SET standard_version = 'amended' WHERE run_id = "
                           "(SELECT max(run_id) FROM score_runs)")
        clock.advance(1.0)
        after = client.get("/api/v1/scores", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.json()["standard_version"] == "amended"
    assert after.headers["etag"] != before.headers["etag"]


def test_a_warehouse_being_written_answers_503(demo: Demo, tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    from cityscore.api.app import create_app

    db = Path(str(tmp_path)) / "locked.duckdb"
    shutil.copy(demo.db, db)
    with subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                           f"con = duckdb.connect({str(db)!r})\nprint('locked', flush=True)\ntime.sleep(30)"],
                          stdout=subprocess.PIPE, text=True) as writer:
        try:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
            with TestClient(create_app(db)) as client:
                response = client.get("/api/v1/scores")
                page = client.get("/")
        finally:
            writer.kill()
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "locked by another process" in response.json()["error"]
    assert page.status_code == 503 and "<html" in page.text


def test_openapi_and_its_documentation_are_served_locally(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/standard/initiatives", "/api/v1/standard/kpis", "/api/v1/standard/kpis/{kpi_id}",
            "/api/v1/settlements", "/api/v1/settlements/{kato}", "/api/v1/scores",
            "/api/v1/settlements/{kato}/score", "/api/v1/settlements/{kato}/monitor",
            "/api/v1/ratings/{category}", "/api/v1/kpis/{kpi_id}/distribution"} <= paths
    assert not any(p.startswith("/fragments") or p == "/" for p in paths)
    assert schema["paths"]["/api/v1/scores"]["get"]["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"}
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
