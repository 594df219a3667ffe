"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the application under uvicorn.

Every page in every language as a person sees it (charts drawn, no script error, nothing fetched from anywhere but
the server), the path map → settlement → KPI in each language, the keyboard, the search and the monitor's date
(htmx), and a phone's width. Screenshots are kept in ``test-artifacts/browser/``.

The pages' Content-Security-Policy forbids ``eval`` (decisions.md D-77), so every ``wait_for_function`` predicate is
a function (``() => …``), which Playwright calls, never an expression, which it would evaluate as a string; a
violation of the policy is a console error and fails the page's test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from cityscore.settlements import load_registry
from cityscore.standard import Standard

from ..conftest import REPO

ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LANGS = ("ru", "kk", "en")
PAGES = {"national": "/", "settlement": "/settlements/710000000", "settlement-oblast": "/settlements/391610000",
         "kpi": "/kpis/1.8", "methodology": "/methodology"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: run `bash scripts/system-deps.sh` (make test does it).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A browser page that records script errors and every request that is not to the server (and blocks it)."""

    def __init__(self, browser: Browser, base: str, *, width: int = 1280, height: int = 900) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.route("**/*", self._route)

    def _route(self, route: Route, request: Request) -> None:
        if request.url.startswith(self.base):
            route.continue_()
        else:
            self.outside.append(request.url)
            route.abort()

    def open(self, path: str) -> Page:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        self.charts_drawn()
        return self.page

    def charts_drawn(self) -> None:
        for chart in self.page.locator("[data-chart]").all():
            chart.scroll_into_view_if_needed()
        self.page.wait_for_function(
            "Array.from(document.querySelectorAll('[data-chart]')).every(e => e.dataset.ready === 'true')",
            timeout=15_000)

    def shot(self, name: str, *, full: bool = True) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    def close(self) -> None:
        assert not self.errors, f"script errors: {self.errors}"
        assert not self.outside, f"requests outside the server: {self.outside}"
        self.context.close()


@pytest.fixture
def visit(browser: Browser, live_server: str) -> Iterator[Any]:
    opened: list[Visit] = []

    def _open(**kwargs: int) -> Visit:
        opened.append(Visit(browser, live_server, **kwargs))
        return opened[-1]

    yield _open
    for v in opened:
        v.close()


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_in_every_language(visit: Any, lang: str) -> None:
    v = visit()
    for name, path in PAGES.items():
        page = v.open(f"{path}?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").first.is_visible() and page.locator("h1").first.inner_text().strip()
        canvases = page.locator("[data-chart] canvas").count()
        assert canvases >= page.locator("[data-chart]").count()
        v.shot(f"{lang}-{name}", full=name != "methodology")  # the methodology page is too long for one image


@pytest.mark.parametrize("lang", LANGS)
def test_from_the_map_to_a_settlement_and_into_a_kpi(visit: Any, lang: str, std: Standard) -> None:
    v = visit()
    page = v.open(f"/?lang={lang}")
    the_map = page.locator("[data-chart=map]")
    the_map.scroll_into_view_if_needed()
    # the marker farthest from any other, so that the click cannot land on a neighbour
    target = page.evaluate("""() => {
        const el = document.querySelector('[data-chart=map]');
        const chart = echarts.getInstanceByDom(el);
        const points = JSON.parse(el.nextElementSibling.textContent).points;
        const px = points.map(p => chart.convertToPixel({geoIndex: 0}, [p.lon, p.lat]));
        let best = null, bestGap = -1;
        points.forEach((p, i) => {
            const gap = Math.min(...px.map((q, j) =>
                j === i ? Infinity : Math.hypot(q[0] - px[i][0], q[1] - px[i][1])));
            if (gap > bestGap) { bestGap = gap; best = {kato: p.kato, name: p.name, x: px[i][0], y: px[i][1]}; }
        });
        return best;
    }""")
    box = the_map.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_url(f"**/settlements/{target['kato']}")
    v.charts_drawn()
    settlement = load_registry().get(target["kato"])
    assert settlement is not None
    assert page.locator("h1").inner_text().strip() == settlement.name(lang) == target["name"]
    assert page.locator("html").get_attribute("lang") == lang  # the cookie carried the language
    v.shot(f"{lang}-path-1-settlement")
    first_kpi = page.locator("#kpis table.kpi-table tbody th a").first
    kpi_id = first_kpi.inner_text().split()[0]
    first_kpi.click()
    page.wait_for_url(f"**/kpis/{kpi_id}?year=2026")
    v.charts_drawn()
    kpi = std.kpi(kpi_id)
    assert kpi is not None and page.locator("h1").inner_text().strip() == kpi.name.in_lang(lang)
    v.shot(f"{lang}-path-2-kpi")


def test_the_ranking_table_leads_to_the_settlement(visit: Any) -> None:
    v = visit()
    page = v.open("/?lang=en")
    page.locator("#cat-republican tbody th a", has_text="Astana").click()
    page.wait_for_url("**/settlements/710000000?year=2026")
    assert page.locator("h1").inner_text() == "Astana"


def test_keyboard(visit: Any) -> None:
    v = visit()
    page = v.open("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.locator(".skip").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # from the search box, Tab reaches the region filter, then the button; Enter on a link follows it
    page.locator("#q").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "region"
    link = page.locator("#cat-republican tbody th a").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/settlements/*")
    outline = page.evaluate("""() => { const a = document.querySelector('main a'); a.focus();
                                        return getComputedStyle(a).outlineStyle; }""")
    assert outline != "none"


def test_search_and_region_filter_update_the_tables_in_place(visit: Any) -> None:
    v = visit()
    page = v.open("/")
    rows = page.locator("#rankings tbody tr")
    assert rows.count() == 213
    page.locator("#q").fill("астана")
    page.wait_for_function("() => document.querySelectorAll('#rankings tbody tr').length === 1")
    assert page.url.endswith("/")  # updated in place, not reloaded
    page.locator("#q").fill("")
    page.wait_for_function("() => document.querySelectorAll('#rankings tbody tr').length === 213")
    page.locator("#region").select_option("35")
    page.wait_for_function("() => document.querySelectorAll('#rankings tbody tr').length < 213")
    katos = page.locator("#rankings tbody th a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert katos and all(k.startswith("/settlements/35") for k in katos)
    v.shot("ru-search-region-35")


def test_monitor_date_changes_in_place(visit: Any) -> None:
    v = visit()
    page = v.open("/settlements/710000000?lang=en")
    page.locator("#as-of").fill("2026-06-30")
    page.locator("#monitor form button").click()
    page.wait_for_function("() => document.querySelector('#monitor-table').textContent.includes('June 30, 2026')")
    assert page.url.endswith("/settlements/710000000?lang=en")
    v.shot("en-monitor-june", full=False)


@pytest.mark.parametrize("name", ["national", "settlement", "kpi", "methodology"])
def test_readable_on_a_phone(visit: Any, name: str) -> None:
    v = visit(width=390, height=844)
    page = v.open(PAGES[name])
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} is {overflow}px wider than a phone's screen"
    v.shot(f"phone-{name}", full=False)


def test_tooltips_and_the_api_documentation_run_under_the_policy(visit: Any) -> None:
    """ECharts' tooltips (HTML with style attributes) and Swagger UI on /docs, started by a static script, with
    «Try it out» fetching from the server: no violation of the Content-Security-Policy (a console error)."""
    v = visit()
    page = v.open("/kpis/1.8?lang=en")
    chart = page.locator("[data-chart=distribution]").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    for step in range(10, 90, 8):
        page.mouse.move(box["x"] + box["width"] * step / 100, box["y"] + box["height"] * 0.8)
    page.wait_for_function("() => Array.from(document.querySelectorAll('[data-chart=distribution] div'))"
                           ".some(d => d.style.display !== 'none' && d.textContent.includes(':'))", timeout=5_000)
    response = page.goto(v.base + "/docs")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for(timeout=20_000)
    page.locator(".opblock-summary").first.click()
    page.locator("button.try-out__btn").first.click()
    page.locator("button.execute").first.click()
    page.locator(".live-responses-table tbody .response-col_status").first.wait_for(timeout=15_000)
    assert "200" in page.locator(".live-responses-table tbody .response-col_status").first.inner_text()
    v.shot("docs-try-it-out", full=False)


def test_artifacts_folder_is_ignored_by_git() -> None:
    assert "/test-artifacts/" in (REPO / ".gitignore").read_text().splitlines()
    assert Path(ARTIFACTS).is_relative_to(REPO)
