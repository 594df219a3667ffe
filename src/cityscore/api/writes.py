"""The write API: cities and the ministry send data through the service (decisions.md D-81 … D-84).

- ``POST /api/v1/ingest`` — a file (multipart field ``file``; ``table`` optional, detected as the CLI does;
  ``source`` for the open-standard adapters; ``settlement`` for a file without that column), answered with exactly
  the JSON report of ``cityscore ingest --format json`` plus ``batch``;
- ``POST /api/v1/observations`` / ``POST /api/v1/additional-initiatives`` — KPI values / bonus evidence files;
- ``DELETE /api/v1/batches/{id}`` — a city its own batches, the ministry any;
- ``POST /api/v1/runs`` — the ministry: compute and score a year; the new run is published.

Every write needs an account (:mod:`.auth`): 401 without valid credentials, 403 outside the role or scope. A city
account's rows for any settlement other than its own are rejected with ``out-of-scope`` and none of them is stored.
A request with an ``Idempotency-Key`` header answers a retry with the first answer, storing nothing new (a key
reused for another request is 409). Uploads larger than the server's limit are 413 before they are read. Every
write is in the audit log with the account's login.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
from contextlib import closing
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .. import audit
from ..accounts import Account
from ..errors import CityScoreError, ConflictError, NotFoundError, PermissionDeniedError
from ..ingest.adapters import ADAPTERS, open_adapter
from ..ingest.batches import delete_batch
from ..ingest.loader import ingest_file
from ..ingest.provenance import simulated_file
from ..ingest.pseudonym import Pseudonymiser, load_key
from ..ingest.sqlcheck import TimeWindow
from ..publishing import Day
from ..settings import get_settings
from ..store import Warehouse, WarehouseError, connect
from ..store.changes import ConnectionReader
from ..store.provenance import mark_simulated
from .auth import AccountDep, MinistryDep
from .routes import ERRORS, FiniteJSONResponse

router = APIRouter(tags=["write"], responses={
    401: {"description": "No valid credentials (`Authorization: Bearer <token>`)"},
    403: {"description": "Outside the account's role or settlements"},
    409: {"description": "The Idempotency-Key was used for another request"},
    413: {"description": "The upload is larger than the server's limit"},
    **ERRORS})

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="A retry with the same key answers the first answer and "
                                                          "stores nothing new")]
log = logging.getLogger("cityscore.api")
SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)


def _home() -> Path:
    return get_settings().home


def _db(request: Request) -> Path:
    db: Path = request.app.state.repo.db
    return db


def _scope(account: Account) -> frozenset[str] | None:
    return None if account.is_ministry else account.settlements


class _Replay:
    """The Idempotency-Key of one request: the stored answer of an earlier identical request, or where to keep this
    one's."""

    def __init__(self, db: Path, login: str, key: str | None, endpoint: str, digest: str) -> None:
        self.db, self.login, self.key, self.endpoint, self.digest = db, login, key, endpoint, digest

    def earlier(self) -> dict[str, Any] | None:
        if self.key is None:
            return None
        with Warehouse(self.db) as wh:
            found = wh.rows("SELECT endpoint, request_sha256, status, response_json FROM api_idempotency "
                            "WHERE login = ? AND idempotency_key = ?", [self.login, self.key])
        if not found:
            return None
        endpoint, digest, _status, body = found[0]
        if endpoint != self.endpoint or digest != self.digest:
            raise ConflictError(f"The Idempotency-Key '{self.key}' was used for another request; use a new key for "
                                "a new request.")
        answer: dict[str, Any] = json.loads(body)
        return answer

    def keep(self, wh: Warehouse, status: int, body: dict[str, Any]) -> None:
        if self.key is None:
            return
        wh.con.execute("INSERT INTO api_idempotency VALUES (?, ?, ?, ?, ?, ?, now()) ON CONFLICT DO NOTHING",
                       [self.login, self.key, self.endpoint, self.digest, status,
                        json.dumps(body, ensure_ascii=False, default=str)])


