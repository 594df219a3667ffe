"""Running the application under uvicorn: the app factory for worker processes, a free port, the server loop."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from fastapi import FastAPI

from ..errors import CityScoreError
from ..settings import ENV_SECRET_KEY, check_for_serving, get_settings
from ..standard import load_standard
from ..store import WarehouseError, default_path
from .app import create_app
from .security import announce_generated_secret

ENV_DB = "CITYSCORE_DB"
ENV_STANDARD_REF = "CITYSCORE_SERVE_STANDARD"
ENV_RESPONSE_CACHE = "CITYSCORE_RESPONSE_CACHE"


class ServerError(CityScoreError, RuntimeError):
    """The server cannot start (port taken, no warehouse)."""


def app_from_env() -> FastAPI:
    """The application of each uvicorn worker process (``--workers N``), configured through the environment."""
    ref = os.environ.get(ENV_STANDARD_REF)
    std = load_standard(ref) if ref else None
    return create_app(default_path(), std=std, response_cache=os.environ.get(ENV_RESPONSE_CACHE, "1") != "0")


def port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise ServerError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    return True


def choose_port(host: str, port: int, *, search: int = 0) -> int:
    """``port`` if it is free, else (when ``search`` > 0) the next free one of the ``search`` that follow."""
    for candidate in range(port, port + search + 1):
        if port_free(host, candidate):
            return candidate
    hint = f"ports {port}–{port + search} are" if search else f"port {port} is"
    raise ServerError(f"Cannot listen on {host}: {hint} in use. Stop what uses it, or pass --port with another "
                      "number.")


def url_of(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host and host != "::" else (
        "localhost" if host == "::" else host)
    return f"http://{shown}:{port}/"


def check_warehouse(db: Path) -> None:
    if not db.exists():
        raise WarehouseError(f"No warehouse at {db}: run `cityscore demo`, or ingest data and `cityscore score`.")


def run(db: Path, *, host: str, port: int, workers: int = 1, standard_ref: str | None = None,
        response_cache: bool = True, log_level: str = "warning") -> None:
    """Serve until interrupted. With several workers each process builds the app from the environment."""
    import uvicorn

    check_warehouse(db)
    settings = get_settings()
    check_for_serving(settings)  # production without a strong CITYSCORE_SECRET_KEY: no server (decisions.md D-79)
    announce_generated_secret(settings)
    if settings.secret_generated and workers > 1:
        os.environ[ENV_SECRET_KEY] = settings.secret_key  # every worker signs and checks sessions with one key
    os.environ[ENV_DB] = str(db.resolve())
    os.environ[ENV_RESPONSE_CACHE] = "1" if response_cache else "0"
    if standard_ref:
        os.environ[ENV_STANDARD_REF] = standard_ref
    else:
        os.environ.pop(ENV_STANDARD_REF, None)
    if workers > 1:
        uvicorn.run("cityscore.api.server:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, access_log=False)
    else:
        uvicorn.run(app_from_env(), host=host, port=port, log_level=log_level, access_log=False)
