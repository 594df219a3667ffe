"""``cityscore standard …``: output equals the library's, the JSON contract holds, errors are clear."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from cityscore.standard import CATEGORIES, Standard
from cityscore.standard.views import kpi_row

from ..conftest import CATALOG, Cli, Edit

REQUIRED_KEYS = {"id", "initiative", "section", "name_ru", "name_en", "unit", "weight_points", "periodicity",
                 "provisional", "targets"}


def test_kpis_json_equals_library(cli: Cli, std: Standard) -> None:
    _, out = cli("standard", "kpis", "--format", "json")
    rows = json.loads(out)
    assert rows == [kpi_row(std, k) for k in std.kpis]
    assert len(rows) == 94


def test_kpis_json_contract(cli: Cli) -> None:
    rows = json.loads(cli("standard", "kpis", "--format", "json")[1])
    for row in rows:
        assert row.keys() >= REQUIRED_KEYS
        assert set(row["targets"]) == set(CATEGORIES)
        for category, target in row["targets"].items():
            if target is None:
                assert row["absent_reasons"][category]
                continue
            assert target["comparator"] in ("≥", "≤", None)
            value = target["value"]
            assert value is None or isinstance(value, int | float) or (
                isinstance(value, list) and len(value) == 2 and value[0] <= value[1])
            assert target["kind"] in ("threshold", "reduction", "growth", "stabilisation", "compliance",
                                      "qualitative")
            assert target["text"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["1.9"]["targets"]["district"] == {"comparator": "≥", "value": [60, 70], "kind": "threshold",
                                                   "text": "≥60 -70%"}
    assert by_id["1.1"]["targets"]["district"] is None
    assert by_id["2.1"]["provisional"] is True


def test_kpis_filters(cli: Cli) -> None:
    rows = json.loads(cli("standard", "kpis", "--initiative", "1", "--category", "district", "--format", "json")[1])
    assert [r["id"] for r in rows] == [f"1.{n}" for n in range(8, 22)]
    rows = json.loads(cli("standard", "kpis", "-c", "district", "--format", "json")[1])
    assert all("district" in r["applies_to"] for r in rows)
    assert "5.7" not in {r["id"] for r in rows}  # parking applies to republican cities only
    code, out = cli("standard", "kpis", "--category", "village", ok=False)
    assert code == 2 and "republican, oblast or district" in out
    code, out = cli("standard", "kpis", "--initiative", "42", ok=False)
    assert code == 1 and "No initiative 42" in out


def test_kpis_csv(cli: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("standard", "kpis", "--format", "csv")[1])))
    assert len(rows) == 94
    row = next(r for r in rows if r["id"] == "1.9")
    assert (row["district_comparator"], row["district_value"], row["weight_points"]) == ("≥", "60..70", "9")


def test_kpis_table_shows_counts(cli: Cli) -> None:
    out = cli("standard", "kpis", "-i", "3")[1]
    assert "3.3" in out and "provisional" in out
    assert "5 KPIs: 4 legible, 1 provisional" in out


def test_kpi_detail(cli: Cli) -> None:
    detail = json.loads(cli("standard", "kpi", "1.8", "--format", "json")[1])
    assert detail["parameters"]["answer_within_seconds"]["district"] == [60, 90]
    assert detail["formula_ru"].startswith("(Количество звонков")
    assert detail["name_translation"] == "unofficial"
    out = cli("standard", "kpi", "1.8")[1]
    assert "Время ответа на звонок в контакт-центр (109)" in out and "≥ 95" in out
    code, out = cli("standard", "kpi", "99.1", ok=False)
    assert code == 1 and "No KPI '99.1'" in out


def test_initiatives(cli: Cli) -> None:
    rows = json.loads(cli("standard", "initiatives", "--format", "json")[1])
    assert len(rows) == 16
    legible = {r["number"]: (r["kpis_legible"], r["kpis_provisional"]) for r in rows}
    assert legible[1] == (21, 0) and legible[2] == (0, 1) and legible[5] == (1, 0)
    assert rows[0]["categories"]["district"] is None
    out = cli("standard", "initiatives")[1]
    assert "89 legible, 5 provisional" in out


def test_functions(cli: Cli) -> None:
    rows = json.loads(cli("standard", "functions", "2", "--category", "district", "--format", "json")[1])
    assert len(rows) == 8
    assert rows[-3]["qualifier_ru"] == {"district": "базовая"}
    out = cli("standard", "functions", "2", "--lang", "en")[1]
    assert "25 functions" in out
    code, out = cli("standard", "functions", "17", ok=False)
    assert code == 1 and "No initiative 17" in out


def test_validate_cli(cli: Cli, edit: Edit) -> None:
    code, out = cli("standard", "validate", str(CATALOG))
    assert "valid" in out
    catalog = edit("kpis/05.yaml", "weight_points: 8\n", "weight_points: восемь\n")
    code, out = cli("standard", "validate", str(catalog), ok=False)
    assert code == 1
    assert "kpis/05.yaml:" in out and "kpis[0].weight_points" in out and "«Ценность KPI (баллы)»" in out
    code, out = cli("standard", "validate", str(catalog), "--format", "json", ok=False)
    report = json.loads(out)
    assert report["ok"] is False and report["errors"] == 1
    assert report["findings"][0]["path"] == "kpis[0].weight_points"


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_import_refuses_invalid_and_keeps_the_store(cli: Cli, edit: Edit, home: Path) -> None:
    catalog = edit("standard.yaml", 'id: "469/НК-2025"', 'id: "469/НК-2025/изм-1"')
    cli("standard", "import", str(catalog))
    stored = home / "standards" / "469-NK-2025-izm-1"
    assert (stored / "standard.yaml").is_file()
    before = _tree_hash(home)
    # an amendment with an error under the same id: refused, nothing changes, even with --replace
    edit("kpis/04.yaml", 'id: "4.2"', 'id: "4.1"')
    code, out = cli("standard", "import", str(catalog), "--replace", ok=False)
    assert code == 1 and "nothing was changed" in out
    assert _tree_hash(home) == before
    # the stored amendment is usable
    rows = json.loads(cli("standard", "kpis", "-i", "4", "--format", "json", "--standard", "469/НК-2025/изм-1")[1])
    assert [r["id"] for r in rows][:2] == ["4.1", "4.2"]
    versions = json.loads(cli("standard", "versions", "--format", "json")[1])
    assert [(v["id"], v["origin"]) for v in versions] == [("469/НК-2025", "packaged"),
                                                          ("469/НК-2025/изм-1", "imported")]


def test_import_requires_a_new_id(cli: Cli, catalog_copy: Path, home: Path) -> None:
    code, out = cli("standard", "import", str(catalog_copy), ok=False)
    assert code == 1 and "needs its own id" in out
    assert not (home / "standards").exists() or not any((home / "standards").iterdir())


def test_export_then_amend(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    cli("standard", "export", str(target))
    assert (target / "kpis" / "01.yaml").read_text("utf-8") == (CATALOG / "kpis" / "01.yaml").read_text("utf-8")
    code, out = cli("standard", "export", str(target), ok=False)
    assert code == 1 and "already exists" in out


def test_unknown_standard(cli: Cli) -> None:
    code, out = cli("standard", "kpis", "--standard", "999/XX", ok=False)
    assert code == 1 and "No catalog '999/XX'" in out


def test_export_validate_import_carry_the_measures(cli: Cli, tmp_path: Path, home: Path) -> None:
    target = tmp_path / "amended"
    cli("standard", "export", str(target))
    standard_yaml = target / "standard.yaml"
    standard_yaml.write_text(standard_yaml.read_text("utf-8").replace('id: "469/НК-2025"', 'id: "469/НК-2025/изм-2"',
                                                                      1), "utf-8")
    kpis = target / "kpis" / "01.yaml"
    text = kpis.read_text("utf-8")
    kpis.write_text(text.replace("answer_seconds <= param.answer_within_seconds", "answer_sec <= param.answer_within_"
                                 "seconds", 1), "utf-8")
    code, out = cli("standard", "validate", str(target), "--format", "json", ok=False)
    found = [f for f in json.loads(out)["findings"] if f["code"] == "unknown-column"]
    assert code == 1 and found and found[0]["file"] == "kpis/01.yaml" and "answer_sec" in found[0]["message"]
    code, out = cli("standard", "import", str(target), ok=False)
    assert code == 1 and "nothing was changed" in out
    kpis.write_text(text.replace("answered and answer_seconds <= param.answer_within_seconds",
                                 "answer_seconds <= param.answer_within_seconds", 1), "utf-8")
    cli("standard", "import", str(target))
    detail = json.loads(cli("standard", "kpi", "1.8", "--format", "json", "--standard", "469/НК-2025/изм-2")[1])
    assert detail["measure"]["condition"] == "answer_seconds <= param.answer_within_seconds"
