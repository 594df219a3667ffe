"""The settlement worked through by hand in docs/scoring.md §7: every number there is the program's."""

from __future__ import annotations

import re

import pytest

from cityscore.ingest import read_evidence, read_observations
from cityscore.scoring import ScoringPolicy, score_year
from cityscore.scoring.explain import improvements
from cityscore.settlements import load_registry
from cityscore.standard import Standard

from ..conftest import REPO
from .helpers import KASKELEN

DOC = REPO / "docs" / "scoring.md"
EXAMPLES = REPO / "docs" / "examples"


@pytest.fixture(scope="module")
def result(std: Standard):  # type: ignore[no-untyped-def]
    registry = load_registry()
    observations, report = read_observations(EXAMPLES / "observations.csv", std, registry)
    evidence, ev_report = read_evidence(EXAMPLES / "additional.csv", registry)
    assert report.errors == [] and ev_report.errors == []
    run = score_year(std, ScoringPolicy(), registry, observations=observations, evidence=evidence, year=2026)
    return run.result(KASKELEN)


def _section_text() -> str:
    text = DOC.read_text("utf-8")
    return text[text.index("## 7. A settlement worked through by hand"):]


def test_headline_numbers(result) -> None:  # type: ignore[no-untyped-def]
    assert result.base == pytest.approx(68.1690, abs=5e-5)
    assert result.bonus == 2
    assert result.exact == pytest.approx(70.1690, abs=5e-5)
    assert result.cityscore == 70.2
    assert result.band == "average"
    assert result.coverage == pytest.approx(100)
    assert result.rank == 1


def test_every_kpi_row_of_the_document(result) -> None:  # type: ignore[no-untyped-def]
    text = _section_text()
    counted = [o for o in result.kpis if o.counts]
    assert len(counted) == 11
    for outcome in counted:
        row = next(line for line in text.splitlines() if line.startswith(f"| {outcome.kpi} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[3].endswith(f"{outcome.score:.4f}"), (outcome.kpi, cells[3])
        assert cells[4].endswith(f"{outcome.weight:.4f}"), (outcome.kpi, cells[4])
        assert cells[5] == f"{outcome.contribution:.4f}", (outcome.kpi, cells[5])


def test_sections_and_improvements_of_the_document(result, std: Standard) -> None:  # type: ignore[no-untyped-def]
    text = _section_text()
    for section_id, label in (("city_management", "City management"), ("safety", "safety"),
                              ("transport", "transport"), ("ecology", "ecology"),
                              ("housing_utilities", "housing and utilities")):
        index = result.sections[section_id].index
        assert re.search(rf"{label}:\s[^;]*?{index:.4f}", text), (section_id, index)
    assert f"**Base** = {result.base:.4f}" in text
    for item in improvements(std, result, 5):
        assert f"{item.kpi} +{item.points_at_stake:.2f}" in text


def test_not_counted_reasons(result) -> None:  # type: ignore[no-untyped-def]
    reasons = {o.kpi: o.reason for o in result.kpis if not o.counts}
    assert reasons["9.1"] == "initiative 9 is due from 2027"
    assert reasons["1.12"].startswith("qualitative target")
    verdicts = {v.name: v for v in result.bonus_verdicts}
    assert verdicts["Цифровой паспорт двора"].qualifies
    failing = verdicts["Умные теплицы"]
    assert [c.id for c in failing.criteria if not c.met] == ["indicators"]
