"""The FastAPI application: the read-only REST API (``/api/v1``), its OpenAPI documentation (``/docs``, served from
vendored assets — nothing is fetched from the internet) and the dashboard (``/``).

Every API error has one shape: ``{"ok": false, "error": "...", "errors": [...], "status": N}``; the dashboard's
pages answer errors with an HTML page in the reader's language. Successful GETs carry an ETag (the warehouse's
content fingerprint and the request) and ``Cache-Control``; a matching ``If-None-Match`` gets 304
(:mod:`.caching`). Every GET route also answers HEAD; other methods get 405 with ``Allow`` (:mod:`.methods`).
Every table is also available as CSV or XLSX with ``?format=csv|xlsx``; a non-finite number (NaN, inf) is
published as ``null`` / an empty cell / a dash. Every response carries the security headers, request bodies are
limited in size and CORS is closed unless configured (:mod:`.security`); no response shows a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any

import anyio.to_thread
import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from .. import __version__
from ..errors import AuthenticationError, CityScoreError, ConflictError, NotFoundError, PermissionDeniedError
from ..publishing import Repository
from ..settings import Settings, check_for_serving, get_settings
from ..settlements import load_registry
from ..standard import Standard, load_standard
from ..store import WarehouseBusyError
from .caching import CachingMiddleware
from .docs import swagger_page
from .methods import HeadMiddleware, allow
from .routes import FiniteJSONResponse, TableFormat, router, settlement_score
from .security import announce_generated_secret, apply_security_headers, install

CACHE_SECONDS = 60
SESSION_COOKIE = "cityscore_session"
SESSION_SECONDS = 8 * 3600
RETRY_AFTER_SECONDS = 5
API_PREFIXES = ("/api/", "/openapi.json", "/docs", "/static/", "/healthz")
log = logging.getLogger("cityscore.api")


def error_body(status: int, message: str, errors: list[Any] | None = None) -> dict[str, Any]:
    return {"ok": False, "error": message, "errors": errors or [], "status": status}


def static_dir() -> Path:
    return Path(str(resources.files("cityscore.web").joinpath("static")))


def wants_page(request: Request) -> bool:
    """Whether an error of this request is answered with an HTML page (the dashboard) or with JSON (the API)."""
    return not request.url.path.startswith(API_PREFIXES)


def create_app(db: Path, *, std: Standard | None = None, dashboard: bool = True, response_cache: bool = True,
               clock: Callable[[], float] = time.monotonic, warm: bool = True,
               settings: Settings | None = None) -> FastAPI:
    """The application over the warehouse ``db``; ``response_cache=False`` keeps ETags but recomputes every
    response (for measuring the cost of a request). ``clock`` paces the read model's look at the warehouse file
    (:class:`~cityscore.publishing.Repository`); with ``warm`` the application reads what the latest year's pages
    show while it starts, before it answers the first request (:meth:`Repository.warm`). ``settings`` (default: the
    environment's) give the secret, the body limit and the CORS origins; in production a weak secret is refused
    here (:func:`~cityscore.settings.check_for_serving`)."""
    settings = settings or get_settings()
    check_for_serving(settings)
    announce_generated_secret(settings)
    std = std or load_standard()
    repo = Repository(db, std, load_registry(), clock=clock)

    def read_ahead() -> None:
        """What the latest year's pages show, and each settlement's score document rendered (D-67)."""
        repo.warm()
        if repo.years():
            for settlement in repo.registry.settlements:
                with suppress(NotFoundError):
                    settlement_score(r=repo, kato=settlement.kato, fmt=TableFormat.json, year=None)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            try:
                await anyio.to_thread.run_sync(read_ahead)
            except (CityScoreError, duckdb.Error) as exc:  # e.g. a busy warehouse: the first requests read it
                log.warning("could not read the warehouse ahead of the first request: %s", exc)
        yield

    app = FastAPI(title="CityScore-KZ", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  openapi_url="/openapi.json", default_response_class=FiniteJSONResponse,
                  description="API of CityScore-KZ. Reading is public: the standard 469/НК as data, the settlements "
                              "it rates, CityScore-Kazakhstan scores and ratings, KPI distributions, lineage and the "
                              "day/week/month/quarter monitor; every table is also CSV or XLSX (`?format=csv|xlsx`). "
                              "Writing (uploads, deletions, runs, the audit log) needs a token: `Authorization: "
                              "Bearer <token>` from `cityscore tokens issue`.")
    app.state.repo = repo
    app.state.std = std
    app.state.settings = settings
    app.include_router(router, prefix="/api/v1")
    from .writes import router as writes

    app.include_router(writes, prefix="/api/v1")
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return swagger_page("/openapi.json")

    if dashboard:
        from ..web.account import router as account_pages
        from ..web.pages import router as pages

        app.include_router(account_pages)
        app.include_router(pages)

    def error(request: Request, status: int, message: str, errors: list[Any] | None = None,
              headers: dict[str, str] | None = None) -> Response:
        if dashboard and wants_page(request):
            from ..web.pages import render_error

            page = render_error(request, status, message)
            page.headers.update(headers or {})
            return page
        return JSONResponse(error_body(status, message, errors), status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        message = str(exc.detail)
        if exc.status_code == 405:
            headers["Allow"] = allow(headers.get("Allow"))
            message += f": {request.url.path} answers {headers['Allow']} only, not {request.method}."
        return error(request, exc.status_code, message, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"location": list(e.get("loc", ())), "message": e.get("msg"), "type": e.get("type")}
                  for e in exc.errors()]
        return error(request, 422, "The request is not valid: " + "; ".join(
            f"{'.'.join(map(str, e['location']))}: {e['message']}" for e in errors), errors)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(WarehouseBusyError)
    async def busy(request: Request, exc: WarehouseBusyError) -> Response:
        return error(request, 503, str(exc), headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(AuthenticationError)
    async def unauthenticated(request: Request, exc: AuthenticationError) -> Response:
        return error(request, 401, str(exc), headers={"WWW-Authenticate": 'Bearer realm="cityscore"'})

    @app.exception_handler(PermissionDeniedError)
    async def forbidden(request: Request, exc: PermissionDeniedError) -> Response:
        return error(request, 403, str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, exc: ConflictError) -> Response:
        return error(request, 409, str(exc))

    @app.exception_handler(CityScoreError)
    async def domain_error(request: Request, exc: CityScoreError) -> Response:
        return error(request, 400, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # answered outside every middleware (Starlette's ServerErrorMiddleware): the security headers are added
        # here; the traceback goes to the log only, and a page that cannot be rendered falls back to JSON
        log.exception("%s %s failed", request.method, request.url.path)
        message = "Internal error; the server log has the details."
        try:
            response = error(request, 500, message)
        except Exception:  # the error page itself failed: the one JSON shape, still no traceback
            log.exception("the error page of %s failed", request.url.path)
            response = JSONResponse(error_body(500, message), status_code=500)
        return apply_security_headers(response, request, settings)

    # Outermost first in the request's path: HEAD as GET (so the cache and ETags see the GET), the cache (it keeps
    # what GZip made), then GZip.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(CachingMiddleware, fingerprint=repo.fingerprint, max_age=CACHE_SECONDS,
                       enabled=response_cache)
    app.add_middleware(HeadMiddleware)
    # the dashboard's signed session (sign-in, upload): HttpOnly, SameSite=Lax, Secure in production (D-84)
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_SECONDS, same_site="lax", https_only=settings.secure_cookies)
    install(app, settings, error)  # outermost: security headers, CORS (when configured), the body limit
    return app
