"""Every page of the dashboard in every language, as the server renders it: what a reader sees, the language and its
cookie, the numbers as stored, links that work, no asset from the internet, errors as pages."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from cityscore.standard import Standard
from cityscore.store import Warehouse
from cityscore.web.i18n import Locale

from ..conftest import Demo

ASTANA = "710000000"
PAGES = ["/", f"/settlements/{ASTANA}", "/settlements/391610000", "/kpis/1.8", "/kpis/4.1", "/methodology"]
LANGS = ("ru", "kk", "en")


class Page(HTMLParser):
    """The bits of a page the tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.assets: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.h1 = ""
        self._in_h1 = False
        self.text: list[str] = []
        self.charts: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag in ("script", "img") and a.get("src"):
            self.assets.append(str(a["src"]))
        if tag == "link" and a.get("rel") in ("stylesheet", "icon"):
            self.assets.append(str(a.get("href")))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "h1":
            self._in_h1 = True
        if a.get("data-chart"):
            self.charts.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1 += data
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def get(client: TestClient, url: str, lang: str | None = None) -> Page:
    response = client.get(url, params={"lang": lang} if lang else None)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("url", PAGES)
def test_every_page_in_every_language(page_client: TestClient, url: str, lang: str) -> None:
    response = page_client.get(url, params={"lang": lang})
    assert response.status_code == 200 and response.headers["content-language"] == lang
    page = Page(response.text)
    assert page.lang == lang and page.h1.strip()
    assert "main" in page.ids
    # every asset is the server's own: nothing from a CDN or the internet
    assert page.assets and all(a.startswith("/static/") for a in page.assets), page.assets
    for asset in set(page.assets):
        assert page_client.get(asset).status_code == 200, asset
    # every chart has a text alternative
    for chart in page.charts:
        assert chart.get("role") == "img" and (chart.get("aria-label") or "").strip()


def test_national_page_shows_the_ranking_and_the_map(page_client: TestClient, demo: Demo) -> None:
    page = get(page_client, "/")
    assert page.h1.strip() == "Рейтинг умных городов Казахстана, 2026"
    with Warehouse(demo.db, read_only=True) as wh:
        run_id = wh.scalar("SELECT max(run_id) FROM score_runs")
        top = wh.rows("SELECT settlement, category, cityscore FROM scores WHERE run_id = ? AND rank = 1", [run_id])
    for kato, _, cityscore in top:
        assert f"/settlements/{kato}?year=2026" in page.links
        assert Locale("ru").num(cityscore, 1) in page.all_text
    assert {"cat-republican", "cat-oblast", "cat-district", "rankings"} <= page.ids
    settlement_links = [link for link in page.links if link.startswith("/settlements/")]
    assert len(settlement_links) == 213
    assert page.charts[0]["data-chart"] == "map"


def test_map_data_has_every_settlement_with_a_band(page_client: TestClient) -> None:
    html = page_client.get("/").text
    data = json.loads(re.search(r'<script type="application/json" class="chart-data">(.*?)</script>', html,
                                re.S).group(1))  # type: ignore[union-attr]
    assert len(data["points"]) == 213
    assert all(p["band_id"] in {"excellent", "good", "average", "below_average", "low"} for p in data["points"])
    assert data["geo"].startswith("/static/geo/kz-regions.geojson")
    geo = page_client.get(data["geo"]).json()
    assert len(geo["features"]) == 20


def test_language_is_remembered(page_client: TestClient) -> None:
    first = page_client.get("/", params={"lang": "kk"})
    assert "lang=kk" in first.headers["set-cookie"]
    page = get(page_client, f"/settlements/{ASTANA}")  # the cookie, no ?lang
    assert page.lang == "kk" and "Көрсеткіштер" in page.all_text
    assert get(page_client, "/", "en").lang == "en"
    assert get(page_client, "/").lang == "en"
    assert get(page_client, "/", "de").lang == "en"  # an unknown language changes nothing


def test_russian_by_default(page_client: TestClient) -> None:
    page = get(page_client, "/methodology")
    assert page.lang == "ru" and page.h1.strip() == "Методика расчёта CityScore-Казахстан"


def test_settlement_page_shows_what_is_stored(page_client: TestClient, demo: Demo, std: Standard) -> None:
    with Warehouse(demo.db, read_only=True) as wh:
        run_id = wh.scalar("SELECT max(run_id) FROM score_runs")
        result = json.loads(wh.scalar("SELECT result_json FROM scores WHERE run_id = ? AND settlement = ?",
                                      [run_id, "391610000"]))
    html = page_client.get("/settlements/391610000", params={"lang": "en"}).text
    page = Page(html)
    text = page.all_text
    en = Locale("en")
    assert page.h1.strip() == "Arkalyk"
    assert en.num(result["cityscore"], 1) in text and result["band_en"] in text
    for section, index in result["sections"].items():
        assert f'id="sec-{section}"' in html and en.num(index, 1) in text
    # every KPI that counts is a row linking to its page; those without data are grey
    for kpi_id in result["kpis"]:
        assert f"/kpis/{kpi_id}?year=2026" in page.links
    grey = html.count('class="nodata-row"')
    assert grey == sum(1 for o in result["kpis"].values() if not o["has_data"]) > 0
    provisional = [k for k, o in result["kpis"].items() if o["provisional"]]
    assert html.count('class="flag" title=') == len(provisional)
    # what would raise the score most, in the order of points at stake
    improvements = re.findall(r'<ol class="improvements">(.*?)</ol>', html, re.S)[0]
    ids = re.findall(r'href="/kpis/([\d.]+)\?year=2026"', improvements)
    assert ids == [i["kpi"] for i in result["improvements"]]
    assert "Monitor: day, week, month, quarter" in text and "Trend over the year" in text
    for reason in result["not_counted"].values():
        assert en.reason(reason) in text


