"""The routes of ``/api/v1``: thin functions over the publishing read model and the catalog views.

Every JSON response that serves the scores of a run (``/scores``, ``/settlements/{kato}/score``,
``/ratings/{category}``, ``/kpis/{kpi_id}/distribution``) carries ``"stale"``: whether data changed after that run
(:meth:`~cityscore.publishing.Repository.staleness`, ``Staleness.to_json()``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from ..errors import NotFoundError
from ..publishing import Day, Repository, Year, dumps, to_csv, to_xlsx
from ..publishing.window import DAYS_TEXT, YEARS_TEXT
from ..standard import Standard
from ..standard.views import initiative_row, kpi_detail, kpi_row


class ErrorItem(BaseModel):
    location: list[str | int]
    message: str | None = None
    type: str | None = None


class ErrorBody(BaseModel):
    """The one shape of every error of the API."""

    ok: bool = False
    error: str
    errors: list[ErrorItem | dict[str, Any]] = []
    status: int


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_CONTENT: dict[str, dict[str, Any]] = {"application/json": {}, "text/csv": {}, XLSX: {}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The request cannot be answered (the message says why)"},
    404: {"model": ErrorBody, "description": "No such settlement, KPI or year with scores"},
    422: {"model": ErrorBody, "description": "A parameter is not valid"},
    503: {"model": ErrorBody, "description": "The warehouse is being written; retry after `Retry-After` seconds"},
}
TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON, or the table as CSV / XLSX with `?format=`", "content": TABLE_CONTENT}, **ERRORS}

router = APIRouter(responses=ERRORS)

KATO = Annotated[str, Path(pattern=r"^\d{9}$", description="KATO code of the settlement", examples=["710000000"])]
KPI_ID = Annotated[str, Path(pattern=r"^\d{1,2}\.\d{1,2}$", description="KPI id of the catalog", examples=["1.8"])]


class TableFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class CategoryName(StrEnum):
    republican = "republican"
    oblast = "oblast"
    district = "district"


FormatQuery = Annotated[TableFormat, Query(alias="format", description="json (default), csv or xlsx")]
YearQuery = Annotated[Year | None, Query(description=f"Rating year, {YEARS_TEXT} (default: the latest)")]


def repo(request: Request) -> Repository:
    repository: Repository = request.app.state.repo
    return repository


def standard_of(request: Request) -> Standard:
    std: Standard = request.app.state.std
    return std


RepoDep = Annotated[Repository, Depends(repo)]
StdDep = Annotated[Standard, Depends(standard_of)]


class FiniteJSONResponse(JSONResponse):
    """JSON in which a non-finite float (a NaN or an infinity stored in the warehouse) is ``null``: never a 500."""

    def render(self, content: Any) -> bytes:
        return dumps(content, ensure_ascii=False, indent=None, separators=(",", ":")).encode("utf-8")


def table(data: Any, rows: list[dict[str, Any]], fmt: TableFormat, name: str) -> Any:
    """``data`` as JSON, or its table ``rows`` as CSV / XLSX."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    if fmt is TableFormat.csv:
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'})
    if fmt is TableFormat.xlsx:
        return Response(to_xlsx(rows, sheet=safe), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{safe}.xlsx"'})
    return FiniteJSONResponse(data)


@router.get("/standard/initiatives", summary="The base initiatives (Appendix 2)",
            tags=["standard"], responses=TABLE_RESPONSES)
def initiatives(std: StdDep, fmt: FormatQuery = TableFormat.json) -> Any:
    rows = [initiative_row(std, i.number) for i in std.initiatives]
    return table(rows, rows, fmt, "initiatives")


@router.get("/standard/kpis", summary="The KPIs of Appendix 4 with their targets per category",
            tags=["standard"], responses=TABLE_RESPONSES)
def kpis(std: StdDep, fmt: FormatQuery = TableFormat.json,
         initiative: Annotated[int | None, Query(ge=1, le=99)] = None,
         category: Annotated[CategoryName | None, Query()] = None) -> Any:
    rows = [kpi_row(std, k) for k in std.kpis if (initiative is None or k.initiative == initiative)
            and (category is None or std.kpi_applies(k, category.value))]
    return table(rows, rows, fmt, "kpis")


@router.get("/standard/kpis/{kpi_id}", summary="Everything the standard says about one KPI",
            tags=["standard"], responses=TABLE_RESPONSES)
def kpi(std: StdDep, kpi_id: KPI_ID, fmt: FormatQuery = TableFormat.json) -> Any:
    found = std.kpi(kpi_id)
    if found is None:
        raise NotFoundError(f"No KPI '{kpi_id}' in {std.id}; see /api/v1/standard/kpis.")
    detail = kpi_detail(std, found)
    return table(detail, [detail], fmt, f"kpi-{kpi_id}")


@router.get("/settlements", summary="The settlements rated by the standard",
            tags=["settlements"], responses=TABLE_RESPONSES)
def settlements(r: RepoDep, fmt: FormatQuery = TableFormat.json,
                category: Annotated[CategoryName | None, Query()] = None,
                region: Annotated[str | None, Query(pattern=r"^\d{2}$", description="2-digit KATO region")] = None,
                ) -> Any:
    rows = [s.to_json() for s in r.registry.settlements
            if (category is None or s.category == category.value) and (region is None or s.region_code == region)]
    return table(rows, rows, fmt, "settlements")


@router.get("/settlements/{kato}", summary="One settlement", tags=["settlements"], responses=TABLE_RESPONSES)
def settlement(r: RepoDep, kato: KATO, fmt: FormatQuery = TableFormat.json) -> Any:
    row = r.settlement(kato).to_json()
    return table(row, [row], fmt, f"settlement-{kato}")


@router.get("/scores", summary="CityScore of every settlement (the published run of a year)",
            tags=["scores"], responses=TABLE_RESPONSES)
def scores(r: RepoDep, fmt: FormatQuery = TableFormat.json, year: YearQuery = None,
           category: Annotated[CategoryName | None, Query()] = None) -> Any:
    run = r.run(year)
    results = r.results(run.year, category.value if category else None)
    data = {"standard_version": run.standard_version, "policy": run.policy, "year": run.year, "run_id": run.run_id,
            "results": results, "stale": r.staleness(run.year).to_json()}
    rows = [_summary(x) for x in results]
    return table(data, rows, fmt, f"scores-{run.year}")


@router.get("/settlements/{kato}/score", summary="One settlement's CityScore with every KPI and its explanation",
            tags=["scores"], responses=TABLE_RESPONSES)
def settlement_score(r: RepoDep, kato: KATO, fmt: FormatQuery = TableFormat.json, year: YearQuery = None) -> Any:
    run = r.run(year)
    result = r.result(kato, run.year)
    data = {"standard_version": run.standard_version, "policy": run.policy, "year": run.year, "run_id": run.run_id,
            **result, "trend": r.trend(kato, run.year), "stale": r.staleness(run.year).to_json()}
    rows = [{"kpi": k, **v} for k, v in result["kpis"].items()]
    return table(data, rows, fmt, f"score-{kato}-{run.year}")


@router.get("/settlements/{kato}/monitor", summary="Day / week / month / quarter scores (1.0 = on target)",
            tags=["monitor"], responses=TABLE_RESPONSES)
def settlement_monitor(r: RepoDep, kato: KATO, fmt: FormatQuery = TableFormat.json,
                       as_of: Annotated[Day | None, Query(description=f"Last day of the windows, {DAYS_TEXT} "
                                                                     "(default: the latest day with data)")] = None,
                       overall_cap: Annotated[float | None, Query(
                           ge=1.0, le=1000.0, description="In the overall of a window each KPI counts at most this "
                                                         "much (default 2; a large number for Boston's plain mean)")
                       ] = 2.0) -> Any:
    data = r.monitor(kato, as_of, overall_cap)
    rows = [{"metric": m, **scores} for m, scores in data["metrics"].items()]
    rows.append({"metric": "overall", **data["overall"]})
    return table(data, rows, fmt, f"monitor-{kato}")


@router.get("/ratings/{category}", summary="The rating of one category: ranks, bands, movement, coverage",
            tags=["scores"], responses=TABLE_RESPONSES)
def rating(r: RepoDep, category: CategoryName, fmt: FormatQuery = TableFormat.json, year: YearQuery = None) -> Any:
    run = r.run(year)
    rows = [_summary(x) for x in r.results(run.year, category.value)]
    data = {"standard_version": run.standard_version, "policy": run.policy, "year": run.year, "run_id": run.run_id,
            "category": category.value, "ratings": rows, "stale": r.staleness(run.year).to_json()}
    return table(data, rows, fmt, f"rating-{category.value}-{run.year}")


@router.get("/kpis/{kpi_id}/distribution", summary="One KPI across settlements: values, targets, scores",
            tags=["scores"], responses=TABLE_RESPONSES)
def distribution(r: RepoDep, kpi_id: KPI_ID, fmt: FormatQuery = TableFormat.json, year: YearQuery = None) -> Any:
    data = r.distribution(kpi_id, year)
    data = {**data, "stale": r.staleness(data["year"]).to_json()}  # a new dict: the repository caches the other
    return table(data, data["values"], fmt, f"distribution-{kpi_id}-{data['year']}")


class Years(BaseModel):
    years: list[int]


@router.get("/years", summary="Years with published scores", tags=["scores"], response_model=Years)
def years(r: RepoDep) -> Any:
    return FiniteJSONResponse({"years": r.years()})


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {key: result.get(key) for key in ("rank", "settlement", "name_ru", "name_kk", "name_en", "category",
                                             "cityscore", "band", "band_id", "movement", "previous_rank",
                                             "coverage", "bonus", "sections")}
