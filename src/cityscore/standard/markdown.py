"""Render the catalog as Markdown: the reference ``docs/standard.md`` (regenerated, never edited by hand)."""

from __future__ import annotations

from .models import CATEGORIES, CATEGORY_ABBR_RU, KPI, Sphere, Standard, Target
from .views import legibility, param_label, target_label

_NECESSITY = {"high": "высокая", "medium": "средняя", "low": "низкая", None: "—"}


def render_markdown(std: Standard) -> str:
    """The whole reference of ``std`` as one Markdown document."""
    out: list[str] = []
    out += _header(std)
    out += _categories_and_sections(std)
    out += _initiatives(std)
    for initiative in std.initiatives:
        out += _initiative_detail(std, initiative.number)
    out += _appendix5(std)
    out += _glossary(std)
    return "\n".join(out).rstrip() + "\n"


def _esc(text: object) -> str:
    if text is None:
        return "—"
    return str(text).replace("|", "\\|").replace("\n", " ")


def _header(std: Standard) -> list[str]:
    counts = legibility(std)
    return [
        f"# The standard {std.id}",
        "",
        "<!-- Generated from the catalog by `cityscore standard docs --output docs/standard.md`. Do not edit. -->",
        "",
        f"**{std.title.ru}**  ",
        f"*{std.title.en}*",
        "",
        f"Order No. {std.order.number} of {std.order.date}, in force from {std.order.in_force}. "
        f"{std.order.issuer_ru}.",
        "",
        f"Russian is the text of the order; English and Kazakh names are unofficial translations. "
        f"{len(std.initiatives)} base initiatives, "
        f"{sum(len(f.functions) for f in std.functions)} function rows (Appendix 3), {len(std.kpis)} KPIs "
        f"(Appendix 4): {sum(c.legible for c in counts)} legible, {sum(c.provisional for c in counts)} provisional "
        "(cut or reconstructed; see each table's legibility note).",
        "",
    ]


def _categories_and_sections(std: Standard) -> list[str]:
    out = ["## Settlement categories (п. 7)", "", "| id | | category | definition |", "|---|---|---|---|"]
    for c in std.categories:
        out.append(f"| `{c.id}` | {c.abbr_ru} | {_esc(c.name.ru)} | {_esc(c.definition_ru)} ({c.clause}) |")
    out += ["", "## Scoring sections (Appendix 5 п. 3)", "", "| id | section | weight | note |", "|---|---|---:|---|"]
    for s in std.sections:
        out.append(f"| `{s.id}` | {_esc(s.name.ru)} | {s.weight} | {_esc(s.note_ru)} |")
    out += ["", "Spheres of п. 5 (bonus criterion 5): " + "; ".join(_sphere(s) for s in std.spheres) + ".", ""]
    if std.overlaps:
        out += ["## Overlapping KPIs (decisions.md D-53)", "",
                "Both count by default; with `overlapping_kpis: count_once` the KPIs of the second column do not "
                "count where a KPI of the first counts.", "",
                "| id | counted | instead of | why |", "|---|---|---|---|"]
        for o in std.overlaps:
            out.append(f"| `{o.id}` | {', '.join(o.counted)} | {', '.join(o.instead_of)} | {_esc(o.note_en)} |")
        out.append("")
    return out


def _sphere(sphere: Sphere) -> str:
    text = f"`{sphere.id}` — {sphere.name.ru}"
    if sphere.aliases:
        text += " (also " + ", ".join(f"«{a}»" for a in sphere.aliases) + ")"
    if sphere.areas:
        text += ", with the areas " + ", ".join(f"`{a.id}` {a.name.ru}" for a in sphere.areas)
    return text


def _initiatives(std: Standard) -> list[str]:
    out = [
        "## Base initiatives (Appendix 2)",
        "",
        "| № | initiative | section | executors | Р | О | Рц | KPIs legible / provisional | KPI table |",
        "|---:|---|---|---|---|---|---|---|---|",
    ]
    counts = {c.initiative: c for c in legibility(std)}
    for i in std.initiatives:
        stages = []
        for category in CATEGORIES:
            st = i.categories[category]
            stages.append("—" if st is None else f"этап {st.stage}, {st.years[0]}–{st.years[1]}")
        c = counts[i.number]
        out.append(
            f"| {i.number} | [{_esc(i.name.ru)}](#initiative-{i.number}) | {i.section} | "
            f"{_esc(', '.join(i.executors_ru))} | {' | '.join(stages)} | {c.legible} / {c.provisional} | {c.status} |"
        )
    out.append("")
    return out


