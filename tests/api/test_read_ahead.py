"""The server reads the latest year while it starts (decisions.md D-67): the first request for any settlement's
score, trend or default monitor opens no connection to the warehouse, and every value of the read model is built
once however many requests ask for it together."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityscore.api.app import create_app
from cityscore.publishing import Repository, repository
from cityscore.settlements import load_registry
from cityscore.standard import Standard

from ..conftest import Demo


@pytest.fixture
def db(demo: Demo, tmp_path: Path) -> Path:
    copy = tmp_path / "cityscore.duckdb"
    shutil.copy(demo.db, copy)
    return copy


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    opened: list[int] = []
    real = repository.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(repository, "connect", connect)
    return opened


def test_first_requests_after_a_start_read_nothing(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(db)) as client:
        opened = counting(monkeypatch)
        for s in load_registry().settlements[:40]:
            score = client.get(f"/api/v1/settlements/{s.kato}/score")
            assert score.status_code == 200 and score.json()["trend"], s.kato
            assert client.get(f"/api/v1/settlements/{s.kato}/monitor").json()["source"] == "stored"
        assert opened == []
    with TestClient(create_app(db, warm=False)) as client:
        opened = counting(monkeypatch)
        client.get(f"/api/v1/settlements/{load_registry().settlements[0].kato}/score")
        assert opened  # without reading ahead, the first request reads


def test_concurrent_requests_build_a_value_once(db: Path, std: Standard, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repository(db, std, load_registry())
    repo.years()  # the published runs are read
    opened = counting(monkeypatch)
    start = threading.Barrier(20)
    found: list[int] = []

    def read() -> None:
        start.wait()
        found.append(len(repo.results()))

    threads = [threading.Thread(target=read) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == [213] * 20 and len(opened) == 1
