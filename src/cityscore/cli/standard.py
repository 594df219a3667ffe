"""``cityscore standard …``: read, check, amend and document the catalog of the standard."""

from __future__ import annotations

import hashlib
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from .. import audit
from ..errors import NotFoundError
from ..records.schemas import table_columns
from ..standard import CATEGORIES, Category, Target, export_catalog, import_catalog, list_catalogs
from ..standard.loader import validate_catalog
from ..standard.markdown import render_markdown
from ..standard.models import CATEGORY_ABBR_RU
from ..standard.views import (
    function_rows,
    initiative_row,
    kpi_detail,
    kpi_row,
    legibility,
    param_label,
    target_label,
)
from ..store import Warehouse, default_path
from .common import FormatOption, LangOption, StandardOption, check_lang, domain_errors, home, standard
from .output import Column, OutputFormat, console, print_csv, print_json, print_table

app = typer.Typer(help="The standard 469/НК as data: KPIs, initiatives, functions; validate and import amendments.",
                  no_args_is_help=True)

CategoryOption = Annotated[
    str | None,
    typer.Option("--category", "-c", help="Only what applies to this category: republican, oblast or district."),
]


def _category(value: str | None) -> Category | None:
    if value is None:
        return None
    if value not in CATEGORIES:
        raise typer.BadParameter("use republican, oblast or district", param_hint="--category")
    return value


@app.command("kpis")
@domain_errors
def kpis(
    initiative: Annotated[int | None, typer.Option("--initiative", "-i", help="Only this initiative's KPIs.")] = None,
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = "ru",
    standard_ref: StandardOption = None,
) -> None:
    """List the KPIs of Appendix 4 with their weight points and targets per category (with --category, the KPIs that
    apply to it and its target only; the JSON keeps every category)."""
    std = standard(standard_ref)
    check_lang(lang)
    cat = _category(category)
    if initiative is not None and std.initiative(initiative) is None:
        raise NotFoundError(f"No initiative {initiative} in {std.id}; see `cityscore standard initiatives`.")
    selected = [
        k for k in std.kpis
        if (initiative is None or k.initiative == initiative) and (cat is None or std.kpi_applies(k, cat))
    ]
    rows = [kpi_row(std, k) for k in selected]
    if fmt is OutputFormat.json:
        print_json(rows)
        return
    shown_categories = CATEGORIES if cat is None else (cat,)  # --category: that category's target only (not JSON)
    target_columns = [
        Column(CATEGORY_ABBR_RU[c], lambda r, c=c: _target_cell(r, c), max_width=16) for c in shown_categories
    ]
    if fmt is OutputFormat.csv:
        flat = [
            Column("id", lambda r: r["id"]), Column("initiative", lambda r: r["initiative"]),
            Column("section", lambda r: r["section"]), Column("name_ru", lambda r: r["name_ru"]),
            Column("name_en", lambda r: r["name_en"]), Column("unit", lambda r: r["unit"]),
            Column("weight_points", lambda r: r["weight_points"]), Column("periodicity", lambda r: r["periodicity"]),
            Column("provisional", lambda r: r["provisional"]),
        ]
        for c in shown_categories:
            flat += [
                Column(f"{c}_comparator", lambda r, c=c: (r["targets"][c] or {}).get("comparator")),
                Column(f"{c}_value", lambda r, c=c: (r["targets"][c] or {}).get("value")),
                Column(f"{c}_kind", lambda r, c=c: (r["targets"][c] or {}).get("kind")),
                Column(f"{c}_text", lambda r, c=c: (r["targets"][c] or {}).get("text")),
            ]
        print_csv(rows, flat)
        return
    name_key = {"ru": "name_ru", "en": "name_en", "kk": "name_kk"}[lang]
    columns = [
        Column("ID", lambda r: r["id"], style="bold", no_wrap=True),
        Column("KPI", lambda r: r[name_key] + (" [yellow](provisional)[/]" if r["provisional"] else ""),
               max_width=60, min_width=26, fold=True),
        Column("Section", lambda r: r["section"], wide=True, no_wrap=True),
        Column("Unit", lambda r: r["unit"], wide=True, no_wrap=True),
        Column("Pts", lambda r: r["weight_points"], justify="right", no_wrap=True),
        Column("Period", lambda r: r["periodicity"], wide=True, no_wrap=True),
        *target_columns,
    ]
    provisional = sum(1 for r in rows if r["provisional"])
    caption = f"{len(rows)} KPIs: {len(rows) - provisional} legible, {provisional} provisional · {std.id}"
    print_table(rows, columns, title="Appendix 4 — KPIs", caption=caption)


