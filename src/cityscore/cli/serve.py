"""``cityscore serve``: the public dashboard and the read-only REST API over the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..api import server
from ..settings import check_for_serving, get_settings
from ..store import default_path
from .common import StandardOption, domain_errors
from .output import console

HostOption = Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")]
PortOption = Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")]
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def announce(host: str, port: int) -> None:
    url = server.url_of(host, port)
    out = console()
    out.print(f"API documentation: {url}docs  ·  API: {url}api/v1/scores")
    out.print("Stop with Ctrl+C.")
    out.print(f"[bold]Dashboard: {url}[/]")


@domain_errors
def serve(
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file (default $CITYSCORE_DB or "
                                                         "./cityscore.duckdb).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Server processes (each reads the "
                                                                           "warehouse read-only).")] = 1,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute every response (ETags stay); for "
                                                              "measuring.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level: warning, info, debug.")] = (
        "warning"),
    standard_ref: StandardOption = None,
) -> None:
    """Serve the dashboard (Russian, Kazakh, English) and the REST API (/api/v1, OpenAPI at /docs).

    Read-only: `cityscore score` and `cityscore ingest` can write to the warehouse while it runs; new scores
    appear on the next request. Nothing is loaded from the internet: every asset is part of the package.

    Settings from the environment: CITYSCORE_ENV (development, the default, or production),
    CITYSCORE_SECRET_KEY (required in production: at least 32 random characters),
    CITYSCORE_MAX_UPLOAD_MB (default 100), CITYSCORE_CORS_ORIGINS (comma-separated origins;
    default none), CITYSCORE_HTTPS (reached over HTTPS: Secure cookies, HSTS).
    """
    path = db or default_path()
    server.check_warehouse(path)
    check_for_serving(get_settings())  # before announcing a URL that would not answer
    chosen = server.choose_port(host, port)
    announce(host, chosen)
    server.run(path, host=host, port=chosen, workers=workers, standard_ref=standard_ref, response_cache=not no_cache,
               log_level=log_level)
