"""The spheres of п. 5 with their areas, the overlapping KPIs, and the impact labels against the points."""

from __future__ import annotations

from cityscore.standard import Standard, load_catalog, validate_catalog
from cityscore.standard.impact import impact_level, impact_mismatches

from ..conftest import Edit


def test_social_sphere_and_its_areas(std: Standard) -> None:
    social = std.sphere("social")
    assert social is not None and "Социальная сфера" in social.aliases
    assert [(a.id, a.name.ru, a.name.kk, a.name.en) for a in social.areas] == [
        ("education", "Образование", "Білім беру", "Education"),
        ("culture", "Культура", "Мәдениет", "Culture"),
        ("health_care", "Здравоохранение", "Денсаулық сақтау", "Health care"),
        ("social_services", "Социальные услуги", "Әлеуметтік қызметтер", "Social services"),
    ]
    assert len(std.spheres) == 8


def test_overlaps_of_the_catalog(std: Standard) -> None:
    assert [(o.counted, o.instead_of) for o in std.overlaps] == [
        (("12.1", "12.2"), ("1.19",)), (("11.1", "11.2"), ("1.20",)), (("10.1", "10.2"), ("1.11",)),
        (("6.2",), ("1.16",)), (("7.3",), ("1.14",)), (("6.7",), ("9.8",)), (("9.4",), ("9.8",))]
    assert [o.id for o in std.overlaps_replacing("9.8")] == ["road_incident_response", "recording_to_response"]
    assert std.overlaps_replacing("12.1") == ()


def test_overlap_naming_an_unknown_kpi(edit: Edit) -> None:
    catalog = edit("standard.yaml", 'counted: ["7.3"]', 'counted: ["7.9"]')
    report = validate_catalog(catalog)
    assert [(f.file, f.path, f.code) for f in report.errors] == [
        ("standard.yaml", "overlaps[4].counted[0]", "unknown-kpi")]
    assert report.errors[0].line is not None


def test_overlap_with_a_kpi_on_both_sides(edit: Edit) -> None:
    catalog = edit("standard.yaml", 'counted: ["6.2"]', 'counted: ["6.2", "1.16"]')
    assert [(f.path, f.code) for f in validate_catalog(catalog).errors] == [
        ("overlaps[3].instead_of", "overlap-both-sides")]


def test_an_area_id_must_not_name_another_sphere(edit: Edit) -> None:
    catalog = edit("standard.yaml", "      - id: culture\n", "      - id: ecology\n")
    assert [(f.path, f.code) for f in validate_catalog(catalog).errors] == [
        ("spheres[3].areas[1].id", "duplicate-sphere")]


def test_overlaps_are_optional(edit: Edit) -> None:
    catalog = edit("standard.yaml", "overlaps:\n", "overlaps_removed:\n")
    assert not validate_catalog(catalog).ok  # an unknown key is an error …
    text = (catalog / "standard.yaml").read_text("utf-8")
    start = text.index("overlaps_removed:\n")
    (catalog / "standard.yaml").write_text(text[:start] + text[text.index("\nsections:") + 1:], "utf-8")
    assert load_catalog(catalog).overlaps == ()  # … but a catalog may have no overlaps at all


def test_impact_levels(std: Standard) -> None:
    levels = {k: impact_level(std.kpi(k)) for k in ("1.1", "1.2", "1.8", "1.11", "2.1", "3.3")}  # type: ignore[arg-type]
    assert levels == {"1.1": "medium", "1.2": "high", "1.8": "critical", "1.11": None, "2.1": None, "3.3": None}


def test_labels_and_points_disagree_only_for_1_1_and_1_2(std: Standard) -> None:
    """D-54: the points score; the one place where a label contradicts them inside a section."""
    assert [m.message() for m in impact_mismatches(std)] == [
        "1.1 (medium) has 9 points, more than 1.2 (high) with 8, in section city_management"]


def test_mismatches_follow_the_catalog(edit: Edit) -> None:
    edit("kpis/01.yaml", 'impact_ru: "Высокое: обеспечивает доверие граждан и органов власти"',
         'impact_ru: "Среднее: обеспечивает доверие граждан и органов власти"')
    catalog = edit("kpis/09.yaml", 'impact_ru: "Высокое: Оперативность, влияет на безопасность"',
                   'impact_ru: "Низкое: Оперативность, влияет на безопасность"')
    found = {(m.lower.id, m.higher.id) for m in impact_mismatches(load_catalog(catalog))}
    assert ("1.1", "1.2") not in found  # both «Среднее» now
    assert ("9.8", "9.4") in found and ("9.8", "9.9") in found  # «Низкое» with 9 points, above 8 and 7
    assert all(lower == "9.8" for lower, _ in found)