def _target_cell(row: dict[str, object], category: str) -> str:
    targets = row["targets"]
    assert isinstance(targets, dict)
    target = targets[category]
    if target is None:
        return "—"
    return target_label(Target.model_validate({**target, "value": _tuple(target["value"])}))


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@app.command("kpi")
@domain_errors
def kpi(
    kpi_id: Annotated[str, typer.Argument(help="KPI id, e.g. 1.8")],
    fmt: FormatOption = OutputFormat.table,
    standard_ref: StandardOption = None,
) -> None:
    """Everything the standard says about one KPI."""
    std = standard(standard_ref)
    found = std.kpi(kpi_id)
    if found is None:
        raise NotFoundError(f"No KPI '{kpi_id}' in {std.id}; list them with `cityscore standard kpis`.")
    detail = kpi_detail(std, found)
    if fmt is OutputFormat.json:
        print_json(detail)
        return
    if fmt is OutputFormat.csv:
        print_csv([detail], [Column(k, lambda r, k=k: r[k]) for k in detail if not isinstance(detail[k], dict)])
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    fields: list[tuple[str, object]] = [
        ("Initiative", f"{found.initiative}. {detail['initiative_name_ru']}"),
        ("Section", f"{found.section} — {detail['section_name_ru']}"),
        ("Name (en, unofficial)", found.name.en),
        ("Name (kk, unofficial)", found.name.kk),
        ("Description", found.description_ru),
        ("Formula", found.formula_ru),
        ("Data source", found.data_source_ru),
        ("Information system", found.system_ru),
        ("Periodicity", found.periodicity_ru),
        ("Unit", f"{found.unit} ({found.unit_ru})" if found.unit_ru else found.unit),
        ("Direction", found.direction),
        ("Weight points", found.weight_points),
        ("Impact", found.impact_ru),
        ("Target (as printed)", found.target_text_ru),
    ]
    for category in CATEGORIES:
        value = found.targets[category]
        applies = std.kpi_applies(found, category)
        shown = target_label(value) + f"  [dim]{value.kind} · «{value.text}»[/]" if isinstance(value, Target) \
            else f"[dim]none — {value.absent}[/]"
        fields.append((f"Target {CATEGORY_ABBR_RU[category]} ({category})",
                       shown + ("" if applies else "  [dim](does not apply)[/]")))
    for name, parameter in found.parameters.items():
        fields.append((f"Parameter {name}",
                       " / ".join(param_label(parameter[c]) for c in CATEGORIES) + f" ({parameter.unit})"))
    if found.section_note:
        fields.append(("Why this section", found.section_note))
    if found.applies_note:
        fields.append(("Why these categories", found.applies_note))
    if found.provisional:
        fields.append(("[yellow]Provisional[/]", found.provisional_reason))
    for note in found.notes:
        fields.append(("Note", note))
    for label, shown_value in fields:
        grid.add_row(label, "—" if shown_value is None else str(shown_value))
    title = f"KPI {found.id} · {found.name.ru}"
    console().print(Panel(grid, title=title, subtitle=std.id, expand=False))