def test_monitor_fragment_and_date(page_client: TestClient) -> None:
    html = page_client.get(f"/fragments/monitor/{ASTANA}", params={"as_of": "2026-06-30", "lang": "en"}).text
    assert "<html" not in html and "June 30, 2026" in html
    assert html.count("<th scope=\"row\">") >= 10
    bad = page_client.get(f"/fragments/monitor/{ASTANA}", params={"as_of": "2026-13-40"})
    assert bad.status_code == 422 and "<html" in bad.text


def test_rankings_fragment_filters(page_client: TestClient) -> None:
    html = page_client.get("/fragments/rankings", params={"q": "астана"}).text
    assert re.findall(r'href="/settlements/(\d{9})', html) == [ASTANA]
    html = page_client.get("/fragments/rankings", params={"q": "ASTANA"}).text  # any language, any case
    assert re.findall(r'href="/settlements/(\d{9})', html) == [ASTANA]
    html = page_client.get("/fragments/rankings", params={"region": "35"}).text
    found = re.findall(r'href="/settlements/(\d{9})', html)
    assert found and all(k.startswith("35") for k in found)
    assert "Ничего не найдено" in page_client.get("/fragments/rankings", params={"q": "zzzz"}).text
    # without JavaScript the same filter is a plain form of the page
    page = get(page_client, "/?q=астана")
    assert [link for link in page.links if link.startswith("/settlements/")] == [f"/settlements/{ASTANA}?year=2026"]


def test_kpi_page(page_client: TestClient, std: Standard) -> None:
    kpi = std.kpi("1.8")
    assert kpi is not None
    page = get(page_client, "/kpis/1.8", "en")
    assert page.h1.strip() == kpi.name.en
    text = page.all_text
    assert kpi.formula_ru and kpi.formula_ru in text
    for category in ("republican", "oblast", "district"):
        target = kpi.targets.target(category)
        assert target is not None and target.text in text
    assert "30 s" in text and "60–90 s" in text  # the formula's parameter per category
    assert len([c for c in page.charts if c["data-chart"] == "distribution"]) == 3
    assert "/kpis/1.7" in page.links and "/kpis/1.9" in page.links
    provisional = get(page_client, "/kpis/2.1", "ru")
    assert "Предварительный показатель" in provisional.all_text


def test_methodology_is_built_from_the_catalog_policy_and_decisions(page_client: TestClient, std: Standard) -> None:
    html = page_client.get("/methodology").text
    page = Page(html)
    for kpi in std.kpis:
        assert f"/kpis/{kpi.id}" in page.links
    for rule in ScoringPolicyFields():
        assert f"<code>{rule}</code>" in html
    for n in range(1, 40):
        assert f"d-{n:02d}" in page.ids, f"decision D-{n:02d}"
    for section in std.sections:
        assert section.name.ru in page.all_text


def ScoringPolicyFields() -> list[str]:  # noqa: N802
    from cityscore.scoring import ScoringPolicy

    return [str(r["field"]) for r in ScoringPolicy.describe()]


@pytest.mark.parametrize(("url", "status", "title"), [
    ("/settlements/999999999", 404, "Страница не найдена"),
    ("/kpis/77.7", 404, "Страница не найдена"),
    ("/settlements/123", 422, "Неверный адрес"),
    ("/?year=2031", 404, "Страница не найдена"),
    ("/no/such/page", 404, "Страница не найдена"),
])
def test_errors_are_pages_in_the_readers_language(page_client: TestClient, url: str, status: int,
                                                  title: str) -> None:
    response = page_client.get(url)
    assert response.status_code == status and response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    assert page.lang == "ru" and page.h1.strip() == title
    assert Page(page_client.get(url, params={"lang": "en"}).text).lang == "en"


def test_health(page_client: TestClient) -> None:
    body = page_client.get("/healthz").json()
    assert body["ok"] is True and body["years"] == [2026] and body["languages"] == ["ru", "kk", "en"]


def test_pages_use_etags_per_language(page_client: TestClient) -> None:
    ru = page_client.get("/methodology", params={"lang": "ru"})
    en = page_client.get("/methodology", params={"lang": "en"})
    assert ru.headers["etag"] != en.headers["etag"] and ru.headers["vary"] == "Cookie, Accept-Encoding"
