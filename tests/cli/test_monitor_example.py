"""The monitor's record format as the README documents it: the shipped example file is valid input of
``cityscore monitor --records``, every row accepted, the scores as worked by hand; the README shows the file as it is
and names every column the reader takes."""

from __future__ import annotations

import csv
import json

from ..conftest import REPO, Cli

EXAMPLE = REPO / "docs" / "examples" / "monitor.csv"
README = (REPO / "README.md").read_text("utf-8")


def test_the_example_is_valid_monitor_input(cli: Cli) -> None:
    rows = list(csv.DictReader(EXAMPLE.read_text("utf-8").splitlines()))
    data = json.loads(cli("monitor", "--records", str(EXAMPLE), "--format", "json")[1])
    assert data["input"]["rejected"] == 0 and data["input"]["accepted"] == len(rows) == 9
    assert data["as_of"] == "2026-03-31" and data["settlement"] == "195220100"
    metrics = data["metrics"]
    assert set(metrics) == {r["metric"] for r in rows}
    # by hand: 1.8 of a district centre against its target ≥ 70 %; pooled over the window
    assert metrics["1.8"]["day"] == 100 * 441 / 540 / 70
    assert metrics["1.8"]["week"] == 100 * (412 + 398 + 441) / (530 + 505 + 540) / 70
    # 1.9 sent as the month's total: ≥ 60–70 % for district centres, the lenient end
    assert metrics["1.9"]["month"] == 100 * 118 / 160 / 60 and metrics["1.9"]["day"] is None
    # target ÷ the median of the values; Σ baseline ÷ Σ current; a week's total ÷ its target
    assert metrics["ambulance_minutes"] == {"day": 20 / 22, "week": 20 / 18, "month": 20 / 18, "quarter": 20 / 18}
    assert metrics["serious_crimes"]["week"] == 1.5 / 2 and metrics["serious_crimes"]["month"] == 3.5 / 3
    assert metrics["potholes_repaired"]["week"] == 38 / 40
    table = cli("monitor", "--records", str(EXAMPLE))[1]
    assert "CityScore monitor as of 2026-03-31" in table and "overall" in table


def test_the_readme_documents_the_format() -> None:
    section = README[README.index("### The monitor's records"):]
    section = section[:section.index("\n### ")]
    assert "```text\n" + EXAMPLE.read_text("utf-8") + "```" in section  # the file, as shipped
    assert "docs/examples/monitor.csv" in section
    header = EXAMPLE.read_text("utf-8").splitlines()[0].split(",")
    documented = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    for column in header:  # every column the reader takes has a row in the table
        assert any(f"`{column}`" in names for names in documented), column
    for kind in ("ratio_to_target", "target_over_value", "baseline_over_current", "current_over_baseline"):
        assert f"`{kind}`" in section
