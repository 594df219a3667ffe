"""The measures are part of the catalog: validated with file, line and fix, and an amendment changes the values."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from cityscore.measures import compute
from cityscore.records.schemas import table_columns
from cityscore.scoring import ScoringPolicy
from cityscore.settlements import load_registry
from cityscore.standard import load_catalog, validate_catalog
from cityscore.standard.expressions import ExpressionError, parse_expression
from cityscore.store import Warehouse

from ..conftest import CATALOG, Edit

SRC = Path(__file__).resolve().parents[2] / "src" / "cityscore"


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line)


def test_the_packaged_measures_fit_the_raw_tables() -> None:
    report = validate_catalog(CATALOG, table_columns())
    assert report.ok and report.findings == ()


def test_no_kpi_id_in_the_measures_code() -> None:
    literal = re.compile(r"""["']\d{1,2}\.\d{1,2}["']""")
    found = [f"{path.name}:{n}: {line.strip()}" for path in sorted((SRC / "measures").glob("*.py"))
             for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if literal.search(line)]
    assert found == []


def test_measures_do_not_import_scoring() -> None:
    for package in ("measures", "ingest", "simulate"):
        for path in sorted((SRC / package).rglob("*.py")):
            text = path.read_text("utf-8")
            assert not re.search(r"from \.\.+scoring|import cityscore\.scoring|from cityscore\.scoring", text), path


@pytest.mark.parametrize(("old", "new", "code", "needle"), [
    ("      table: contact_center_calls\n", "      table: call_centre_calls\n", "unknown-table",
     "table: call_centre_calls"),
    ('      condition: "answered and answer_seconds <= param.answer_within_seconds"',
     '      condition: "answered and answer_secs <= param.answer_within_seconds"', "unknown-column", "answer_secs"),
    ('      condition: "answered and answer_seconds <= param.answer_within_seconds"',
     '      condition: "answered and answer_seconds <= param.answer_within"', "unknown-parameter",
     "param.answer_within\""),
    ('      condition: "answered and answer_seconds <= param.answer_within_seconds"',
     '      condition: "answered and __import__(\'os\')"', "measure-expression", "__import__"),
    ("        district: [60, 90]\n        unit: s\n", "        district: null\n        unit: s\n",
     "parameter-missing", "district: null"),
])
def test_a_bad_measure_is_a_finding_with_file_line_and_fix(edit: Edit, old: str, new: str, code: str,
                                                           needle: str) -> None:
    catalog = edit("kpis/01.yaml", old, new)
    report = validate_catalog(catalog, table_columns())
    found = [f for f in report.findings if f.code == code]
    assert found, report.findings
    assert found[0].file == "kpis/01.yaml" and found[0].fix
    lines = [i for i, line in enumerate((catalog / "kpis/01.yaml").read_text("utf-8").splitlines(), 1)
             if needle in line]
    assert found[0].line in lines


def test_a_kind_that_does_not_fit_the_unit(edit: Edit) -> None:
    catalog = edit("kpis/03.yaml", "      kind: count\n", "      kind: share\n      condition: \"automated\"\n")
    report = validate_catalog(catalog, table_columns())
    assert [f.code for f in report.findings if f.severity == "error"] == ["measure-unit"]
    assert report.findings[0].line == _line_of(catalog / "kpis/03.yaml", "kind: share")


def test_a_measure_of_a_missing_kind_part_is_a_schema_finding(edit: Edit) -> None:
    catalog = edit("kpis/04.yaml", "      numerator:\n        table: incidents\n", "      numerators:\n"
                   "        table: incidents\n")
    report = validate_catalog(catalog)
    assert not report.ok and {f.file for f in report.errors} == {"kpis/04.yaml"}


def test_the_expression_language_refuses_code() -> None:
    for text in ("__import__('os').system('x')", "x.y.z", "lambda: 1", "open('f')", "a if b else c", "x[0]"):
        with pytest.raises(ExpressionError):
            parse_expression(text)
    expr = parse_expression('present(sla_due_at) and category in ["roads"] and x <= param.limit and y <= as_of')
    assert (expr.columns, expr.params, expr.uses_as_of) == ({"sla_due_at", "category", "x", "y"}, {"limit"}, True)


def test_an_amended_threshold_changes_the_computed_values(edit: Edit, tmp_path: Path) -> None:
    """1.8's republican answer time 30 s → 40 s: a call answered in 35 s becomes answered in time."""
    catalog = edit("kpis/01.yaml", "        republican: 30\n        oblast: 45\n",
                   "        republican: 40\n        oblast: 45\n")
    amended = load_catalog(catalog, table_columns())
    packaged = load_catalog(CATALOG)
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        for n, seconds in enumerate((25.0, 35.0, 50.0), 1):
            wh.con.execute("INSERT INTO raw_contact_center_calls (batch_id, row_number, call_id, settlement, "
                           "received_at, answered, answer_seconds) VALUES (1, ?, ?, '710000000', ?, true, ?)",
                           [n, f"c{n}", datetime(2026, 3, 3, 4, n), seconds])
        results = {}
        for name, std in (("packaged", packaged), ("amended", amended)):
            values = compute(wh.ibis(), std, load_registry(), ScoringPolicy(), year=2026, kpis=["1.8"])
            results[name] = [(v.numerator, v.denominator) for v in values]
    assert results == {"packaged": [(1, 3)], "amended": [(2, 3)]}