def _initiative_detail(std: Standard, number: int) -> list[str]:
    initiative = std.initiative(number)
    assert initiative is not None
    out = [f'<a id="initiative-{number}"></a>', "", f"## {number}. {initiative.name.ru}", "",
           f"*{initiative.name.en}* · section `{initiative.section}`", ""]
    functions = std.functions_of(number)
    if functions is not None:
        required = " / ".join(str(len(functions.required_for(c))) for c in CATEGORIES)
        out += [f"### Functions (Appendix 3): {len(functions.functions)} rows, required Р/О/Рц: {required}", "",
                "| № | function | Р | О | Рц | necessity |", "|---:|---|---|---|---|---|"]
        for f in functions.functions:
            flags = []
            for category in CATEGORIES:
                flag = "да" if f.required[category] else "нет"
                if category in f.qualifier_ru:
                    flag += f" ({f.qualifier_ru[category]})"
                flags.append(flag)
            out.append(f"| {f.n} | {_esc(f.name.ru)} | {' | '.join(flags)} | {_esc(f.necessity_ru)} |")
        if functions.note_ru:
            out += ["", f"> {_esc(functions.note_ru)}"]
        out.append("")
    table = std.kpi_table(number)
    kpis = std.kpis_of(number)
    out += [f"### KPIs (Appendix 4): {len(kpis)}", ""]
    if table is not None and table.legibility.status != "complete":
        lost = ", ".join(f"{number}.{r}" for r in table.legibility.lost_rows)
        out += [f"> **Legibility: {table.legibility.status}.** {_esc(table.legibility.note_en)}"
                + (f" Rows lost: {lost}." if lost else ""), ""]
    if kpis:
        out += ["| id | KPI | unit | points | periodicity | Р | О | Рц |", "|---|---|---|---:|---|---|---|---|"]
        for k in kpis:
            flag = " ⚠ *provisional*" if k.provisional else ""
            targets = [_target_md(std, k, c) for c in CATEGORIES]
            out.append(f"| [{k.id}](#kpi-{k.id.replace('.', '-')}) | {_esc(k.name.ru)}{flag} | {k.unit} | "
                       f"{_esc(k.weight_points)} | {_esc(k.periodicity)} | {' | '.join(targets)} |")
        out.append("")
        for k in kpis:
            out += _kpi_definition(std, k)
    return out


def _target_md(std: Standard, kpi: KPI, category: str) -> str:
    value = kpi.targets[category]  # type: ignore[index]
    label = target_label(value) if isinstance(value, Target) else "—"
    if not std.kpi_applies(kpi, category):  # type: ignore[arg-type]
        label = f"({label})" if label != "—" else label
    return _esc(label)


def _kpi_definition(std: Standard, k: KPI) -> list[str]:
    out = [f'<a id="kpi-{k.id.replace(".", "-")}"></a>', "", f"#### {k.id} {k.name.ru}", "",
           f"*{k.name.en}* · *{k.name.kk}*", ""]
    rows = [
        ("Описание", k.description_ru), ("Формула", k.formula_ru), ("Источник данных", k.data_source_ru),
        ("Информационная система", k.system_ru), ("Периодичность", k.periodicity_ru),
        ("Ценность (баллы)", k.weight_points), ("Целевое значение (Р/О/Рц)", k.target_text_ru),
        ("Влияние на рейтинг", k.impact_ru), ("Section", f"`{k.section}`"),
        ("Applies to", ", ".join(CATEGORY_ABBR_RU[c] for c in std.kpi_categories(k)) or "—"),
    ]
    for category in CATEGORIES:
        value = k.targets[category]
        rows.append((f"Target {CATEGORY_ABBR_RU[category]}", f"{value.kind}: {target_label(value)}"
                     if isinstance(value, Target) else f"none — {value.absent}"))
    for name, p in k.parameters.items():
        rows.append((f"Parameter `{name}`", " / ".join(param_label(p[c]) for c in CATEGORIES) + f" ({p.unit})"))
    if k.section_note:
        rows.append(("Why this section", k.section_note))
    if k.applies_note:
        rows.append(("Why these categories", k.applies_note))
    if k.provisional:
        rows.append(("**Provisional**", k.provisional_reason))
    out += ["| | |", "|---|---|"] + [f"| {label} | {_esc(value)} |" for label, value in rows]
    for note in k.notes:
        out.append(f"\n- {_esc(note)}")
    out.append("")
    return out


def _appendix5(std: Standard) -> list[str]:
    out = ["## Scoring rules (Appendix 5)", "", "### Normalisation (п. 2)", ""]
    rules = std.normalisation.get("rules", [])
    assert isinstance(rules, list)
    for rule in rules:
        out.append(f"- `{rule['id']}` ({rule['applies_to']}): **{rule['formula']}** — «{_esc(rule['text_ru'])}»")
    out += ["", f"Index: «{std.index.get('section_formula_ru')}»; «{std.index.get('city_formula_ru')}»; "
            f"{std.index.get('scale_text_ru')}", "",
            f"### Additional initiatives (п. 5–6): +{std.bonus.points_per_initiative} points each", "",
            f"«{std.bonus.text_ru}»", ""]
    for c in std.bonus.criteria:
        out.append(f"{c.n}. `{c.id}` — «{_esc(c.text_ru)}» — {_esc(c.text_en)}")
    out += ["", "### Rating bands (п. 7)", "", "| band | CityScore | characteristic |", "|---|---|---|"]
    for b in std.bands:
        out.append(f"| {b.name.ru} (`{b.id}`) | {b.text_ru} | {_esc(b.description_ru)} |")
    out += ["", "### Deadlines", "", "| clause | id | rule |", "|---|---|---|"]
    for d in std.deadlines:
        out.append(f"| {d.clause} | `{d.id}` | {_esc(d.text_ru)} |")
    out.append("")
    return out


def _glossary(std: Standard) -> list[str]:
    out = ["## Abbreviations", "", "| | |", "|---|---|"]
    out += [f"| {k} | {_esc(v)} |" for k, v in sorted(std.glossary_ru.items())]
    out.append("")
    return out
