"""Bonus criterion 5 (spheres of п. 5 and the areas inside them) and telling additional initiatives apart."""

from __future__ import annotations

from datetime import date

import pytest

from cityscore.scoring import Evidence, ScoringPolicy, judge, score_year
from cityscore.scoring.bonus import _sphere_key, bonus_for, initiative_key, match_spheres
from cityscore.settlements import load_registry, normalise_name
from cityscore.standard import Standard

from .helpers import ASTANA, year_obs

POLICY = ScoringPolicy()


def evidence(name: str = "Цифровой двойник", sphere: str | None = "Управление городом", **changes: object) -> Evidence:
    base: dict[str, object] = {
        "settlement": ASTANA, "name": name, "sphere": sphere, "in_roadmap": True, "report_signed": True,
        "indicator_count": 2, "started": date(2026, 2, 1), "completed": date(2026, 11, 30)}
    base.update(changes)
    return Evidence(**base)  # type: ignore[arg-type]


# --- criterion 5 ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    # the social sphere by its own short name, in three languages, and by its id
    ("Социальная сфера", ["social"]), ("социальная  СФЕРА", ["social"]), ("Social sphere", ["social"]),
    ("Әлеуметтік сала", ["social"]), ("social", ["social"]),
    ("Социальная сфера (образование, культура, здравоохранение и социальные услуги)", ["social"]),
    # the four areas п. 5 lists inside it: by id and by name in ru / kk / en
    ("Образование", ["social (education)"]), ("education", ["social (education)"]),
    ("Білім беру", ["social (education)"]), ("Education", ["social (education)"]),
    ("Культура", ["social (culture)"]), ("Мәдениет", ["social (culture)"]), ("culture", ["social (culture)"]),
    ("Здравоохранение", ["social (health_care)"]), ("Денсаулық сақтау", ["social (health_care)"]),
    ("Health care", ["social (health_care)"]), ("health_care", ["social (health_care)"]),
    ("Социальные услуги", ["social (social_services)"]), ("Әлеуметтік қызметтер", ["social (social_services)"]),
    ("social_services", ["social (social_services)"]),
    # several names in one cell, each a sphere or an area
    ("Здравоохранение и социальные услуги", ["social (health_care, social_services)"]),
    ("Социальная сфера (образование)", ["social (education)"]),
    ("Экология; ЖКХ", ["ecology", "housing_utilities"]),
    # the other spheres: id, names, the order's abbreviation, Kazakh typed without its letters, quotes, dashes
    ("Транспорт и логистика", ["transport"]), ("Логистика", ["transport"]), ("ЖКХ", ["housing_utilities"]),
    ("жилищно - коммунальное хозяйство", ["housing_utilities"]), ("Кауипсиздик", ["safety"]),
    ("«Экология»", ["ecology"]), ("Экономика", ["economy"]), ("infrastructure", ["infrastructure"]),
    # not spheres of п. 5
    ("Туризм", []), ("Спорт", []), ("Образование и спорт", []), ("и", []), ("", []), (None, []),
])
def test_spheres_and_areas(std: Standard, text: str | None, expected: list[str]) -> None:
    assert [m.describe() for m in match_spheres(std, text)] == expected


@pytest.mark.parametrize(("sphere", "met", "reason"), [
    ("Образование", True, "sphere social (education)"),
    ("Социальная сфера", True, "sphere social"),
    ("Экология и ЖКХ", True, "spheres ecology, housing_utilities"),
    ("Спорт", False, "«Спорт» is not a sphere of п. 5 or an area listed in one"),
    (None, False, "no sphere given (sphere)"),
])
def test_criterion_5_verdict(std: Standard, sphere: str | None, met: bool, reason: str) -> None:
    verdict = judge(std, evidence(sphere=sphere), 2026, POLICY)
    criterion = next(c for c in verdict.criteria if c.id == "smart_city_sphere")
    assert (criterion.met, criterion.reason) == (met, reason)
    assert verdict.points == (2.0 if met else 0.0)


