"""Warehouses for the tests of simulated data (decisions.md D-68), built with the CLI as a user would: one of real
data only (the example files of docs/examples), and one mixing them with the simulator's files for another
settlement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cityscore.cli import app
from cityscore.settlements import load_registry

from .conftest import REPO

EXAMPLES = REPO / "docs" / "examples"
KASKELEN = "195220100"  # the settlement of the example files


def other_district() -> str:
    """A district settlement other than the examples' one: its data comes from the simulator."""
    return next(s.kato for s in load_registry().settlements if s.category == "district" and s.kato != KASKELEN)


def run(home: Path, *args: str) -> str:
    """``cityscore ARGS`` with its own home; its standard output."""
    result = CliRunner().invoke(app, list(args), env={"CITYSCORE_HOME": str(home), "COLUMNS": "200"})
    assert result.exit_code == 0, f"cityscore {' '.join(args)} failed:\n{result.output}"
    return result.stdout


def run_json(home: Path, *args: str) -> Any:
    return json.loads(run(home, *args, "--format", "json"))


def real_warehouse(root: Path) -> Path:
    """The example observations and additional initiatives, ingested and scored."""
    db, home = root / "real.duckdb", root / "home"
    run(home, "ingest", str(EXAMPLES / "observations.csv"), str(EXAMPLES / "additional.csv"), "--db", str(db))
    run(home, "score", "--year", "2026", "--db", str(db))
    return db


def mixed_warehouse(root: Path) -> Path:
    """The example files for Каскелен, and what ``cityscore simulate`` wrote for another settlement: raw records
    (KPI values computed from them) and value rows."""
    db, home, sim = root / "mixed.duckdb", root / "home", root / "simulated"
    run(home, "simulate", "--year", "2026", "--out", str(sim), "--scale", "0.001", "--settlement", other_district())
    run(home, "ingest", str(EXAMPLES / "observations.csv"), str(EXAMPLES / "additional.csv"),
        *map(str, sorted(sim.glob("*.parquet"))), str(sim / "observations.csv"), "--db", str(db))
    run(home, "compute", "--year", "2026", "--db", str(db))
    run(home, "score", "--year", "2026", "--db", str(db))
    return db
