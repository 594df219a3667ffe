"""Shared by the ingestion tests: a fresh warehouse, and a load with a fixed pseudonym key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cityscore.ingest.loader import IngestReport, ingest_file
from cityscore.ingest.pseudonym import Pseudonymiser
from cityscore.settlements import load_registry
from cityscore.standard import Standard
from cityscore.store import Warehouse

KEY = Pseudonymiser(b"k" * 32)


def load(wh: Warehouse | Path, std: Standard, path: Path, **kw: object) -> IngestReport:
    return ingest_file(wh, path, std=std, registry=load_registry(), pseudonymiser=KEY, **kw)  # type: ignore[arg-type]


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse(tmp_path / "wh.duckdb") as warehouse:
        yield warehouse