def test_every_sphere_name_names_one_sphere(std: Standard) -> None:
    """The folding of sphere names merges no two spheres or areas of the catalog."""
    owners: dict[str, set[str]] = {}
    for sphere in std.spheres:
        for label in sphere.labels():
            owners.setdefault(_sphere_key(label), set()).add(sphere.id)
        for area in sphere.areas:
            for label in (area.id, area.name.ru, area.name.en, area.name.kk, *area.aliases):
                owners.setdefault(_sphere_key(label), set()).add(f"{sphere.id}/{area.id}")
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


# --- initiatives told apart by their own name -----------------------------------------------------------------
@pytest.mark.parametrize(("a", "b"), [
    ("«Умный двор»", "умный  двор"), ("Умный Двор", '"Умный двор"'), ("Зелёный двор", "Зеленый двор"),
    ("Цифровой\u00a0двойник", " цифровой двойник "), ("“Smart bus”", "smart bus"),
])
def test_same_initiative(a: str, b: str) -> None:
    assert initiative_key(a) == initiative_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Safe city", "Safe village"),  # the settlement folding drops "city"/"village": both became "safe"
    ("Город без очередей", "Без очередей"),  # … and the type word «город»
    ("С заботой о пожилых", "Заботой о пожилых"),  # … and «с» (село)
    ("Ақылды үн", "Ақылды ұн"),  # … and merged Kazakh letters (voice, flour)
    ("Мой двор", "Мои двор"),  # … and й with и
])
def test_different_initiatives(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)  # what the bonus used to compare
    assert initiative_key(a) != initiative_key(b)


def test_each_initiative_earns_its_points_once(std: Standard) -> None:
    listed = [evidence("«Умный двор»", "ЖКХ"), evidence("умный  двор", "ЖКХ"), evidence("Safe city", "Безопасность"),
              evidence("Safe village", "Безопасность"), evidence("Город без очередей", "Образование"),
              evidence("Без очередей", "Здравоохранение")]
    verdicts = bonus_for(std, listed, 2026, POLICY)
    # by hand: «Умный двор» once (2), Safe city (2), Safe village (2), Город без очередей (2), Без очередей (2)
    assert [v.points for v in verdicts] == [2.0, 0.0, 2.0, 2.0, 2.0, 2.0]
    assert [v.note for v in verdicts] == [None, "listed more than once; counted once", None, None, None, None]
    run = score_year(std, POLICY, load_registry(), observations=[year_obs(ASTANA, "1.8", 95)], evidence=listed,
                     year=2026)
    assert run.results[0].bonus == 10.0


@pytest.mark.parametrize("reverse", [False, True])
def test_a_repeated_listing_counts_whichever_row_qualifies(std: Standard, reverse: bool) -> None:
    listed = [evidence("Умный двор", "ЖКХ", in_roadmap=False), evidence("Умный двор", "ЖКХ")]
    if reverse:
        listed.reverse()
    verdicts = bonus_for(std, listed, 2026, POLICY)
    assert sum(v.points for v in verdicts) == 2.0
    qualifying = next(v for v in verdicts if v.points)
    assert qualifying.note is None and all(c.met for c in qualifying.criteria)
    other = next(v for v in verdicts if not v.points)
    assert other.note == "listed more than once; counted once"


def test_no_limit_on_the_number_of_bonuses(std: Standard) -> None:
    """D-56: every qualifying initiative adds 2 points; only the 100-point cap (D-12) bounds the sum."""
    listed = [evidence(f"Инициатива {n}", "Экология") for n in range(7)]
    run = score_year(std, POLICY, load_registry(), observations=[year_obs(ASTANA, "1.8", 95)], evidence=listed,
                     year=2026)
    result = run.results[0]
    assert result.bonus == 14.0 and result.uncapped == pytest.approx(result.base + 14.0)