@app.command("initiatives")
@domain_errors
def initiatives(
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = "ru",
    standard_ref: StandardOption = None,
) -> None:
    """The 16 base initiatives: stages per category, functions, and how many KPIs are legible or provisional."""
    std = standard(standard_ref)
    check_lang(lang)
    rows = [initiative_row(std, i.number) for i in std.initiatives]
    if fmt is OutputFormat.json:
        print_json(rows)
        return

    def stage(row: dict[str, object], category: str) -> str:
        cats = row["categories"]
        assert isinstance(cats, dict)
        st = cats[category]
        return "—" if st is None else f"{st['stage']}:{st['years'][0] % 100:02d}–{st['years'][1] % 100:02d}"

    name_key = {"ru": "name_ru", "en": "name_en", "kk": "name_kk"}[lang]
    columns = [
        Column("№", lambda r: r["number"], justify="right", no_wrap=True),
        Column("Initiative", lambda r: r[name_key], max_width=44, min_width=20, fold=True),
        Column("Section", lambda r: r["section"], wide=True, no_wrap=True),
        *[Column(CATEGORY_ABBR_RU[c], lambda r, c=c: stage(r, c), no_wrap=True) for c in CATEGORIES],
        Column("Functions Р/О/Рц", lambda r: "/".join(str(r["functions_required"][c]) for c in CATEGORIES),
               wide=True, no_wrap=True),
        Column("Legib.", lambda r: r["kpis_legible"], justify="right", no_wrap=True),
        Column("Prov.", lambda r: r["kpis_provisional"], justify="right", no_wrap=True),
        Column("Rows lost", lambda r: ", ".join(map(str, r["kpi_rows_lost"])) or "—", wide=True),
        Column("KPI table", lambda r: r["kpi_table_status"], wide=True, no_wrap=True),
    ]
    if fmt is OutputFormat.csv:
        print_csv(rows, columns)
        return
    counts = legibility(std)
    legible = sum(c.legible for c in counts)
    provisional = sum(c.provisional for c in counts)
    print_table(rows, columns, title="Appendix 2 — base initiatives (stage:years per category)",
                caption=f"KPIs of Appendix 4: {legible} legible, {provisional} provisional · {std.id}")


@app.command("functions")
@domain_errors
def functions(
    initiative: Annotated[int, typer.Argument(help="Initiative number (1–16).")],
    category: CategoryOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = "ru",
    standard_ref: StandardOption = None,
) -> None:
    """The functions an initiative must have (Appendix 3), required yes/no per category."""
    std = standard(standard_ref)
    check_lang(lang)
    cat = _category(category)
    found = std.initiative(initiative)
    if found is None:
        raise NotFoundError(f"No initiative {initiative} in {std.id}; see `cityscore standard initiatives`.")
    rows = [r for r in function_rows(std, initiative) if cat is None or r["required"][cat]]  # type: ignore[index]
    if fmt is OutputFormat.json:
        print_json(rows)
        return

    def flag(row: dict[str, object], c: str) -> str:
        required = row["required"]
        qualifiers = row["qualifier_ru"]
        assert isinstance(required, dict) and isinstance(qualifiers, dict)
        text = "да" if required[c] else "нет"
        return f"{text} ({qualifiers[c]})" if c in qualifiers else text

    name_key = {"ru": "name_ru", "en": "name_en", "kk": "name_kk"}[lang]
    columns = [
        Column("№", lambda r: r["n"], justify="right"),
        Column("Function", lambda r: r[name_key], max_width=56, fold=True),
        *[Column(CATEGORY_ABBR_RU[c], lambda r, c=c: flag(r, c)) for c in (CATEGORIES if cat is None else (cat,))],
        Column("Necessity", lambda r: r["necessity_ru"], max_width=40, fold=True),
    ]
    if fmt is OutputFormat.csv:
        print_csv(rows, columns)
        return
    print_table(rows, columns, title=f"Appendix 3 — {initiative}. {found.name.in_lang(lang)}",
                caption=f"{len(rows)} functions · {std.id}")


