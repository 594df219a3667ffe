"""CLI tables on a narrow terminal: a target is never cropped or cut with «…», it wraps; nothing runs off the right
edge; ``--category`` shows that category's column only."""

from __future__ import annotations

import csv
import io
import re

import pytest

from cityscore.standard import CATEGORIES, Standard
from cityscore.standard.models import CATEGORY_ABBR_RU
from cityscore.standard.views import target_label

from ..conftest import REPO, Cli

EXAMPLES = REPO / "docs" / "examples"


def cells(output: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the (first) Rich table in ``output``: a row's cells joined over its lines."""
    lines = output.splitlines()
    header_line = next(line for line in lines if line.startswith("┃"))
    header = [h.strip() for h in header_line.strip("┃").split("┃")]
    rows: list[list[list[str]]] = []
    for line in lines[lines.index(header_line) + 2:]:
        if not line.startswith("│"):
            if rows:
                break
            continue
        parts = [p.strip() for p in line.strip("│").split("│")]
        assert len(parts) == len(header), line
        if parts[0] or not rows:
            rows.append([[p] if p else [] for p in parts])
        else:
            for cell, part in zip(rows[-1], parts, strict=True):
                if part:
                    cell.append(part)
    return header, [[" ".join(c) for c in row] for row in rows]


@pytest.fixture
def narrow(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("COLUMNS", "80")
    return cli


def test_kpi_targets_wrap_whole_on_80_columns(narrow: Cli, std: Standard) -> None:
    out = narrow("standard", "kpis")[1]
    assert max(len(line) for line in out.splitlines()) <= 80  # nothing runs off the right edge
    header, rows = cells(out)
    assert header[-3:] == [CATEGORY_ABBR_RU[c] for c in CATEGORIES]
    assert len(rows) == len(std.kpis)
    for row, kpi in zip(rows, std.kpis, strict=True):
        for cell, category in zip(row[-3:], CATEGORIES, strict=True):
            # the whole target, broken only between words (a wrapped line adds no character and loses none)
            assert cell == re.sub(r"\s+", " ", target_label(kpi.targets.target(category))), (kpi.id, category)
    assert "Безопасность ≤ 1 ч, ЖКХ ≤ 24 ч, Экология ≤ 1 ч, Образование ≤ 24 ч" in [r[-3] for r in rows]


def test_the_explanations_targets_wrap_whole_on_80_columns(narrow: Cli) -> None:
    out = narrow("score", "-o", str(EXAMPLES / "observations.csv"), "-y", "2026", "--settlement", "195220100")[1]
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80
    table = out[out.index("KPIs that count"):]
    header, rows = cells(table)
    targets = {row[0]: row[header.index("Target")] for row in rows}
    assert targets["1.9"] == "≥ 60–70 → ≥ 60"  # the range of the text, and the end the default policy applies
    assert targets["1.20"] == "Стабилизация или минимальный рост"  # the whole text, over three lines
    assert targets["1.13"] == "минимальное снижение"


def test_a_table_too_wide_for_the_terminal_is_not_cut(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    out = cli("standard", "kpis", "--initiative", "1")[1]
    _, rows = cells(out)
    assert any(c == "Безопасность ≤ 1 ч, ЖКХ ≤ 24 ч, Экология ≤ 1 ч, Образование ≤ 24 ч" for r in rows for c in r)
    assert "…" not in out


@pytest.mark.parametrize("category", CATEGORIES)
def test_category_shows_only_its_column(narrow: Cli, std: Standard, category: str) -> None:
    header, rows = cells(narrow("standard", "kpis", "--category", category)[1])
    abbreviations = {CATEGORY_ABBR_RU[c] for c in CATEGORIES}
    assert [h for h in header if h in abbreviations] == [CATEGORY_ABBR_RU[category]]
    applying = [k for k in std.kpis if std.kpi_applies(k, category)]  # type: ignore[arg-type]
    assert [r[0] for r in rows] == [k.id for k in applying]
    assert [r[-1] for r in rows] == [re.sub(r"\s+", " ", target_label(k.targets.target(category)))  # type: ignore[arg-type]
                                     for k in applying]
    flat = list(csv.DictReader(io.StringIO(narrow("standard", "kpis", "-c", category, "-f", "csv")[1])))
    assert {key.split("_")[0] for key in flat[0] if key.endswith(("_comparator", "_value", "_kind", "_text"))} == {
        category}
    functions, _ = cells(narrow("standard", "functions", "2", "--category", category)[1])
    assert [h for h in functions if h in abbreviations] == [CATEGORY_ABBR_RU[category]]
    everything, _ = cells(narrow("standard", "functions", "2")[1])
    assert [h for h in everything if h in abbreviations] == [CATEGORY_ABBR_RU[c] for c in CATEGORIES]
