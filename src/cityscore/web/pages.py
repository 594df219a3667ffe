"""The dashboard's routes: server-rendered pages (Jinja2) and the htmx fragments they update in place.

Language: ``?lang=ru|kk|en`` chooses it and a cookie remembers it; without either the page is in Russian. Every
page works without JavaScript (forms submit to the page itself); with it, htmx swaps the ranking tables and the
monitor in place, and ECharts draws the charts from the JSON embedded next to each of them.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .. import __version__
from ..errors import CityScoreError, NotFoundError
from ..publishing import Day, Repository, Year, dumps
from ..publishing.repository import RunInfo
from ..standard import Standard
from . import views
from .i18n import DEFAULT_LANG, LANG_NAMES, LANGS, Lang, Locale, parse_lang

router = APIRouter(include_in_schema=False)
LANG_COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600

KATO = Annotated[str, Path(pattern=r"^\d{9}$")]
KPI_ID = Annotated[str, Path(pattern=r"^\d{1,2}\.\d{1,2}$")]
YearQuery = Annotated[Year | None, Query()]
DayQuery = Annotated[Day | None, Query()]
LangQuery = Annotated[str | None, Query(alias="lang", max_length=5)]


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("cityscore.web", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(static=static_url, langs=LANG_NAMES, version=__version__)
    env.policies["json.dumps_function"] = dumps  # |tojson: a non-finite number is null, the JSON stays valid
    return env


@cache
def _asset_version(path: str) -> str:
    data = resources.files("cityscore.web").joinpath("static", *path.split("/")).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: browsers may cache assets for a year, and see every change."""
    return f"/static/{path}?v={_asset_version(path)}"


@cache
def decisions_html() -> str:
    """``docs/decisions.md`` (shipped in the package as ``web/decisions.md``) rendered to HTML."""
    from markdown_it import MarkdownIt

    text = resources.files("cityscore.web").joinpath("decisions.md").read_text(encoding="utf-8")
    text = text.split("\n", 1)[1] if text.startswith("# ") else text  # the page has its own heading
    return str(MarkdownIt("commonmark", {"html": True}).enable("table").render(text))


def page_lang(request: Request, requested: str | None = None) -> tuple[Lang, bool]:
    """The page's language and whether the cookie must be (re)set."""
    chosen = parse_lang(requested if requested is not None else request.query_params.get("lang"))
    if chosen is not None:
        return chosen, request.cookies.get(LANG_COOKIE) != chosen
    return parse_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG, False


