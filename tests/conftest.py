"""Shared fixtures: the packaged standard, amended copies of its catalog, the CLI, and ../shared when present."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityscore.api.app import create_app
from cityscore.cli import app
from cityscore.standard import Standard, load_standard
from cityscore.standard.store import packaged_root

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CATALOG = packaged_root() / "469-NK-2025"


@pytest.fixture(scope="session")
def std() -> Standard:
    return load_standard()


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged catalog."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


Edit = Callable[[str, str, str], Path]


@pytest.fixture
def edit(catalog_copy: Path) -> Edit:
    """Replace exactly one occurrence of ``old`` by ``new`` in a file of the catalog copy."""

    def _edit(rel: str, old: str, new: str) -> Path:
        path = catalog_copy / rel
        text = path.read_text("utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
        path.write_text(text.replace(old, new), "utf-8")
        return catalog_copy

    return _edit


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private CITYSCORE_HOME for the test."""
    path = tmp_path / "home"
    monkeypatch.setenv("CITYSCORE_HOME", str(path))
    monkeypatch.delenv("CITYSCORE_STANDARD", raising=False)
    return path


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True) -> tuple[int, str]:
        result = self.runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, f"cityscore {' '.join(args)} failed:\n{result.output}"
        return result.exit_code, result.output


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("COLUMNS", "200")
    return Cli()


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder (the public data and the text of the order); skip when this checkout has none."""
    if not (SHARED / "seeds").is_dir() or not (SHARED / "data").is_dir():
        pytest.skip(f"{SHARED} is absent: tests against the published text and public data need ../shared")
    return SHARED


@dataclass(frozen=True)
class Demo:
    """What `cityscore demo` made: its folder, warehouse, the arguments it ran with and what it printed."""

    root: Path
    db: Path
    args: tuple[str, ...]
    output: str


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`cityscore demo` at a small scale, once per test session: simulated raw records of the 213 settlements,
    ingested, KPIs per month and per day, one scoring run. Tests only read it (the demo test reruns it)."""
    root = tmp_path_factory.mktemp("demo")
    db = root / "cityscore.duckdb"
    args = ("demo", "--scale", "0.001", "--seed", "3", "--no-serve", "--dir", str(root / "demo-data"), "--db", str(db))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYSCORE_HOME", str(root / "home"))
        patch.delenv("CITYSCORE_STANDARD", raising=False)
        patch.setenv("COLUMNS", "200")
        result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, f"cityscore demo failed:\n{result.output}"
    return Demo(root, db, args, result.output)


# warehouses of real and of mixed (real and simulated) data, and the application over each (tests/simulated.py)

@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from .simulated import real_warehouse

    with TestClient(create_app(real_warehouse(tmp_path_factory.mktemp("real")))) as client:
        yield client


@pytest.fixture(scope="module")
def mixed_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from .simulated import mixed_warehouse

    with TestClient(create_app(mixed_warehouse(tmp_path_factory.mktemp("mixed")))) as client:
        yield client
