"""The dashboard over the session's demo warehouse: a test client, and a real server for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityscore.api.app import create_app

from ..conftest import Demo


@pytest.fixture(scope="session")
def web_app(demo: Demo) -> FastAPI:
    return create_app(demo.db)


@pytest.fixture
def page_client(web_app: FastAPI) -> Iterator[TestClient]:
    """A fresh client per test: no language cookie carried over."""
    with TestClient(web_app) as client:
        yield client


@pytest.fixture(scope="session")
def live_server(web_app: FastAPI) -> Iterator[str]:
    """The application under uvicorn on a free port of 127.0.0.1, for as long as the session needs it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
