"""Shared fixtures: the packaged standard, amended copies of its catalog, the CLI, and ../shared when present."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

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
