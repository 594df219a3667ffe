"""Former and alternative names of the rated settlements (``data/former_names.csv``): recognised by the registry's
name lookup, without ever hiding a current name."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from cityscore.errors import SettlementRegistryError
from cityscore.settlements import FormerName, Registry, load_registry, normalise_name

from ..conftest import REPO

DATA = REPO / "src" / "cityscore" / "settlements" / "data"

# name → the KATO code of the settlement it names (former names, other spellings and current names side by side)
NAMES = {
    "Нур-Султан": "710000000", "Nur-Sultan": "710000000", "Нұр-Сұлтан": "710000000", "Акмола": "710000000",
    "Целиноград": "710000000", "Акмолинск": "710000000", "г. Целиноград": "710000000", "Астана": "710000000",
    "Семипалатинск": "101010000", "Семей": "101010000",
    "Усть-Каменогорск": "631010000", "Өскемен": "631010000", "Оскемен": "631010000", "Oskemen": "631010000",
    "Гурьев": "231010000", "Джамбул": "311010000", "Аулие-Ата": "311010000", "Тараз": "311010000",
    "Чимкент": "790000000", "Алма-Ата": "750000000", "Alma-Ata": "750000000", "Верный": "750000000",
    "Кзыл-Орда": "431010000", "Кызыл-Орда": "431010000", "Кызылорда": "431010000",
    "Актюбинск": "151010000", "Шевченко": "471010000", "Петропавловск": "591010000", "Petropavlovsk": "591010000",
    "Талды-Курган": "331010000", "Уральск": "271010000", "Орал": "271010000", "Uralsk": "271010000",
    "Кустанай": "391010000", "Қостанай": "391010000", "Павлодар": "551010000", "Джезказган": "621010000",
    "Туркестан": "611010000", "Түркістан": "611010000", "Turkestan": "611010000",
    "Капчагай": "191010000", "Кокчетав": "111010000", "Ленинск": "431910000", "Байконур": "431910000",
    "Лениногорск": "632410000", "Зыряновск": "634820100", "Ермак": "551610000", "Новый Узень": "471810000",
    "Balkhash": "351610000", "Панфилов": "334620100",
}

# Renamings of smaller settlements, checked one by one against the registry: the former name → the settlement's KATO
# code, its current Russian name, region code and district (None: a city of oblast significance, outside districts).
REVIEWED = {
    "Самаркандский": ("352410000", "Темиртау", "35", None),  # the settlement became the town Temirtau in 1945
    "Никольский": ("622010000", "Сатпаев", "62", None),  # the settlement Nikolsky, renamed after K. Satpayev in 1990
    "Семиозёрное": ("393630100", "Аулиеколь", "39", "Аулиекольский район"),  # renamed in 1997
    "Семиозерное": ("393630100", "Аулиеколь", "39", "Аулиекольский район"),  # (the same, written without ё)
    "Лебяжье": ("555230100", "Аққулы", "55", "район Аққулы"),  # Pavlodar Region, formerly Lebyazhinsky district
    "Качиры": ("554830100", "Теренколь", "55", "район Тереңкөл"),  # Pavlodar Region, formerly Kachirsky district
    "Чарск": ("104221100", "Шар", "10", "Жарминский район"),  # Abai Region (East Kazakhstan before 2022)
    "Charsk": ("104221100", "Шар", "10", "Жарминский район"),
    "Чу": ("316621100", "Шу", "31", "Шуский район"),  # Zhambyl Region; not Tole Bi, the district's centre
    "Chu": ("316621100", "Шу", "31", "Шуский район"),
}


@pytest.mark.parametrize("name", REVIEWED)
def test_a_reviewed_renaming_points_at_the_right_settlement(name: str) -> None:
    kato, current, region, district = REVIEWED[name]
    settlement = load_registry().resolve(name)
    assert settlement is not None, name
    assert (settlement.kato, settlement.name_ru, settlement.region_code, settlement.district_ru) == (
        kato, current, region, district)
    assert load_registry().resolve(current) == settlement  # the current name is the same settlement


def _rows() -> list[dict[str, str]]:
    text = resources.files("cityscore.settlements").joinpath("data", "former_names.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_former_and_alternative_names_resolve() -> None:
    registry = load_registry()
    found = {name: (s.kato if (s := registry.resolve(name)) else None) for name in NAMES}
    assert found == NAMES
    assert [s.kato for s in registry.by_name("Акмола")] == ["710000000"]


def test_every_row_of_the_file_names_its_settlement() -> None:
    registry = load_registry()
    rows = _rows()
    assert rows and set(rows[0]) == {"kato", "name", "lang", "note"}
    assert len(registry.former_names) == len(rows)
    for row in rows:
        settlement = registry.get(row["kato"])
        assert settlement is not None, row
        assert row["lang"] in ("ru", "kk", "en") and row["note"], row
        current = {normalise_name(n) for n in (settlement.name_ru, settlement.name_kk, settlement.name_en)}
        assert normalise_name(row["name"]) not in current, f"{row['name']} is already a current name"
        resolved = registry.resolve(row["name"])
        assert resolved is not None and resolved.kato == row["kato"], row  # no current name of another hides it
    assert len({(r["kato"], r["name"]) for r in rows}) == len(rows), "a repeated row"


def test_a_current_name_wins_over_a_former_one() -> None:
    shipped = load_registry()
    registry = Registry(shipped.settlements, shipped.regions,
                        (FormerName(kato="710000000", name="Семей", lang="ru", note="made up for the test"),))
    assert [s.kato for s in registry.by_name("Семей")] == ["101010000"]
    assert registry.resolve("Нур-Султан") is None  # only the rows given are known


def test_a_former_name_of_an_unknown_settlement_is_refused() -> None:
    shipped = load_registry()
    with pytest.raises(SettlementRegistryError, match="999999999"):
        Registry(shipped.settlements, shipped.regions, (FormerName(kato="999999999", name="Атлантида", lang="ru"),))


def test_the_file_is_shipped_and_attributed() -> None:
    assert (DATA / "former_names.csv").is_file()
    assert "former_names.csv" in (DATA / "ATTRIBUTION.md").read_text("utf-8")
