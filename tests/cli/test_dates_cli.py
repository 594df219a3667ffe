"""Extreme dates and years on the command line: a usage error (exit 2) that says the allowed range — the same window
as the API's (``publishing/window.py``: years 2000–2100, days 2000-01-01 … 2100-12-31) — never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cityscore.publishing.window import DAYS_TEXT, FIRST_YEAR, LAST_YEAR, YEARS_TEXT

from ..conftest import REPO, Cli

OBS = str(REPO / "docs" / "examples" / "observations.csv")
EXTREME_DAYS = ["0001-01-01", "0001-01-07", "0001-03-01", "1999-12-31", "2101-01-01", "9999-12-31"]
EXTREME_YEARS = ["0", "1", "1999", "2101", "9999", "-2026", "99999999999999999999999"]
HEADER = "settlement,metric,date,numerator,denominator,value,target,kind,baseline\n"


def one_line(output: str) -> str:
    """The error of a usage panel as one line (rich may wrap it inside the box)."""
    return " ".join(line.strip(" │╭╮╰╯─") for line in output.splitlines())


def assert_usage_error(code: int, output: str, *expected: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output and "Error" not in output.split("Usage", 1)[0]
    text = " ".join(one_line(output).split())
    for part in expected:
        assert part in text, (part, output)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    path = tmp_path / "records.csv"
    path.write_text(HEADER + "710000000,1.8,2026-03-31,90,100,,,,\n")
    return path


@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_an_extreme_as_of_is_a_usage_error_with_the_range(cli: Cli, records: Path, day: str) -> None:
    code, out = cli("monitor", "--records", str(records), "--as-of", day, ok=False)
    assert_usage_error(code, out, f"Invalid value for --as-of: {day} is outside {DAYS_TEXT}")


def test_the_as_of_window_is_inclusive(cli: Cli, records: Path) -> None:
    for day in ("2000-01-01", "2100-12-31"):
        out = cli("monitor", "--records", str(records), "--as-of", day, "-f", "json")[1]
        data = json.loads(out[out.index("{"):])
        assert data["as_of"] == day
    code, out = cli("monitor", "--records", str(records), "--as-of", "2026-13-01", ok=False)
    assert_usage_error(code, out, "write the date as YYYY-MM-DD")


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_records_with_extreme_dates_are_rejected_rows(cli: Cli, tmp_path: Path, day: str) -> None:
    """A record dated outside the plausible window is a rejected row (implausible-time), never the as-of."""
    path = tmp_path / "records.csv"
    path.write_text(HEADER + f"710000000,1.8,{day},90,100,,,,\n710000000,1.8,2026-03-05,80,100,,,,\n")
    out = cli("monitor", "--records", str(path), "-f", "json")[1]
    assert "implausible-time" in out
    assert json.loads(out[out.index("{"):])["as_of"] == "2026-03-05"


COMMANDS = {  # (each kept small and inside tmp_path, should the year ever be accepted)
    "score": ("score", "-o", OBS),
    "compute": ("compute", "--db", "{tmp}/x.duckdb"),
    "simulate": ("simulate", "--out", "{tmp}/out", "--scale", "0.0001", "-s", "710000000"),
    "demo": ("demo", "--no-serve", "--scale", "0.0001", "--dir", "{tmp}/out", "--db", "{tmp}/x.duckdb"),
}


@pytest.mark.parametrize("year", EXTREME_YEARS)
@pytest.mark.parametrize("command", COMMANDS)
def test_an_extreme_year_is_a_usage_error_with_the_range(cli: Cli, tmp_path: Path, command: str, year: str) -> None:
    args = [a.format(tmp=tmp_path) for a in COMMANDS[command]]
    code, out = cli(*args, "--year", year, ok=False)
    assert_usage_error(code, out, f"Invalid value for '--year' / '-y': {year} is outside {YEARS_TEXT}")
    assert not (tmp_path / "x.duckdb").exists() and not (tmp_path / "out").exists()  # refused before any work


def test_the_year_window_is_inclusive(cli: Cli) -> None:
    for year in (FIRST_YEAR, LAST_YEAR):
        data = json.loads(cli("score", "-o", OBS, "--year", str(year), "-f", "json")[1])
        assert data["year"] == year


@pytest.mark.parametrize("age", ["9999999d", "999999999999999999999d", "200y"])
def test_a_purge_age_reaching_before_the_window_is_a_usage_error(cli: Cli, tmp_path: Path, age: str) -> None:
    code, out = cli("quarantine", "purge", "--older-than", age, "--db", str(tmp_path / "x.duckdb"), ok=False)
    assert_usage_error(code, out, f"Invalid value for --older-than: {age} reaches back before 2000-01-01")
    assert not (tmp_path / "x.duckdb").exists()  # refused before the warehouse is opened
    out = cli("quarantine", "purge", "--older-than", "90d", "--db", str(tmp_path / "x.duckdb"), "-f", "json")[1]
    assert json.loads(out)["purged"] == 0