def render(request: Request, template: str, context: dict[str, Any], *, status: int = 200,
           lang: Lang | None = None) -> HTMLResponse:
    chosen, set_cookie = page_lang(request) if lang is None else (lang, False)
    loc = Locale(chosen)
    std: Standard = request.app.state.std

    def lang_url(code: str) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", code)]
        return f"{request.url.path}?{urlencode(params)}"

    notice = simulated_notice(request.app.state.repo, context) if status < 500 else None
    html = environment().get_template(template).render(L=loc, std=std, lang_url=lang_url, request=request,
                                                       simulated=notice, **context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Vary"] = "Cookie"
    response.headers["Content-Language"] = chosen
    if set_cookie:
        response.set_cookie(LANG_COOKIE, chosen, max_age=COOKIE_SECONDS, samesite="lax", path="/")
    return response


def simulated_notice(repo: Repository, context: dict[str, Any]) -> dict[str, Any] | None:
    """The banner of every page while the published run it shows (else the latest) was computed from simulated data
    (decisions.md D-68): which message, with how many of the run's results are simulated (``n`` of ``total``)."""
    try:
        run = context.get("run")
        if not isinstance(run, RunInfo):
            year = context.get("year")
            run = repo.run(year if isinstance(year, int) and year in repo.years() else None)
        if not run.simulated:
            return None
        results = repo.results(run.year)
    except CityScoreError:  # no scores yet, or the warehouse is busy: no banner rather than no page
        return None
    n = sum(1 for r in results if r.get("simulated", True))
    result = context.get("result")
    own = result.get("simulated", True) if isinstance(result, dict) else None
    key = "simulated.all" if n == len(results) else "simulated.this" if own else "simulated.some"
    return {"key": key, "n": n, "total": len(results), "year": run.year}


def render_error(request: Request, status: int, detail: str) -> HTMLResponse:
    return render(request, "error.html", {"page": "error", "status": status, "detail": detail}, status=status)


def _repo(request: Request) -> Repository:
    repository: Repository = request.app.state.repo
    return repository


def _locale(request: Request) -> Locale:
    return Locale(page_lang(request)[0])


def _year(repo: Repository, year: int | None) -> int:
    return repo.run(year).year


@router.get("/", response_class=HTMLResponse)
def national_page(request: Request, year: YearQuery = None, q: Annotated[str, Query(max_length=100)] = "",
                  region: Annotated[str, Query(pattern=r"^(\d{2})?$")] = "", lang: LangQuery = None) -> Response:
    repo, loc = _repo(request), _locale(request)
    data = views.national(repo, loc, _year(repo, year), query=q, region=region)
    bands_text = "; ".join(f"{b['name']} {b['count']}" for b in data["bands"])
    return render(request, "national.html", {"page": "national", "bands_text": bands_text, **data})


@router.get("/fragments/rankings", response_class=HTMLResponse)
def rankings_fragment(request: Request, year: YearQuery = None, q: Annotated[str, Query(max_length=100)] = "",
                      region: Annotated[str, Query(pattern=r"^(\d{2})?$")] = "") -> Response:
    repo, loc = _repo(request), _locale(request)
    run_year = _year(repo, year)
    categories = views.ranking_blocks(repo, loc, run_year, query=q, region=region)
    return render(request, "_rankings.html", {"categories": categories, "year": run_year})


@router.get("/settlements/{kato}", response_class=HTMLResponse)
def settlement_page(request: Request, kato: KATO, year: YearQuery = None, as_of: DayQuery = None,
                    lang: LangQuery = None) -> Response:
    repo, loc = _repo(request), _locale(request)
    data = views.settlement_page(repo, loc, kato, _year(repo, year))
    months = [loc.date(f"{p['month']}-01", "LLL yyyy") for p in data["trend"]]
    return render(request, "settlement.html", {"page": "settlement", "monitor": views.monitor_view(
        repo, loc, kato, as_of), "trend_months": months, **data})


@router.get("/fragments/monitor/{kato}", response_class=HTMLResponse)
def monitor_fragment(request: Request, kato: KATO, as_of: DayQuery = None, year: YearQuery = None) -> Response:
    repo, loc = _repo(request), _locale(request)
    return render(request, "_monitor.html", {"monitor": views.monitor_view(repo, loc, kato, as_of)})


@router.get("/kpis/{kpi_id}", response_class=HTMLResponse)
def kpi_page(request: Request, kpi_id: KPI_ID, year: YearQuery = None, lang: LangQuery = None) -> Response:
    repo, loc = _repo(request), _locale(request)
    if repo.std.kpi(kpi_id) is None:
        raise NotFoundError(f"No KPI '{kpi_id}' in {repo.std.id}.")
    if year is not None:
        repo.run(year)  # an unknown year is an error, not an empty page
    data = views.kpi_page(repo, loc, kpi_id, year)
    return render(request, "kpi.html", {"page": "kpi", **data})


@router.get("/methodology", response_class=HTMLResponse)
def methodology_page(request: Request, lang: LangQuery = None) -> Response:
    std: Standard = request.app.state.std
    data = views.methodology(std, _locale(request), decisions_html())
    return render(request, "methodology.html", {"page": "methodology", **data})


@router.get("/healthz")
def health(request: Request) -> dict[str, Any]:
    """For load balancers and the demo: the server is up and can read the warehouse."""
    repo = _repo(request)
    return {"ok": True, "years": repo.years(), "standard": repo.std.id, "version": __version__,
            "languages": list(LANGS)}
