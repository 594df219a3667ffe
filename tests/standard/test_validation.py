"""Amended catalogs: every kind of mistake is reported with file, YAML path, line and a fix."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityscore.standard import validate_catalog
from cityscore.standard.checks import numbers_in_text

from ..conftest import CATALOG, Edit


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_packaged_catalog_is_valid_without_warnings() -> None:
    report = validate_catalog(CATALOG)
    assert report.ok
    assert report.findings == ()
    assert report.standard_id == "469/НК-2025"


def test_unknown_initiative(edit: Edit) -> None:
    catalog = edit("kpis/05.yaml", "initiative: 5\n", "initiative: 17\n")
    report = validate_catalog(catalog)
    assert not report.ok
    found = [f for f in report.findings if f.code == "unknown-initiative"]
    assert [(f.file, f.path, f.line) for f in found] == [
        ("kpis/05.yaml", "initiative", _line_of(catalog / "kpis/05.yaml", "initiative: 17"))]
    assert "initiative 17 is not in initiatives.yaml" in found[0].message
    assert "initiatives.yaml" in found[0].fix


def test_non_numeric_weight(edit: Edit) -> None:
    catalog = edit("kpis/05.yaml", "weight_points: 8\n", "weight_points: восемь\n")
    report = validate_catalog(catalog)
    assert report.flatten(["file", "path", "code"]) == [["kpis/05.yaml", "kpis[0].weight_points", "invalid-value"]]
    finding = report.findings[0]
    assert finding.line == _line_of(catalog / "kpis/05.yaml", "weight_points: восемь")
    assert '"восемь"' in finding.message
    assert "positive number" in finding.fix


def test_missing_category(edit: Edit) -> None:
    catalog = edit(
        "kpis/05.yaml",
        '      district: {comparator: "≤", value: 40, kind: threshold, text: "≤40"}\n',
        "",
    )
    report = validate_catalog(catalog)
    assert report.flatten(["file", "path", "code"]) == [["kpis/05.yaml", "kpis[0].targets", "missing-key"]]
    assert "'district'" in report.findings[0].message
    assert "republican, oblast, district" in report.findings[0].fix


def test_duplicate_id(edit: Edit) -> None:
    catalog = edit("kpis/04.yaml", 'id: "4.2"', 'id: "4.1"')
    report = validate_catalog(catalog)
    assert report.flatten(["file", "path", "code"]) == [["kpis/04.yaml", "kpis[1].id", "duplicate-kpi-id"]]
    assert report.findings[0].fix == "give every KPI its own id"


def test_duplicate_id_across_files(edit: Edit) -> None:
    catalog = edit("kpis/16.yaml", 'id: "16.5"', 'id: "1.5"')
    codes = {f.code for f in validate_catalog(catalog).findings}
    assert codes == {"kpi-id-initiative", "duplicate-kpi-id"}


def test_yaml_syntax_error_names_the_line(edit: Edit) -> None:
    catalog = edit("kpis/06.yaml", "    weight_points: 9\n    impact_ru: \"Высокое: Влияет на мобильность",
                   "    weight_points: 9\n   impact_ru: \"Высокое: Влияет на мобильность")
    report = validate_catalog(catalog)
    assert [(f.file, f.code) for f in report.findings] == [("kpis/06.yaml", "yaml-syntax")]
    assert report.findings[0].line is not None


def test_section_weights_must_sum_to_100(edit: Edit) -> None:
    catalog = edit("standard.yaml", "  - id: ecology\n    weight: 15\n", "  - id: ecology\n    weight: 20\n")
    report = validate_catalog(catalog)
    assert report.flatten(["file", "path", "code"]) == [["standard.yaml", "sections", "section-weights"]]
    assert "sum to 105" in report.findings[0].message


def test_target_must_agree_with_printed_text(edit: Edit) -> None:
    catalog = edit("kpis/02.yaml", 'district: {comparator: "≥", value: 80,', 'district: {comparator: "≥", value: 90,')
    report = validate_catalog(catalog)
    assert report.flatten(["path", "code"]) == [["kpis[0].targets.district.value", "target-text-mismatch"]]


def test_unknown_key_and_duplicate_key(edit: Edit) -> None:
    catalog = edit("kpis/05.yaml", "    weight_points: 8\n", "    weight_point: 8\n")
    codes = sorted(f.code for f in validate_catalog(catalog).findings)
    assert codes == ["missing-key", "unknown-key"]
    catalog = edit("kpis/05.yaml", "    weight_point: 8\n", "    weight_points: 8\n    weight_points: 7\n")
    report = validate_catalog(catalog)
    assert report.flatten(["path", "code"]) == [["kpis[0].weight_points", "duplicate-key"]]


def test_unknown_section_and_missing_file(edit: Edit, catalog_copy: Path) -> None:
    edit("kpis/09.yaml", "    section: safety\n    name:\n      ru: \"Процент охвата",
         "    section: security\n    name:\n      ru: \"Процент охвата")
    (catalog_copy / "functions.yaml").unlink()
    report = validate_catalog(catalog_copy)
    assert {(f.file, f.code) for f in report.findings} == {("functions.yaml", "missing-file")}
    # once the file is back, the unknown section is found
    (catalog_copy / "functions.yaml").write_text((CATALOG / "functions.yaml").read_text("utf-8"), "utf-8")
    report = validate_catalog(catalog_copy)
    assert report.flatten(["file", "path", "code"]) == [["kpis/09.yaml", "kpis[0].section", "unknown-section"]]


def test_provisional_kpi_needs_a_reason(edit: Edit) -> None:
    catalog = edit("kpis/05.yaml", "    provisional: false\n    provisional_reason: null\n",
                   "    provisional: true\n    provisional_reason: null\n")
    report = validate_catalog(catalog)
    assert report.flatten(["path", "code"]) == [["kpis[0].provisional_reason", "wrong-type"]]
    assert "provisional_reason" in report.findings[0].fix


def test_survey_targets_need_their_scale(edit: Edit) -> None:
    catalog = edit("kpis/16.yaml", 'district: {comparator: "≥", value: 7, scale_max: 10,',
                   'district: {comparator: "≥", value: 7,')
    report = validate_catalog(catalog)
    assert report.flatten(["path", "code"]) == [["kpis[4].targets.district", "survey-scale"]]


def test_not_a_catalog(tmp_path: Path) -> None:
    report = validate_catalog(tmp_path / "nothing-here")
    assert report.flatten(["code"]) == [["not-a-directory"]]


def test_numbers_in_printed_targets() -> None:
    assert numbers_in_text("≥ 1 млн") == [1_000_000]
    assert numbers_in_text("≥ 300 тыс") == [300_000]
    assert numbers_in_text("≥10 000") == [10_000]
    assert numbers_in_text("≥60 -70%") == [60, 70]
    assert numbers_in_text("-5-10%") == [5, 10]
    assert numbers_in_text("≥3.5 из 5") == [3.5]
    assert numbers_in_text("≤ 15 (республиканские города)") == [15]
    assert numbers_in_text("По возможности") == []


_FIELDS = ["weight_points", "unit", "periodicity", "direction", "id", "section", "targets", "provisional", "name"]
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8), st.lists(st.integers(0, 100), max_size=3),
    st.dictionaries(st.sampled_from(["republican", "oblast", "district", "x"]), st.integers(0, 9), max_size=3),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(["kpis/01.yaml", "kpis/07.yaml", "kpis/12.yaml"]), index=st.integers(0, 3),
       field=st.sampled_from(_FIELDS), value=_VALUES)
def test_any_corruption_is_reported_not_raised(file: str, index: int, field: str, value: object) -> None:
    """Whatever a person writes into a KPI field, validation returns findings that name file, path and fix."""
    with tempfile.TemporaryDirectory() as tmp:
        import shutil

        catalog = Path(tmp) / "c"
        shutil.copytree(CATALOG, catalog)
        path = catalog / file
        data = yaml.safe_load(path.read_text("utf-8"))
        original = data["kpis"][index].get(field)
        data["kpis"][index][field] = value
        path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
        report = validate_catalog(catalog)
        if value == original:
            return
        for finding in report.findings:
            assert finding.file and finding.path and finding.fix and finding.message
        if not report.ok:
            assert any(f.file == file for f in report.errors)
