"""The packaged catalog of 469/НК-2025: counts and invariants pinned to the text of the order."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cityscore.standard import CATEGORIES, Standard, Target


def _squash(text: str) -> str:
    return "".join(text.split())

# Appendix 2: stage per category (None: not listed) — republican, oblast, district.
STAGES = {
    1: (1, 1, None), 2: (1, 1, 1), 3: (1, 1, 2), 4: (1, 1, None), 5: (1, None, None), 6: (1, None, None),
    7: (2, 2, 3), 8: (2, None, None), 9: (1, 1, 2), 10: (2, 2, None), 11: (2, 2, None), 12: (2, 2, None),
    13: (3, 3, 3), 14: (3, 3, 3), 15: (3, 3, 3), 16: (3, 3, 3),
}
YEARS = {1: (2026, 2027), 2: (2027, 2028), 3: (2029, 2030)}

# Appendix 3: function rows and how many are required per category (republican, oblast, district).
FUNCTIONS = {
    1: (10, 10, 9, 0), 2: (25, 25, 19, 8), 3: (7, 7, 7, 7), 4: (13, 13, 13, 0), 5: (12, 12, 0, 0),
    6: (11, 11, 0, 0), 7: (5, 5, 5, 5), 8: (14, 14, 0, 0), 9: (11, 11, 11, 6), 10: (6, 6, 6, 0),
    11: (10, 10, 4, 0), 12: (8, 8, 8, 0), 13: (7, 7, 7, 7), 14: (5, 5, 5, 5), 15: (7, 7, 7, 7), 16: (6, 6, 6, 6),
}

# Appendix 4: (legible KPIs, provisional KPIs, rows known lost) per initiative.
KPI_COUNTS = {
    1: (21, 0, ()), 2: (0, 1, ()), 3: (4, 1, (1, 2)), 4: (7, 0, ()), 5: (1, 0, (1, 2, 3, 4, 5, 6)), 6: (7, 0, ()),
    7: (7, 0, ()), 8: (7, 0, ()), 9: (9, 0, ()), 10: (6, 1, ()), 11: (6, 0, ()), 12: (3, 1, ()),
    13: (2, 0, (1, 2, 3)), 14: (3, 1, ()), 15: (1, 0, (1, 2, 3, 4)), 16: (5, 0, ()),
}


def test_identity(std: Standard) -> None:
    assert std.id == "469/НК-2025"
    assert std.order.number == "469/НК"
    assert std.order.date == "2025-09-12"
    assert std.order.in_force == "2026-01-01"
    assert [c.id for c in std.categories] == list(CATEGORIES)
    assert std.translations.official == ("ru",)


def test_sections_and_spheres(std: Standard) -> None:
    assert [(s.id, s.weight) for s in std.sections] == [
        ("city_management", 25), ("safety", 25), ("transport", 20), ("ecology", 15), ("housing_utilities", 15)]
    assert sum(s.weight for s in std.sections) == 100
    assert len(std.spheres) == 8
    assert {s.id for s in std.sections} <= {s.id for s in std.spheres}


@pytest.mark.parametrize("number", sorted(STAGES))
def test_initiative_stages(std: Standard, number: int) -> None:
    initiative = std.initiative(number)
    assert initiative is not None
    for category, expected in zip(CATEGORIES, STAGES[number], strict=True):
        stage = initiative.categories[category]
        if expected is None:
            assert stage is None, f"initiative {number} should not apply to {category}"
        else:
            assert stage is not None and stage.stage == expected and stage.years == YEARS[expected]
    assert initiative.section == initiative.sphere


@pytest.mark.parametrize("number", sorted(FUNCTIONS))
def test_function_counts(std: Standard, number: int) -> None:
    table = std.functions_of(number)
    assert table is not None
    total, *required = FUNCTIONS[number]
    assert len(table.functions) == total
    assert [len(table.required_for(c)) for c in CATEGORIES] == required
    assert [f.n for f in table.functions] == list(range(1, total + 1))


def test_function_totals(std: Standard) -> None:
    rows = [f for t in std.functions for f in t.functions]
    assert len(rows) == 157
    assert [sum(f.required[c] for f in rows) for c in CATEGORIES] == [157, 107, 51]
    qualified = [(t.initiative, f.n, f.qualifier_ru) for t in std.functions for f in t.functions if f.qualifier_ru]
    assert qualified == [(2, 20, {"district": "базовая"})]


@pytest.mark.parametrize("number", sorted(KPI_COUNTS))
def test_kpi_counts(std: Standard, number: int) -> None:
    kpis = std.kpis_of(number)
    legible, provisional, lost = KPI_COUNTS[number]
    assert sum(not k.provisional for k in kpis) == legible
    assert sum(k.provisional for k in kpis) == provisional
    table = std.kpi_table(number)
    assert table is not None and table.legibility.lost_rows == lost
    assert not {k.number for k in kpis} & set(lost)


def test_kpi_totals(std: Standard) -> None:
    assert len(std.kpis) == 94
    assert sorted(k.id for k in std.kpis if k.provisional) == ["10.6", "12.4", "14.4", "2.1", "3.3"]


def test_kpi_ids_unique_and_match_initiative(std: Standard) -> None:
    ids = [k.id for k in std.kpis]
    assert len(ids) == len(set(ids))
    for kpi in std.kpis:
        assert kpi.id.split(".")[0] == str(kpi.initiative)
        assert std.initiative(kpi.initiative) is not None
        assert std.section(kpi.section) is not None


def test_every_applicable_category_has_a_target_or_reason(std: Standard) -> None:
    for kpi in std.kpis:
        for category in CATEGORIES:
            value = kpi.targets[category]
            assert isinstance(value, Target) or value.absent.strip(), (kpi.id, category)
        # in the packaged catalog every category a KPI applies to has an actual target
        for category in std.kpi_categories(kpi):
            assert kpi.targets.target(category) is not None, (kpi.id, category)


def test_category_targets_come_from_the_target_cell(std: Standard) -> None:
    """Each category's target text is part of the printed target cell (spaces aside)."""
    for kpi in std.kpis:
        whole = _squash(kpi.target_text_ru or "")
        for category in CATEGORIES:
            target = kpi.targets.target(category)
            if target is not None:
                assert _squash(target.text) in whole, (kpi.id, category, target.text)