def _save(upload: UploadFile, into: Path) -> tuple[Path, str]:
    """The upload written to ``into`` under its own (sanitised) name, and its SHA-256."""
    name = SAFE_NAME.sub("_", Path(upload.filename or "upload").name).strip("._") or "upload"
    target = into / name
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return target, digest.hexdigest()


def _load(request: Request, account: Account, upload: UploadFile, *, endpoint: str, table: str | None,
          source: str, settlement: str | None, key: str | None) -> Any:
    replayed, body = load_file(request, account, upload, endpoint=endpoint, table=table, source=source,
                               settlement=settlement, key=key)
    return JSONResponse(body, headers={"Idempotent-Replayed": "true"}) if replayed else FiniteJSONResponse(body)


def load_file(request: Request, account: Account, upload: UploadFile, *, endpoint: str, table: str | None,
              source: str, settlement: str | None, key: str | None) -> tuple[bool, dict[str, Any]]:
    """Load an uploaded file as ``account`` (its scope); return whether the answer is an earlier one replayed (the
    same ``key``) and the report (the JSON of ``cityscore ingest --format json`` plus ``batch``). Also the upload
    page's."""
    if source != "native" and source not in ADAPTERS:
        raise NotFoundError(f"No source '{source}': use native or one of {', '.join(ADAPTERS)}.")
    registry, std = request.app.state.repo.registry, request.app.state.std
    scope = _scope(account)
    if settlement is not None:
        found = registry.resolve(settlement)
        if found is None:
            raise NotFoundError(f"'{settlement}' is not a rated settlement; use its KATO code.")
        if scope is not None and found.kato not in scope:
            raise PermissionDeniedError(f"{account.login} may not send data for {found.kato}.")
        settlement = found.kato
    db = _db(request)
    work = Path(tempfile.mkdtemp(prefix="cityscore-upload-"))
    try:
        path, file_digest = _save(upload, work)
        replay = _Replay(db, account.login, key, endpoint, hashlib.sha256(json.dumps(
            [file_digest, path.name, table, source, settlement]).encode()).hexdigest())
        earlier = replay.earlier()
        if earlier is not None:
            return True, earlier
        settings = get_settings()
        opened = open_adapter(source, path, settlement=settlement, timezone=None) if source != "native" else None
        target = table or (ADAPTERS[source].table if source != "native" else None)
        try:
            report = ingest_file(db, path, std=std, registry=registry,
                                 pseudonymiser=Pseudonymiser(load_key(_home())), table=target, settlement=settlement,
                                 source=source, opened=opened,
                                 window=TimeWindow(settings.ingest_earliest, settings.ingest_latest), scope=scope,
                                 actor=account.login)
        except CityScoreError as exc:  # the message names the file as sent, not the server's temporary copy
            exc.args = tuple(str(a).replace(str(path), path.name).replace(str(work), "") for a in exc.args)
            raise
        simulated = report.batch_id is not None and simulated_file(path)
        body = {**report.to_json(), "simulated": simulated, "batch": report.batch_id}
        body["file"] = path.name
        try:  # the batch (with its sender) is committed: what follows must not turn it into an error
            with Warehouse(db) as wh, wh.transaction():
                if simulated and report.batch_id is not None:
                    mark_simulated(wh, [report.batch_id])
                replay.keep(wh, 200, body)
        except WarehouseError as exc:
            log.warning("batch %s stored; its Idempotency-Key or mark not recorded: %s", report.batch_id, exc)
        return False, body
    finally:
        shutil.rmtree(work, ignore_errors=True)


FileField = Annotated[UploadFile, File(description="The file: CSV, XLSX, Parquet, JSON, NDJSON (or the adapter's)")]


@router.post("/ingest", summary="Load a file of raw records (the report of `cityscore ingest --format json`)")
def ingest_upload(request: Request, account: AccountDep, file: FileField,
                  table: Annotated[str | None, Form(description="The raw table; detected from the header when "
                                                                "omitted")] = None,
                  source: Annotated[str, Form(description="native, or an open-standard adapter")] = "native",
                  settlement: Annotated[str | None, Form(description="The settlement of a file without that "
                                                                     "column")] = None,
                  idempotency_key: IdempotencyKey = None) -> Any:
    return _load(request, account, file, endpoint="ingest", table=table, source=source, settlement=settlement,
                 key=idempotency_key)


