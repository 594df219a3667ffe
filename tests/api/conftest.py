"""The application over the session's demo warehouse, through Starlette's test client (no socket)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityscore.api.app import create_app

from ..conftest import Demo


@pytest.fixture(scope="session")
def app(demo: Demo) -> FastAPI:
    return create_app(demo.db)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
