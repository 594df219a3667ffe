"""The routes of ``/api/v1``: thin functions over the publishing read model and the catalog views.

Every JSON response that serves the scores of a run (``/scores``, ``/settlements/{kato}/score``,
``/ratings/{category}``, ``/kpis/{kpi_id}/distribution``) carries ``"stale"``: whether data changed after that run
(:meth:`~cityscore.publishing.Repository.staleness`, ``Staleness.to_json()``), and ``"simulated"``: whether the run
(and, in each result, the settlement's own data) came from the simulator (decisions.md D-68).
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
from ..publishing.repository import RunInfo
from ..publishing.window import DAYS_TEXT, YEARS_TEXT
from ..scoring.monitor import MONITOR_OVERALL_CAP
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


async def repo(request: Request) -> Repository:
    """The read model (``async``: FastAPI runs a plain function dependency in its thread pool, a hop per request)."""
    repository: Repository = request.app.state.repo
    return repository


async def standard_of(request: Request) -> Standard:
    std: Standard = request.app.state.std
    return std


RepoDep = Annotated[Repository, Depends(repo)]
StdDep = Annotated[Standard, Depends(standard_of)]


class FiniteJSONResponse(JSONResponse):
    """JSON in which a non-finite float (a NaN or an infinity stored in the warehouse) is ``null``: never a 500."""

    def render(self, content: Any) -> bytes:
        return dumps(content, ensure_ascii=False, indent=None, separators=(",", ":")).encode("utf-8")


def table(data: Any, rows: list[dict[str, Any]], fmt: TableFormat, name: str, *,
          kept: tuple[Repository, tuple[Any, ...]] | None = None) -> Any:
    """``data`` as JSON, or its table ``rows`` as CSV / XLSX. ``kept``: the read model and a key under which the
    JSON is rendered once per warehouse state (:meth:`Repository.rendered`) — the key must name everything the
    answer depends on besides the warehouse."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    if fmt is TableFormat.csv:
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'})
    if fmt is TableFormat.xlsx:
        return Response(to_xlsx(rows, sheet=safe), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{safe}.xlsx"'})
    if kept is not None:
        repository, key = kept
        return Response(repository.rendered(key, lambda: bytes(FiniteJSONResponse(data).body)),
                        media_type=FiniteJSONResponse.media_type)
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
    results = [_marked(x, run) for x in r.results(run.year, category.value if category else None)]
    data = {"standard_version": run.standard_version, "policy": run.policy, "year": run.year, "run_id": run.run_id,
            "simulated": run.simulated, "results": results, "stale": r.staleness(run.year).to_json()}
    rows = [_summary(x) for x in results]
    return table(data, rows, fmt, f"scores-{run.year}")


@router.get("/settlements/{kato}/score", summary="One settlement's CityScore with every KPI and its explanation",
            tags=["scores"], responses=TABLE_RESPONSES)
def settlement_score(r: RepoDep, kato: KATO, fmt: FormatQuery = TableFormat.json, year: YearQuery = None) -> Any:
    """The stored result of the published run; ``trend`` is the official CityScore year to date after each month,
    as the run stored it (its last point is ``cityscore``), ``trend_monitoring`` the same with KPIs without data left
    out (decisions.md D-65)."""
    run = r.run(year)
    result = _marked(r.result(kato, run.year), run)
    data = {"standard_version": run.standard_version, "policy": run.policy, "year": run.year, "run_id": run.run_id,
            **result, "trend": r.trend(kato, run.year),
            "trend_monitoring": r.trend(kato, run.year, "monitoring"), "stale": r.staleness(run.year).to_json()}
    rows = [{"kpi": k, **v, "simulated": result.get("simulated", False)} for k, v in result["kpis"].items()]
    return table(data, rows, fmt, f"score-{kato}-{run.year}", kept=(r, ("score", run.run_id, kato)))


@router.get("/settlements/{kato}/monitor", summary="Day / week / month / quarter scores (1.0 = on target)",
            tags=["monitor"], responses=TABLE_RESPONSES)
def settlement_monitor(r: RepoDep, kato: KATO, fmt: FormatQuery = TableFormat.json,
                       as_of: Annotated[Day | None, Query(description=f"Last day of the windows, {DAYS_TEXT} "
                                                                     "(default: the latest day with data)")] = None,
                       overall_cap: Annotated[float | None, Query(
                           ge=1.0, le=1000.0, description="In the overall of a window each KPI counts at most this "
                                                         "much (default 2; a large number for Boston's plain mean)")
                       ] = MONITOR_OVERALL_CAP) -> Any:
    """The settlement's monitor (:mod:`cityscore.scoring.daily`): as stored by ``cityscore score`` or ``compute
    --grain day`` for the default day and cap, else computed from the stored daily values (``source``)."""
    data = r.monitor(kato, as_of, overall_cap)
    rows = [{"metric": m, **scores} for m, scores in data["metrics"].items()]
    rows.append({"metric": "overall", **data["overall"]})
    return table(data, rows, fmt, f"monitor-{kato}")


@router.get("/ratings/{category}", summary="The rating of one category: ranks, bands, movement, coverage",
            tags=["scores"], responses=TABLE_RESPONSES)
def rating(r: RepoDep, category: CategoryName, fmt: FormatQuery = TableFormat.json, year: YearQuery = None) -> Any:
    run = r.run(year)
    rows = [_summary(_marked(x, run)) for x in r.results(run.year, category.value)]
    data = {"standard_version": run.standard_version, "policy": run.policy, "year": run.year, "run_id": run.run_id,
            "simulated": run.simulated, "category": category.value, "ratings": rows,
            "stale": r.staleness(run.year).to_json()}
    return table(data, rows, fmt, f"rating-{category.value}-{run.year}")


@router.get("/kpis/{kpi_id}/distribution", summary="One KPI across settlements: values, targets, scores",
            tags=["scores"], responses=TABLE_RESPONSES)
def distribution(r: RepoDep, kpi_id: KPI_ID, fmt: FormatQuery = TableFormat.json, year: YearQuery = None) -> Any:
    data = r.distribution(kpi_id, year)
    data = {**data, "simulated": r.run(data["year"]).simulated,  # a new dict: the repository caches the other
            "stale": r.staleness(data["year"]).to_json()}
    return table(data, data["values"], fmt, f"distribution-{kpi_id}-{data['year']}")


@router.get("/settlements/{kato}/kpis/{kpi_id}/lineage",
            summary="Where one KPI's number comes from: score, annual value, monthly values, batches, standard",
            tags=["scores"], responses=TABLE_RESPONSES)
def kpi_lineage(r: RepoDep, kato: KATO, kpi_id: KPI_ID, fmt: FormatQuery = TableFormat.json,
                year: YearQuery = None) -> Any:
    """The chain behind a published KPI score (:mod:`cityscore.publishing.lineage`): the score and the annual
    value with its numerator, denominator and baseline; the monthly values; the batches they came from (file name,
    SHA-256, rows used, ingested at); the standard version and policy of the run. As CSV / XLSX: the batches."""
    data = r.lineage(kato, kpi_id, year)
    rows = [{k: v for k, v in b.items() if k not in ("periods", "roles")} | {"roles": ", ".join(b["roles"])}
            for b in data["batches"]]
    return table(data, rows, fmt, f"lineage-{kato}-{kpi_id}-{data['year']}")


class Years(BaseModel):
    years: list[int]


@router.get("/years", summary="Years with published scores", tags=["scores"], response_model=Years)
def years(r: RepoDep) -> Any:
    return FiniteJSONResponse({"years": r.years()})


def _marked(result: dict[str, Any], run: RunInfo) -> dict[str, Any]:
    """The stored result with ``simulated`` (a result stored before migration 6 has it from its run; D-68)."""
    return result if "simulated" in result else {**result, "simulated": run.simulated}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {key: result.get(key) for key in ("rank", "settlement", "name_ru", "name_kk", "name_en", "category",
                                             "cityscore", "band", "band_id", "movement", "previous_rank",
                                             "coverage", "bonus", "sections", "simulated")}