def test_legible_kpis_are_complete_and_provisional_ones_explained(std: Standard) -> None:
    for kpi in std.kpis:
        if kpi.provisional:
            assert kpi.provisional_reason and len(kpi.provisional_reason) > 20
        else:
            assert kpi.weight_points is not None and kpi.formula_ru and kpi.target_text_ru, kpi.id
    # a provisional KPI carries no invented weight: every weight it has is printed in the order or source 002
    assert {k.id: k.weight_points for k in std.kpis if k.provisional} == {
        "2.1": 9, "3.3": 8, "10.6": 9, "12.4": 8, "14.4": 8}
    assert std.kpi("2.1").reconstructed_from == ("002",)  # type: ignore[union-attr]


def test_cross_sphere_kpis_of_initiative_1(std: Standard) -> None:
    sections = {k.id: k.section for k in std.kpis_of(1)}
    assert {i for i, s in sections.items() if s == "safety"} == {"1.11", "1.12", "1.13"}
    assert {i for i, s in sections.items() if s == "transport"} == {"1.14", "1.16"}
    assert {i for i, s in sections.items() if s == "ecology"} == {"1.17", "1.19", "1.20"}
    assert {i for i, s in sections.items() if s == "housing_utilities"} == {"1.15", "1.18", "1.21"}
    district = [k.id for k in std.kpis_of(1) if std.kpi_applies(k, "district")]
    assert district == [f"1.{n}" for n in range(8, 22)]


def test_specific_rows(std: Standard) -> None:
    k18 = std.kpi("1.8")
    assert k18 is not None and k18.weight_points == 10
    assert [k18.targets.target(c).value for c in CATEGORIES] == [95, 85, 70]  # type: ignore[union-attr]
    assert k18.parameters["answer_within_seconds"]["district"] == (60, 90)
    k19 = std.kpi("1.9")
    assert k19 is not None and k19.targets.target("district").value == (60, 70)  # type: ignore[union-attr]
    k111 = std.kpi("1.11")
    assert k111 is not None and k111.parameters["arrival_within_minutes"]["oblast"] == (7, 10)
    k112 = std.kpi("1.12")
    assert k112 is not None and k112.targets.target("republican").kind == "reduction"  # type: ignore[union-attr]
    assert k112.targets.target("district").kind == "qualitative"  # type: ignore[union-attr]
    k33 = std.kpi("3.3")
    assert k33 is not None and [k33.targets.target(c).value for c in CATEGORIES] == [  # type: ignore[union-attr]
        1_000_000, 300_000, 30_000]
    k11 = std.kpi("1.1")
    assert k11 is not None and k11.targets.target("district") is None
    assert std.kpi("8.2").near_duplicate_of == "4.1"  # type: ignore[union-attr]
    assert std.kpi("10.3").near_duplicate_of == "9.9"  # type: ignore[union-attr]


def test_bands_and_bonus(std: Standard) -> None:
    assert [(b.id, b.lower) for b in std.bands] == [
        ("excellent", 90), ("good", 75), ("average", 60), ("below_average", 45), ("low", 0)]
    assert [b.name.ru for b in std.bands] == ["Отличный", "Хороший", "Средний", "Ниже среднего", "Низкий"]
    assert std.band_for(90).id == "excellent"
    assert std.band_for(89.5).id == "good"
    assert std.band_for(44.99).id == "low"
    assert std.bonus.points_per_initiative == 2
    assert [c.n for c in std.bonus.criteria] == [1, 2, 3, 4, 5]


def test_deadlines(std: Standard) -> None:
    by_id = {d.id: d for d in std.deadlines}
    assert by_id["strategy_submission"].date == "2025-10-15"
    assert by_id["strategy_review"].working_days == 15
    assert by_id["strategy_publication"].working_days == 3
    rating = by_id["annual_rating"]
    assert (rating.month, rating.day, rating.year_offset) == (1, 31, 1)
    assert {d.clause for d in std.deadlines} >= {"п. 26", "п. 27", "п. 28", "п. 30"}


def test_models_are_frozen(std: Standard) -> None:
    kpi = std.kpi("1.8")
    assert kpi is not None
    with pytest.raises(ValidationError):
        kpi.weight_points = 1
    with pytest.raises(ValidationError):
        std.sections[0].weight = 50
