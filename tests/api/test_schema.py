"""Schemathesis against the OpenAPI schema: generated requests to every operation never make the server fail, and
every response conforms to what the schema says (status codes, content types, bodies, the error shape).

Driven through schemathesis' Python API with Hypothesis (its pytest plugin's lazy fixture loader does not run on
pytest 9), one test per operation of the schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

OPERATIONS = [
    "GET /api/v1/standard/initiatives", "GET /api/v1/standard/kpis", "GET /api/v1/standard/kpis/{kpi_id}",
    "GET /api/v1/settlements", "GET /api/v1/settlements/{kato}", "GET /api/v1/scores",
    "GET /api/v1/settlements/{kato}/score", "GET /api/v1/settlements/{kato}/monitor",
    "GET /api/v1/ratings/{category}", "GET /api/v1/kpis/{kpi_id}/distribution", "GET /api/v1/years",
    "GET /api/v1/settlements/{kato}/kpis/{kpi_id}/lineage",
]


@pytest.fixture(scope="module")
def operations(app: FastAPI) -> dict[str, object]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


def test_the_schema_has_every_operation(operations: dict[str, object]) -> None:
    assert sorted(operations) == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms_to_its_schema(operations: dict[str, object], label: str) -> None:
    operation = operations[label]

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate()

    check()
