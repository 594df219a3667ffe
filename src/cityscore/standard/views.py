"""Plain-data views of the catalog: the JSON shapes the CLI prints and the API serves.

The shape of :func:`kpi_row` is a contract (``cityscore standard kpis --format json``): ``id``, ``initiative``,
``section``, ``name_ru``, ``name_en``, ``unit``, ``weight_points``, ``periodicity``, ``provisional`` and
``targets`` keyed by ``republican``/``oblast``/``district`` — each ``{"comparator", "value", "kind", "text"}`` or
null, the reason for a null being in ``absent_reasons``. Keys may be added, never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import CATEGORIES, KPI, Category, Standard, Target


def kpi_row(std: Standard, kpi: KPI) -> dict[str, object]:
    """The summary of one KPI (one element of ``standard kpis --format json``)."""
    targets: dict[str, object] = {}
    absent: dict[str, str] = {}
    for category in CATEGORIES:
        value = kpi.targets[category]
        if isinstance(value, Target):
            targets[category] = value.to_json()
        else:
            targets[category] = None
            absent[category] = value.absent
    return {
        "id": kpi.id,
        "initiative": kpi.initiative,
        "section": kpi.section,
        "name_ru": kpi.name.ru,
        "name_en": kpi.name.en,
        "name_kk": kpi.name.kk,
        "unit": kpi.unit,
        "unit_ru": kpi.unit_ru,
        "direction": kpi.direction,
        "weight_points": kpi.weight_points,
        "periodicity": kpi.periodicity,
        "provisional": kpi.provisional,
        "provisional_reason": kpi.provisional_reason,
        "applies_to": list(std.kpi_categories(kpi)),
        "targets": targets,
        "absent_reasons": absent,
        "parameters": {name: _param_json(p.model_dump()) for name, p in kpi.parameters.items()},
    }


def kpi_detail(std: Standard, kpi: KPI) -> dict[str, object]:
    """Everything the catalog says about one KPI (``standard kpi ID --format json``)."""
    row = kpi_row(std, kpi)
    initiative = std.initiative(kpi.initiative)
    section = std.section(kpi.section)
    row.update(
        {
            "standard_id": std.id,
            "name_translation": "unofficial",
            "initiative_name_ru": initiative.name.ru if initiative else None,
            "section_name_ru": section.name.ru if section else None,
            "section_note": kpi.section_note,
            "applies_note": kpi.applies_note,
            "description_ru": kpi.description_ru,
            "formula_ru": kpi.formula_ru,
            "data_source_ru": kpi.data_source_ru,
            "system_ru": kpi.system_ru,
            "periodicity_ru": kpi.periodicity_ru,
            "impact_ru": kpi.impact_ru,
            "target_text_ru": kpi.target_text_ru,
            "reconstructed_from": list(kpi.reconstructed_from),
            "notes": list(kpi.notes),
            "measure": kpi.measure.model_dump(mode="json", exclude_none=True) if kpi.measure else None,
        }
    )
    return row


def _param_json(raw: dict[str, object]) -> dict[str, object]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in raw.items()}


@dataclass(frozen=True)
class Legibility:
    """How much of an initiative's Appendix 4 table is usable."""

    initiative: int
    status: str
    legible: int
    provisional: int
    lost_rows: tuple[int, ...]


def legibility(std: Standard) -> list[Legibility]:
    """Legible and provisional KPI counts per initiative, with the rows known to be lost."""
    out = []
    for initiative in std.initiatives:
        kpis = std.kpis_of(initiative.number)
        table = std.kpi_table(initiative.number)
        out.append(
            Legibility(
                initiative=initiative.number,
                status=table.legibility.status if table else "lost",
                legible=sum(not k.provisional for k in kpis),
                provisional=sum(k.provisional for k in kpis),
                lost_rows=table.legibility.lost_rows if table else (),
            )
        )
    return out


def initiative_row(std: Standard, number: int) -> dict[str, object]:
    """One initiative with its stages, function counts and KPI legibility (``standard initiatives``)."""
    initiative = std.initiative(number)
    if initiative is None:
        raise KeyError(number)
    functions = std.functions_of(number)
    counts = next(x for x in legibility(std) if x.initiative == number)
    table = std.kpi_table(number)

    def stage(category: Category) -> dict[str, object] | None:
        st = initiative.categories[category]
        return None if st is None else {"stage": st.stage, "years": list(st.years)}

    return {
        "number": number,
        "name_ru": initiative.name.ru,
        "name_en": initiative.name.en,
        "name_kk": initiative.name.kk,
        "sphere": initiative.sphere,
        "section": initiative.section,
        "executors_ru": list(initiative.executors_ru),
        "categories": {c: stage(c) for c in CATEGORIES},
        "functions": len(functions.functions) if functions else 0,
        "functions_required": {c: len(functions.required_for(c)) if functions else 0 for c in CATEGORIES},
        "kpis_legible": counts.legible,
        "kpis_provisional": counts.provisional,
        "kpi_table_status": counts.status,
        "kpi_rows_lost": list(counts.lost_rows),
        "kpi_table_note_en": table.legibility.note_en if table else None,
    }


def function_rows(std: Standard, number: int) -> list[dict[str, object]]:
    """The Appendix 3 rows of one initiative (``standard functions N``)."""
    functions = std.functions_of(number)
    if functions is None:
        return []
    return [
        {
            "initiative": number,
            "n": f.n,
            "name_ru": f.name.ru,
            "name_en": f.name.en,
            "name_kk": f.name.kk,
            "required": {c: f.required[c] for c in CATEGORIES},
            "qualifier_ru": dict(f.qualifier_ru),
            "necessity": f.necessity,
            "necessity_ru": f.necessity_ru,
        }
        for f in functions.functions
    ]


def target_label(target: Target | None) -> str:
    """A compact human label of a target: ``≥ 85``, ``≥ 60–70``, ``−5–10 %``, ``стабилизация``."""
    if target is None:
        return "—"
    value = target.value
    if isinstance(value, tuple):
        number = f"{_num(value[0])}–{_num(value[1])}"
    elif value is not None:
        number = _num(value)
    else:
        return target.text
    if target.kind == "reduction":
        return f"−{number} %"
    if target.kind == "growth":
        return f"+{number} %"
    suffix = f" из {_num(target.scale_max)}" if target.scale_max is not None else ""
    return f"{target.comparator or ''} {number}{suffix}".strip()


def param_label(value: object) -> str:
    """A formula parameter for people: ``30``, ``60–90``, ``safety 1, housing_utilities 24``, ``—``."""
    if value is None:
        return "—"
    if isinstance(value, tuple | list):
        return "–".join(_num(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_num(v)}" for k, v in value.items())
    return _num(value)  # type: ignore[arg-type]


def _num(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 10_000:
        return f"{value:,}".replace(",", " ")
    return str(value)
