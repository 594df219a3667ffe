"""Schemathesis against the OpenAPI schema: generated requests to every operation never make the server fail, and
every response conforms to what the schema says (status codes, content types, bodies, the error shape).

Driven through schemathesis' Python API with Hypothesis (its pytest plugin's lazy fixture loader does not run on
pytest 9), one test per operation of the schema.
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from cityscore.accounts import add_user, issue_token
from cityscore.api.app import create_app
from cityscore.store import Warehouse

from ..conftest import Demo

OPERATIONS = [
    "GET /api/v1/standard/initiatives", "GET /api/v1/standard/kpis", "GET /api/v1/standard/kpis/{kpi_id}",
    "GET /api/v1/settlements", "GET /api/v1/settlements/{kato}", "GET /api/v1/scores",
    "GET /api/v1/settlements/{kato}/score", "GET /api/v1/settlements/{kato}/monitor",
    "GET /api/v1/ratings/{category}", "GET /api/v1/kpis/{kpi_id}/distribution", "GET /api/v1/years",
    "GET /api/v1/settlements/{kato}/kpis/{kpi_id}/lineage",
]
WRITE_OPERATIONS = [
    "POST /api/v1/ingest", "POST /api/v1/observations", "POST /api/v1/additional-initiatives",
    "DELETE /api/v1/batches/{batch_id}", "POST /api/v1/runs", "GET /api/v1/audit",
]


@pytest.fixture(scope="module")
def operations(app: FastAPI) -> dict[str, object]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


def test_the_schema_has_every_operation(operations: dict[str, object]) -> None:
    assert sorted(operations) == sorted(OPERATIONS + WRITE_OPERATIONS)


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory, demo: Demo) -> tuple[dict[str, object], dict[str, str]]:
    """A copy of the demo warehouse with a ministry account, its app's operations and the account's header."""
    db = tmp_path_factory.mktemp("writable") / "wh.duckdb"
    shutil.copy(demo.db, db)
    with Warehouse(db) as wh:
        add_user(wh, "ministry1", role="ministry", actor="test")
        token = issue_token(wh, "ministry1", expires=None, actor="test").token
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(db, warm=False))
    found = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}
    return found, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("label", WRITE_OPERATIONS)
def test_write_operation_with_a_token_never_fails(writable: tuple[dict[str, object], dict[str, str]],
                                                   label: str) -> None:
    operations, headers = writable
    operation = operations[label]

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.path, response.status_code, response.text[:500])
        if response.status_code >= 400:
            body = response.json()
            assert body["ok"] is False and body["status"] == response.status_code

    check()


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms_to_its_schema(operations: dict[str, object], label: str) -> None:
    operation = operations[label]

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate()

    check()