@router.post("/observations", summary="Load KPI values (the observation file format of `cityscore score`)")
def observations_upload(request: Request, account: AccountDep, file: FileField,
                        idempotency_key: IdempotencyKey = None) -> Any:
    return _load(request, account, file, endpoint="observations", table="observations", source="native",
                 settlement=None, key=idempotency_key)


@router.post("/additional-initiatives", summary="Load evidence on additional initiatives (the bonus criteria)")
def evidence_upload(request: Request, account: AccountDep, file: FileField,
                    idempotency_key: IdempotencyKey = None) -> Any:
    return _load(request, account, file, endpoint="additional-initiatives", table="additional_initiatives",
                 source="native", settlement=None, key=idempotency_key)


@router.delete("/batches/{batch_id}", summary="Remove a batch with every row it brought (own batches; ministry: any)")
def batch_delete(request: Request, account: AccountDep,
                 batch_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> Any:
    with Warehouse(_db(request)) as wh:
        found = wh.rows("SELECT uploaded_by FROM batches WHERE batch_id = ?", [batch_id])
        if not found:
            raise NotFoundError(f"No batch {batch_id}.")
        if not account.is_ministry and found[0][0] != account.login:
            raise PermissionDeniedError(f"Batch {batch_id} was not sent by {account.login}; a city deletes only its "
                                        "own batches.")
        removed = delete_batch(wh, batch_id, actor=account.login)
    return FiniteJSONResponse({"batch": batch_id, **removed, "stale": True})


class RunRequest(BaseModel):
    year: int = Field(ge=2000, le=2100, description="The year to compute and score")
    grain_day: bool = Field(True, description="Also compute the daily values of the monitor")


@router.post("/runs", summary="Compute and score a year; the new run is published (ministry only)")
def run_create(request: Request, account: MinistryDep, body: RunRequest) -> Any:
    from ..derived import store_published
    from ..pipeline import check_standard_of_values, compute_kpis, evidence_input, scoring_input, store_scores
    from ..scoring import ScoringPolicy, score_year
    from ..store.provenance import simulated_settlements

    std, registry = request.app.state.std, request.app.state.repo.registry
    policy = ScoringPolicy()
    with Warehouse(_db(request)) as wh:
        compute_kpis(wh, std, registry, policy, year=body.year)
        if body.grain_day:
            compute_kpis(wh, std, registry, policy, year=body.year, grain="day")
        check_standard_of_values(wh, std, body.year)
        rows = scoring_input(wh, (body.year - 1, body.year))
        if not rows:
            raise NotFoundError(f"No KPI values for {body.year}: send data first.")
        evidence = evidence_input(wh)
        run = score_year(std, policy, registry, observations=rows, evidence=evidence, year=body.year)
        run_id = store_scores(wh, std, registry, run, source=f"api {account.login}",
                              simulated=simulated_settlements(wh, body.year), actor=account.login)
        store_published(wh, std, registry, run, run_id, observations=rows, evidence=evidence)
    return FiniteJSONResponse({"run_id": run_id, "year": body.year, "standard_version": std.id,
                               "policy": policy.name, "settlements": len(run.results)}, status_code=201)


@router.get("/audit", summary="The audit log, newest last (ministry only)")
def audit_log(request: Request, account: MinistryDep,
              since: Annotated[Day | None, Query(description="Entries from this day (UTC)")] = None,
              who: Annotated[str | None, Query(max_length=100, description="Entries of this login or "
                                                                           "`cli:<user>`")] = None,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Any:
    with closing(connect(_db(request), read_only=True, wait=2.0)) as con:
        reader = ConnectionReader(con)
        entries = audit.entries(reader, since=None if since is None else datetime.combine(since, time.min),
                                who=who, limit=limit)
        verified = audit.verify(reader)
    return FiniteJSONResponse({"entries": entries, "count": len(entries), "verified": verified.to_json()})
