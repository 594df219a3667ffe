"""The edges of the API and the pages: extreme dates and years are 422s that say the allowed range; HEAD answers
every GET route; other methods get 405 with ``Allow``; CSV/XLSX cells never run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityscore.publishing import to_csv, to_xlsx
from cityscore.publishing.window import DAY_PATTERN, FIRST_YEAR, LAST_YEAR

ASTANA = "710000000"
EXTREME_DAYS = ["0001-01-01", "0001-03-01", "1999-12-31", "2101-01-01", "9999-12-31"]
EXTREME_YEARS = ["0", "1", "1999", "2101", "9999", "-2026", "99999999999999999999999"]
API_YEAR_ROUTES = ["/api/v1/scores", f"/api/v1/settlements/{ASTANA}/score", "/api/v1/ratings/oblast",
                   "/api/v1/kpis/1.8/distribution"]
PAGE_YEAR_ROUTES = ["/", "/fragments/rankings", f"/settlements/{ASTANA}", f"/fragments/monitor/{ASTANA}", "/kpis/1.8"]
PAGE_DAY_ROUTES = [f"/settlements/{ASTANA}", f"/fragments/monitor/{ASTANA}"]


def assert_api_422(response: Any, parameter: str, first: str, last: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "errors", "status"} and body["ok"] is False and body["status"] == 422
    assert f"query.{parameter}" in body["error"] and first in body["error"] and last in body["error"]
    assert body["errors"][0]["location"] == ["query", parameter]
    assert first in body["errors"][0]["message"] and last in body["errors"][0]["message"]


# --- 1. the window of days and years ----------------------------------------------------------------------------
@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_an_extreme_monitor_date_is_a_422_with_the_range(client: TestClient, day: str) -> None:
    response = client.get(f"/api/v1/settlements/{ASTANA}/monitor", params={"as_of": day})
    assert_api_422(response, "as_of", "2000-01-01", "2100-12-31")


def test_the_window_is_inclusive(client: TestClient) -> None:
    url = f"/api/v1/settlements/{ASTANA}/monitor"
    for day in ("2000-01-01", "2100-12-31"):
        answer = client.get(url, params={"as_of": day})  # inside the window: accepted; no daily values then
        assert answer.status_code == 404 and "they run from" in answer.json()["error"]
        assert client.get(f"/settlements/{ASTANA}", params={"as_of": day}).status_code == 200
    for day in ("1999-12-31", "2101-01-01"):
        assert_api_422(client.get(url, params={"as_of": day}), "as_of", "2000-01-01", "2100-12-31")
    assert client.get("/api/v1/scores", params={"year": 2100}).status_code == 404  # inside: no scores that year
    assert_api_422(client.get("/api/v1/scores", params={"year": 2101}), "year", "2000", "2100")


@pytest.mark.parametrize("url", API_YEAR_ROUTES)
@pytest.mark.parametrize("year", EXTREME_YEARS)
def test_an_extreme_year_is_a_422_with_the_range(client: TestClient, url: str, year: str) -> None:
    assert_api_422(client.get(url, params={"year": year}), "year", "2000", "2100")


@pytest.mark.parametrize("url", PAGE_YEAR_ROUTES)
@pytest.mark.parametrize("year", ["1", "9999", "99999999999999999999999"])
def test_pages_answer_an_extreme_year_with_an_error_page(client: TestClient, url: str, year: str) -> None:
    response = client.get(url, params={"year": year})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and "from 2000 to 2100" in response.text


@pytest.mark.parametrize("url", PAGE_DAY_ROUTES)
@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_pages_answer_an_extreme_date_with_an_error_page(client: TestClient, url: str, day: str) -> None:
    response = client.get(url, params={"as_of": day})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and "from 2000-01-01 to 2100-12-31" in response.text


def test_the_schema_states_the_window(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    year = next(p for p in schema["paths"]["/api/v1/scores"]["get"]["parameters"] if p["name"] == "year")
    assert {"type": "integer", "minimum": 2000, "maximum": 2100} in year["schema"]["anyOf"]
    as_of = next(p for p in schema["paths"]["/api/v1/settlements/{kato}/monitor"]["get"]["parameters"]
                 if p["name"] == "as_of")
    assert "2000-01-01" in as_of["description"] and "2100-12-31" in as_of["description"]
    day = next(s for s in as_of["schema"]["anyOf"] if s.get("format") == "date")
    assert day["pattern"] == DAY_PATTERN  # generated requests (schemathesis) stay inside the window
    inside = {y for y in range(1900, 2300) if re.match(DAY_PATTERN, f"{y:04d}-06-15")}
    assert inside == set(range(FIRST_YEAR, LAST_YEAR + 1)) and not re.match(DAY_PATTERN, "12026-06-15")


# --- 2. HEAD and 405 --------------------------------------------------------------------------------------------
GET_ROUTES = [
    "/api/v1/standard/initiatives", "/api/v1/standard/kpis", "/api/v1/standard/kpis/1.8", "/api/v1/settlements",
    f"/api/v1/settlements/{ASTANA}", "/api/v1/scores", "/api/v1/scores?format=csv",
    f"/api/v1/settlements/{ASTANA}/score", f"/api/v1/settlements/{ASTANA}/monitor", "/api/v1/ratings/district",
    "/api/v1/kpis/1.8/distribution?format=xlsx", "/api/v1/years", "/openapi.json", "/docs", "/healthz",
    "/", "/?lang=en", "/fragments/rankings", f"/settlements/{ASTANA}", f"/fragments/monitor/{ASTANA}", "/kpis/1.8",
    "/methodology", "/static/favicon.svg", "/static/app.css", "/static/vendor/htmx/htmx.min.js",
    "/api/v1/settlements/999999999", "/no/such/page",
]


def test_head_is_the_get_without_its_body(client: TestClient) -> None:
    """On every GET route, and whether the response cache has the GET yet or not: the same status and headers
    (ETag, Content-Length, Content-Encoding …), no body."""
    def fresh(method: str, url: str) -> Any:
        client.cookies.clear()  # the language cookie set by one request must not change the next one
        return client.request(method, url)

    differences = []
    for route in GET_ROUTES:
        for first in ("HEAD", "GET"):
            url = f"{route}{'&' if '?' in route else '?'}order={first}"  # a URL of its own: not cached yet
            if first == "HEAD":
                head = fresh("HEAD", url)
                get = fresh("GET", url)
            else:
                get = fresh("GET", url)
                head = fresh("HEAD", url)
            assert get.content != b"", url
            if (head.status_code, dict(head.headers), head.content) != (get.status_code, dict(get.headers), b""):
                differences.append((url, head.status_code, get.status_code, dict(head.headers), dict(get.headers)))
    assert not differences


def test_head_gets_304_for_a_matching_etag(client: TestClient) -> None:
    url = "/api/v1/ratings/oblast"
    tag = client.head(url).headers["etag"]
    assert tag == client.get(url).headers["etag"]
    again = client.head(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag and again.content == b""
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    page = client.head("/methodology")
    assert client.head("/methodology", headers={"If-None-Match": page.headers["etag"]}).status_code == 304


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("url", ["/api/v1/scores", f"/api/v1/settlements/{ASTANA}/monitor", "/openapi.json",
                                 "/static/favicon.svg"])
def test_other_methods_get_405_with_allow_in_the_json_shape(client: TestClient, url: str, method: str) -> None:
    response = client.request(method, url)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    body = response.json()
    assert set(body) == {"ok", "error", "errors", "status"} and body["ok"] is False and body["status"] == 405
    assert "GET, HEAD" in body["error"] and method in body["error"]


@pytest.mark.parametrize("url", ["/", f"/settlements/{ASTANA}", "/methodology", f"/fragments/monitor/{ASTANA}"])
def test_pages_answer_405_with_allow_and_an_error_page(client: TestClient, url: str) -> None:
    response = client.post(url)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.headers["content-type"].startswith("text/html") and "<html" in response.text


# --- 3. no formulas in CSV / XLSX ---------------------------------------------------------------------------------
FORMULA_ROW = {"equals": "=HYPERLINK(\"http://evil.example\",\"click\")", "plus": "+7 701 000 00 00",
               "minus": "-2+3", "at": "@SUM(A1:A2)", "tab": "\t=1+1", "cr": "\r=1+1", "plain": "Астана",
               "inner": "a=b", "negative_int": -3, "negative_float": -2.5, "zero": 0, "flag": True, "none": None,
               "nested": {"name": "=1+1"}, "list": ["-1", "x"]}
NEUTRALISED = {"equals": "'=HYPERLINK(\"http://evil.example\",\"click\")", "plus": "'+7 701 000 00 00",
               "minus": "'-2+3", "at": "'@SUM(A1:A2)", "tab": "'\t=1+1", "cr": "'\r=1+1", "plain": "Астана",
               "inner": "a=b", "nested.name": "'=1+1", "list": "'-1; x"}


def test_csv_cells_never_start_a_formula() -> None:
    text = to_csv([FORMULA_ROW])
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 1 and text.count("\n") == 2  # the carriage return is inside a quoted cell
    for column, text in NEUTRALISED.items():
        assert rows[0][column] == text, column
    assert rows[0]["negative_int"] == "-3" and rows[0]["negative_float"] == "-2.5" and rows[0]["zero"] == "0"
    assert rows[0]["none"] == "" and rows[0]["flag"] == "True"


def test_xlsx_cells_are_strings_never_formulas_and_numbers_stay_numbers() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx([FORMULA_ROW]))).worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = {name: sheet.cell(row=2, column=i + 1) for i, name in enumerate(header)}
    for column, text in NEUTRALISED.items():  # (XML reads a carriage return as a line feed)
        assert cells[column].value == text.replace("\r", "\n") and cells[column].data_type == "s", column
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert cells["negative_int"].value == -3 and cells["negative_int"].data_type == "n"
    assert cells["negative_float"].value == -2.5 and cells["negative_float"].data_type == "n"
    assert cells["zero"].value == 0 and cells["flag"].value is True and cells["none"].value is None
