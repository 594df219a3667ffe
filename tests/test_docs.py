"""Generated documents are fresh: docs/standard.md (the catalog) and docs/cli.md (every --help)."""

from __future__ import annotations

from cityscore.cli.reference import render_cli_reference
from cityscore.standard import Standard
from cityscore.standard.markdown import render_markdown

from .conftest import REPO

STALE = "is stale: run `python scripts/gen_docs.py` and commit the result"


def test_standard_reference_is_fresh(std: Standard) -> None:
    current = (REPO / "docs" / "standard.md").read_text("utf-8")
    assert current == render_markdown(std), f"docs/standard.md {STALE}"


def test_standard_reference_covers_everything(std: Standard) -> None:
    text = render_markdown(std)
    for kpi in std.kpis:
        assert f"#### {kpi.id} {kpi.name.ru}" in text
    for table in std.functions:
        for function in table.functions:
            assert function.name.ru.replace("|", "\\|") in text
    assert text.count("⚠ *provisional*") == 5


def test_cli_reference_is_fresh() -> None:
    current = (REPO / "docs" / "cli.md").read_text("utf-8")
    assert current == render_cli_reference(), f"docs/cli.md {STALE}"


def test_data_reference_is_fresh(std: Standard) -> None:
    from cityscore.measures.reference import render_data_reference

    current = (REPO / "docs" / "data-reference.md").read_text("utf-8")
    assert current == render_data_reference(std), f"docs/data-reference.md {STALE}"


def test_shipped_decisions_are_the_docs_decisions() -> None:
    shipped = (REPO / "src" / "cityscore" / "web" / "decisions.md").read_text("utf-8")
    assert shipped == (REPO / "docs" / "decisions.md").read_text("utf-8"), f"src/cityscore/web/decisions.md {STALE}"