@app.command("validate")
@domain_errors
def validate(
    path: Annotated[Path, typer.Argument(help="Catalog directory (standard.yaml, initiatives.yaml, functions.yaml, "
                                                "kpis/).")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Check an amended catalog. Exit status 0 when valid, 1 with every error named by file, YAML path and fix."""
    report = validate_catalog(path, table_columns())  # the measures against the raw record tables too
    if fmt is OutputFormat.json:
        print_json(report.to_json())
    elif fmt is OutputFormat.csv:
        print_csv(list(report.findings), [
            Column("severity", lambda f: f.severity), Column("file", lambda f: f.file),
            Column("line", lambda f: f.line), Column("path", lambda f: f.path), Column("code", lambda f: f.code),
            Column("message", lambda f: f.message), Column("fix", lambda f: f.fix)])
    else:
        if report.findings:
            print_table(list(report.findings), [
                Column("", lambda f: "[red]error[/]" if f.severity == "error" else "[yellow]warning[/]"),
                Column("Where", lambda f: f"{f.file}:{f.line}" if f.line else f.file),
                Column("YAML path", lambda f: f.path),
                Column("Problem", lambda f: f.message, max_width=50),
                Column("Fix", lambda f: f.fix, max_width=50),
            ], title=f"Catalog {path}")
        verdict = "[green]valid[/]" if report.ok else "[red]invalid[/]"
        console().print(f"{report.standard_id or path}: {verdict} — {len(report.errors)} error(s), "
                        f"{len(report.warnings)} warning(s)")
    if not report.ok:
        raise typer.Exit(1)


@app.command("import")
@domain_errors
def import_(
    path: Annotated[Path, typer.Argument(help="Catalog directory to validate and store.")],
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a stored catalog with the same id.")] = False,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse whose audit log records the import (default "
                                                         "$CITYSCORE_DB or ./cityscore.duckdb; not recorded when "
                                                         "the file does not exist).")] = None,
) -> None:
    """Validate an amended catalog and store it; an invalid catalog is refused and nothing stored is changed. The
    import is in the audit log of the warehouse, when there is one."""
    target = db or default_path()
    with Warehouse(target) if target.exists() else nullcontext() as wh:  # the lock first: an import is never unlogged
        ref = import_catalog(path, home(), replace=replace, tables=table_columns())
        if wh is not None:
            audit.record(wh, who=audit.cli_actor(), action="catalog.import", object=f"catalog {ref.id}",
                         summary={"standard": ref.id, "replace": replace, **_catalog_digest(ref.path)})
    console().print(f"Imported [bold]{ref.id}[/] into {ref.path}. Use it with --standard '{ref.id}'.")


def _catalog_digest(root: Path) -> dict[str, object]:
    """The stored catalog's files and one SHA-256 over them (each file's path and its SHA-256, in path order)."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".md"))
    listing = "".join(f"{p.relative_to(root).as_posix()}\t{hashlib.sha256(p.read_bytes()).hexdigest()}\n"
                      for p in files)
    return {"files": len(files), "sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest()}


@app.command("export")
@domain_errors
def export(
    destination: Annotated[Path, typer.Argument(help="New directory to copy the catalog into.")],
    standard_ref: StandardOption = None,
) -> None:
    """Copy a catalog into a directory for amending (then `validate` and `import` it)."""
    out = export_catalog(standard_ref, home(), destination)
    console().print(f"Copied the catalog to {out}. Edit it, give standard.yaml a new `id:`, then run "
                    f"`cityscore standard validate {out}`.")


@app.command("versions")
@domain_errors
def versions(fmt: FormatOption = OutputFormat.table) -> None:
    """The catalogs available: shipped with the package and imported."""
    refs = list_catalogs(home())
    rows = [{"id": r.id, "origin": r.origin, "path": str(r.path)} for r in refs]
    if fmt is OutputFormat.json:
        print_json(rows)
        return
    columns = [Column("id", lambda r: r["id"]), Column("origin", lambda r: r["origin"]),
               Column("path", lambda r: r["path"])]
    (print_csv if fmt is OutputFormat.csv else print_table)(rows, columns)


@app.command("docs")
@domain_errors
def docs(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if --output differs from what would be written.")
    ] = False,
    standard_ref: StandardOption = None,
) -> None:
    """Generate the Markdown reference of the catalog (docs/standard.md)."""
    text = render_markdown(standard(standard_ref))
    if output is None:
        typer.echo(text, nl=False)
        return
    if check:
        current = output.read_text("utf-8") if output.exists() else ""
        if current != text:
            console().print(f"[red]{output} is stale[/]: run `cityscore standard docs --output {output}`.")
            raise typer.Exit(1)
        console().print(f"{output} is up to date.")
        return
    output.write_text(text, "utf-8")
    console().print(f"Wrote {output}.")
