"""The settlement registry shipped in the package."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cityscore.settlements import KIND_CATEGORY, load_registry, normalise_name

from ..conftest import REPO, Cli

DATA = REPO / "src" / "cityscore" / "settlements" / "data"


def test_counts_per_category_and_kind() -> None:
    registry = load_registry()
    assert len(registry) == 213
    assert Counter(s.category for s in registry.settlements) == {"republican": 3, "oblast": 38, "district": 172}
    assert Counter(s.kind for s in registry.settlements) == {
        "city_of_republican_significance": 3, "oblast_centre": 17, "city_of_oblast_significance": 21,
        "district_centre": 165, "town_of_district_significance": 7}
    assert all(KIND_CATEGORY[s.kind] == s.category for s in registry.settlements)


def test_identity_and_regions() -> None:
    registry = load_registry()
    katos = [s.kato for s in registry.settlements]
    assert len(set(katos)) == 213 and all(len(k) == 9 and k.isdigit() for k in katos)
    assert len(registry.regions) == 20
    region_codes = {r.code for r in registry.regions}
    assert {s.region_code for s in registry.settlements} == region_codes
    assert all(s.kato.startswith(s.region_code) for s in registry.settlements)
    # 17 oblasts have one centre each; Павлодарский район (run from Pavlodar) adds no settlement
    assert Counter(s.region_code for s in registry.settlements if s.kind == "oblast_centre").most_common(1)[0][1] == 1
    assert registry.get("556000000") is None
    assert all(r.geometry_name for r in registry.regions)


def test_names_coordinates_population() -> None:
    registry = load_registry()
    for s in registry.settlements:
        assert s.name_ru and s.name_kk and s.name_en
        if s.has_coordinates:
            assert 40.5 <= s.latitude <= 55.5 and 46.5 <= s.longitude <= 87.5  # type: ignore[operator]
        else:
            assert s.note, f"{s.kato} {s.name_ru}: no coordinates and no reason"
        if s.population_source == "bns":
            assert s.population_date == "2026-02-01"
    assert sum(s.has_coordinates for s in registry.settlements) == 213
    bns = {s.name_en: s.population for s in registry.settlements if s.population_source == "bns"}
    assert len(bns) == 10 and bns["Almaty"] == 2_351_424 and bns["Astana"] == 1_649_242


def test_lookups() -> None:
    registry = load_registry()
    assert registry.resolve("710000000").name_en == "Astana"  # type: ignore[union-attr]
    assert registry.resolve("астана").kato == "710000000"  # type: ignore[union-attr]
    assert registry.resolve("Shymkent").category == "republican"  # type: ignore[union-attr]
    konaev = registry.resolve("Конаев")
    assert konaev is not None and konaev.name_ru == "Қонаев"
    assert registry.resolve("г. Семей").kato == "101010000"  # type: ignore[union-attr]
    assert registry.find_region("Ұлытау").code == "62"  # type: ignore[union-attr]
    assert registry.resolve("Атлантида") is None


def test_normalise_name() -> None:
    assert normalise_name("г.Қонаев") == normalise_name("Конаев") == "конаев"
    assert normalise_name("  с.  Толе  би ") == "толе би"
    assert normalise_name("Ақсу ауылы") == "аксу"


def test_attribution_is_shipped() -> None:
    text = (DATA / "ATTRIBUTION.md").read_text("utf-8")
    for needle in ("KATO", "GeoNames", "CC BY 4.0", "OpenStreetMap", "ODbL"):
        assert needle in text


def test_settlements_cli(cli: Cli) -> None:
    rows = json.loads(cli("settlements", "--category", "oblast", "--format", "json")[1])
    assert len(rows) == 38
    rows = json.loads(cli("settlements", "--region", "71", "--format", "json")[1])
    assert [r["name_ru"] for r in rows] == ["Астана"]
    rows = json.loads(cli("settlements", "--search", "Қонаев", "--format", "json")[1])
    assert [r["kato"] for r in rows] == ["191010000"]
    out = cli("settlements", "-c", "republican", "--lang", "en")[1]
    assert "Almaty" in out and "3 settlements" in out
    code, out = cli("settlements", "--region", "Атлантида", ok=False)
    assert code == 1 and "No region" in out


@pytest.mark.shared
def test_registry_rebuilds_identically(shared: Path, tmp_path: Path) -> None:
    """The shipped CSV files are exactly what the build script makes from the public sources."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_settlements.py"), "--shared", str(shared / "data"),
         "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("settlements.csv", "regions.csv"):
        assert filecmp.cmp(tmp_path / name, DATA / name, shallow=False), name
