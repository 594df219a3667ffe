"""Values a warehouse should never hold, but might (a NaN from a division, an infinity from an overflow, a text that
looks like a spreadsheet formula): every route still answers 200, JSON stays valid (``null``), CSV/XLSX cells are
empty or neutralised, pages show a dash."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityscore.api.app import create_app
from cityscore.publishing import dumps, finite, to_csv, to_xlsx
from cityscore.publishing.finite import loads

from ..conftest import Demo

ASTANA, ALMATY = "710000000", "750000000"
FORMULA = '=HYPERLINK("http://evil.example","click")'
CONTROL = "нет\x00данных\x0bза\x1fмесяц\x08"  # characters XML 1.0 cannot hold: openpyxl refuses them
NAN, INF = float("nan"), float("inf")


def _poison(db: Path) -> None:
    """NaN and ±inf in the stored scores (the result JSON and the score_kpis table) and in the KPI values of
    Astana; a formula-like reason, and one holding control characters (Almaty's)."""
    con = duckdb.connect(str(db))
    try:
        run_id = con.execute("SELECT max(run_id) FROM score_runs").fetchone()[0]  # type: ignore[index]
        text = con.execute("SELECT result_json FROM scores WHERE run_id = ? AND settlement = ?",
                           [run_id, ASTANA]).fetchone()[0]  # type: ignore[index]
        result = json.loads(text)
        result.update(cityscore=NAN, coverage=INF, base=-INF)
        first_section = next(iter(result["sections"]))
        result["sections"][first_section] = NAN
        for detail in result["section_details"].values():
            detail["index"] = NAN
        result["kpis"]["1.8"].update(actual=NAN, score=INF, points_at_stake=NAN, achieved=-INF)
        for item in result["improvements"]:
            item["points_at_stake"] = INF
        con.execute("UPDATE scores SET result_json = ?, cityscore = 'NaN'::DOUBLE WHERE run_id = ? AND settlement = ?",
                    [json.dumps(result), run_id, ASTANA])
        con.execute("UPDATE score_kpis SET actual = 'NaN'::DOUBLE, score = 'inf'::DOUBLE, reason = ? "
                    "WHERE run_id = ? AND settlement = ? AND kpi = '1.8'", [FORMULA, run_id, ASTANA])
        con.execute("UPDATE score_kpis SET actual = 'inf'::DOUBLE, target = 'NaN'::DOUBLE "
                    "WHERE run_id = ? AND settlement = ? AND kpi = '3.3'", [run_id, ASTANA])
        con.execute("UPDATE score_kpis SET target = '-inf'::DOUBLE, reason = ? WHERE run_id = ? AND settlement = ? "
                    "AND kpi = '1.8'", [CONTROL, run_id, ALMATY])
        con.execute("UPDATE kpi_values SET value = 'NaN'::DOUBLE WHERE settlement = ? AND kpi = '1.8'", [ASTANA])
        con.execute("UPDATE kpi_values SET value = 'inf'::DOUBLE WHERE settlement = ? AND kpi = '3.3'", [ASTANA])
        con.execute("UPDATE kpi_values SET numerator = 'inf'::DOUBLE WHERE settlement = ? AND numerator IS NOT NULL "
                    "AND kpi = (SELECT min(kpi) FROM kpi_values WHERE settlement = ? AND numerator IS NOT NULL)",
                    [ASTANA, ASTANA])
        con.execute("UPDATE observations SET value = 'NaN'::DOUBLE WHERE settlement = ?", [ASTANA])
    finally:
        con.close()


@pytest.fixture(scope="module")
def bad_client(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("bad-values") / "cityscore.duckdb"
    shutil.copy(demo.db, db)
    _poison(db)
    with TestClient(create_app(db)) as client:
        yield client


def _strict(text: str) -> Any:
    """JSON as a browser's JSON.parse reads it: NaN / Infinity are syntax errors."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


JSON_ROUTES = ["/api/v1/scores", "/api/v1/scores?category=republican", f"/api/v1/settlements/{ASTANA}/score",
               f"/api/v1/settlements/{ASTANA}/monitor", f"/api/v1/settlements/{ASTANA}/monitor?as_of=2026-06-30",
               f"/api/v1/settlements/{ASTANA}/monitor?overall_cap=1000", "/api/v1/ratings/republican",
               "/api/v1/kpis/1.8/distribution", "/api/v1/kpis/3.3/distribution"]
TABLE_ROUTES = ["/api/v1/scores", f"/api/v1/settlements/{ASTANA}/score", f"/api/v1/settlements/{ASTANA}/monitor",
                "/api/v1/ratings/republican", "/api/v1/kpis/1.8/distribution"]
PAGES = ["/", "/?lang=en", "/fragments/rankings", f"/settlements/{ASTANA}", f"/settlements/{ASTANA}?lang=kk",
         f"/fragments/monitor/{ASTANA}", "/kpis/1.8", "/kpis/3.3"]
NON_FINITE_TEXT = re.compile(r"\b(nan|inf|infinity)\b|∞", re.IGNORECASE)


@pytest.mark.parametrize("url", JSON_ROUTES)
def test_json_routes_answer_with_null(bad_client: TestClient, url: str) -> None:
    response = bad_client.get(url)
    assert response.status_code == 200, response.text
    _strict(response.text)


def test_the_non_finite_values_are_null(bad_client: TestClient) -> None:
    scores = _strict(bad_client.get("/api/v1/scores").text)
    astana = next(r for r in scores["results"] if r["settlement"] == ASTANA)
    assert astana["cityscore"] is None and astana["coverage"] is None and astana["base"] is None
    assert astana["kpis"]["1.8"]["actual"] is None and astana["kpis"]["1.8"]["score"] is None
    values = {v["settlement"]: v for v in _strict(bad_client.get("/api/v1/kpis/1.8/distribution").text)["values"]}
    assert values[ASTANA]["actual"] is None and values[ASTANA]["score"] is None and values[ALMATY]["target"] is None
    summary = _strict(bad_client.get("/api/v1/kpis/1.8/distribution").text)["summary"]
    assert all(math.isfinite(n) for s in summary.values() for n in s.values())
    monitor = _strict(bad_client.get(f"/api/v1/settlements/{ASTANA}/monitor").text)
    assert all(v is None or math.isfinite(v) for m in monitor["metrics"].values() for v in m.values())


@pytest.mark.parametrize("url", TABLE_ROUTES)
def test_tables_have_empty_cells(bad_client: TestClient, url: str) -> None:
    as_csv = bad_client.get(url, params={"format": "csv"})
    assert as_csv.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(as_csv.text)) for c in row]
    assert not [c for c in cells if NON_FINITE_TEXT.fullmatch(c.strip())]
    as_xlsx = bad_client.get(url, params={"format": "xlsx"})
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert not [v for v in values if isinstance(v, float) and not math.isfinite(v)]
    assert not [v for v in values if isinstance(v, str) and NON_FINITE_TEXT.fullmatch(v.strip())]


def test_a_stored_formula_is_neutralised_in_the_exports(bad_client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(bad_client.get("/api/v1/kpis/1.8/distribution?format=csv").text)))
    assert next(r for r in rows if r["settlement"] == ASTANA)["reason"] == "'" + FORMULA
    content = bad_client.get("/api/v1/kpis/1.8/distribution?format=xlsx").content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        cell = row[header.index("reason")]
        if row[header.index("settlement")].value == ASTANA:
            assert cell.value == "'" + FORMULA and cell.data_type == "s"


def test_control_characters_are_replaced_in_xlsx(bad_client: TestClient) -> None:
    response = bad_client.get("/api/v1/kpis/1.8/distribution?format=xlsx")
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    (row,) = [r for r in sheet.iter_rows(min_row=2) if r[header.index("settlement")].value == ALMATY]
    assert row[header.index("reason")].value == "нет\ufffdданных\ufffdза\ufffdмесяц\ufffd"
    rows = list(csv.DictReader(io.StringIO(bad_client.get("/api/v1/kpis/1.8/distribution?format=csv").text)))
    assert next(r for r in rows if r["settlement"] == ALMATY)["reason"] == CONTROL  # CSV can hold them as they are


def test_xlsx_replaces_every_illegal_character() -> None:
    # the control characters openpyxl refuses, then those it writes into a file that does not open
    illegal = "".join(chr(c) for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xD800, 0xDFFF, 0xFFFE,
                                       0xFFFF])
    rows = [{"name_ru": "Аст\x00ана", "message": "row 3:\x0b bad\x1f", "kept": "tab\tline\nend \ufffd😀",
             "\x01=head": 1, "formula": "\x00=1+1", "all": illegal, "n": 2}]
    sheet = load_workbook(io.BytesIO(to_xlsx(rows, sheet="bad\x07sheet"))).worksheets[0]
    assert sheet.title == "bad\ufffdsheet"
    header = [c.value for c in sheet[1]]
    assert header == ["name_ru", "message", "kept", "\ufffd=head", "formula", "all", "n"]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["name_ru"] == "Аст\ufffdана" and values["message"] == "row 3:\ufffd bad\ufffd"
    assert values["kept"] == "tab\tline\nend \ufffd😀"  # tab, line feed (and carriage return) are legal in XML
    assert values["formula"] == "\ufffd=1+1" and sheet["E2"].data_type == "s"
    assert values["all"] == "\ufffd" * len(illegal) and values["\ufffd=head"] == 1 and values["n"] == 2


@pytest.mark.parametrize("url", PAGES)
def test_pages_show_a_dash(bad_client: TestClient, url: str) -> None:
    response = bad_client.get(url)
    assert response.status_code == 200, url
    found = NON_FINITE_TEXT.findall(re.sub(r"<script[^>]*>.*?</script>", "", response.text, flags=re.S))
    assert not found, found
    for data in re.findall(r'<script type="application/json" class="chart-data">(.*?)</script>', response.text,
                           flags=re.S):
        _strict(data)


def test_the_serialisers_on_their_own() -> None:
    data = {"a": NAN, "b": [INF, -INF, 1.5, {"c": NAN}], "d": (2, NAN), "e": "nan", "f": -3}
    assert finite(data) == {"a": None, "b": [None, None, 1.5, {"c": None}], "d": [2, None], "e": "nan", "f": -3}
    assert json.loads(dumps(data)) == finite(data)
    assert loads('{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999, "e": -1.5, "f": 2}') == {
        "a": None, "b": None, "c": None, "d": None, "e": -1.5, "f": 2}
    rows = list(csv.reader(io.StringIO(to_csv([{"nan": NAN, "inf": INF, "-inf": -INF, "n": -1.25}]))))
    assert rows == [["nan", "inf", "'-inf", "n"], ["", "", "", "-1.25"]]
    sheet = load_workbook(io.BytesIO(to_xlsx([{"nan": NAN, "inf": INF, "n": -1.25}]))).worksheets[0]
    assert [c.value for c in sheet[2]] == [None, None, -1.25]
