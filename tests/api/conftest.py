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


class Clock:
    """A clock the test moves forward by hand (the read model's ``clock``): no test sleeps to let it see a change."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += seconds
