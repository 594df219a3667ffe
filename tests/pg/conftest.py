"""The PostgreSQL server of the test session (tests/pgserver.py), started once and stopped by its PID."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..pgserver import PostgresServer, start


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start()
    try:
        yield server
    finally:
        server.stop()
