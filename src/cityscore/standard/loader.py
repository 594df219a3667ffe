"""Load a catalog directory into a :class:`~cityscore.standard.models.Standard`, or report why it cannot be.

``validate_catalog`` never raises for a bad catalog: it returns every finding (YAML syntax, schema, cross-file
checks). ``load_catalog`` raises :class:`~cityscore.errors.CatalogError` carrying those findings when there is any
error, so nothing downstream ever sees a half-valid standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import CatalogError
from .checks import CatalogFiles, cross_check
from .findings import Finding, ValidationReport
from .measurecheck import TableColumns
from .models import (
    KPI,
    Initiative,
    InitiativeFunctions,
    KpiTable,
    Standard,
)
from .schemacheck import check_schema
from .yamlsource import YamlDocument, YamlSyntaxError, format_path, read_yaml

REQUIRED_FILES = ("standard.yaml", "initiatives.yaml", "functions.yaml")
KPI_DIR = "kpis"


@dataclass(frozen=True)
class _Parsed:
    files: CatalogFiles | None
    findings: list[Finding]
    rel_of: dict[int, str]


def validate_catalog(directory: Path, tables: TableColumns | None = None) -> ValidationReport:
    """Check the catalog in ``directory`` and return all findings (an empty tuple of errors means valid).
    ``tables`` (raw table → column → type) also checks the measures' tables and columns."""
    report, _ = _validate(Path(directory), tables)
    return report


def load_catalog(directory: Path, tables: TableColumns | None = None) -> Standard:
    """Load the catalog in ``directory``; raise :class:`CatalogError` listing every error if it is invalid."""
    directory = Path(directory)
    report, standard = _validate(directory, tables)
    if standard is None:
        errors = report.errors
        lines = "\n".join(f"  {f.render()}" for f in errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise CatalogError(
            f"The catalog in {directory} is invalid ({len(errors)} error(s)):\n{lines}{more}\n"
            f"Run `cityscore standard validate {directory}` for the full report.",
            findings=errors,
        )
    return standard


def _validate(directory: Path, tables: TableColumns | None = None) -> tuple[ValidationReport, Standard | None]:
    parsed = _parse(directory)
    findings = list(parsed.findings)
    standard: Standard | None = None
    std_id: str | None = None
    if parsed.files is not None:
        std_id = str(parsed.files.standard.data.get("id")) if isinstance(parsed.files.standard.data, dict) else None
        if not findings:
            findings.extend(cross_check(parsed.files, parsed.rel_of, tables))
        if not any(f.severity == "error" for f in findings):
            try:
                standard = _build(parsed.files)
            except ValidationError as exc:  # the schemas should make this unreachable; report, never crash
                findings.extend(_pydantic_findings(exc))
    findings.sort(key=lambda f: (f.file, f.line or 0, f.path))
    report = ValidationReport(catalog=str(directory), standard_id=std_id, findings=tuple(findings))
    return report, standard if report.ok else None


def _parse(directory: Path) -> _Parsed:
    findings: list[Finding] = []
    rel_of: dict[int, str] = {}
    if not directory.is_dir():
        findings.append(Finding(str(directory), "(directory)", None, "not-a-directory",
                                "the catalog directory does not exist",
                                "give the directory that holds standard.yaml, initiatives.yaml, functions.yaml "
                                "and kpis/"))
        return _Parsed(None, findings, rel_of)
    docs: dict[str, YamlDocument] = {}
    for name in REQUIRED_FILES:
        if not (directory / name).is_file():
            findings.append(Finding(name, "(file)", None, "missing-file", f"{name} is missing",
                                    f"copy {name} from the packaged catalog (cityscore standard export DIR)"))
    kpi_files = sorted((directory / KPI_DIR).glob("*.yaml")) if (directory / KPI_DIR).is_dir() else []
    if not kpi_files:
        findings.append(Finding(f"{KPI_DIR}/", "(directory)", None, "missing-file", "no KPI tables (kpis/*.yaml)",
                                "add one kpis/NN.yaml per initiative"))
    schema_of = {name: name.removesuffix(".yaml") for name in REQUIRED_FILES}
    for path in [directory / n for n in REQUIRED_FILES if (directory / n).is_file()] + kpi_files:
        rel = path.relative_to(directory).as_posix()
        try:
            doc = read_yaml(path)
        except YamlSyntaxError as exc:
            findings.append(Finding(rel, "(file)", exc.line, "yaml-syntax", f"not valid YAML: {exc.problem}",
                                    "fix the YAML syntax at that line (indentation, quotes, colons)"))
            continue
        except UnicodeDecodeError:
            findings.append(Finding(rel, "(file)", None, "encoding", "the file is not UTF-8",
                                    "save the file as UTF-8"))
            continue
        for dup_path, line in doc.duplicate_keys:
            findings.append(Finding(rel, format_path(dup_path), line, "duplicate-key",
                                    f"the key '{dup_path[-1]}' appears twice in the same mapping",
                                    "keep one of them"))
        findings.extend(check_schema(doc, schema_of.get(rel, "kpis"), rel))
        docs[rel] = doc
        rel_of[id(doc)] = rel
    if any(name not in docs for name in REQUIRED_FILES) or not any(r.startswith(KPI_DIR) for r in docs):
        return _Parsed(None, findings, rel_of)
    files = CatalogFiles(
        standard=docs["standard.yaml"],
        initiatives=docs["initiatives.yaml"],
        functions=docs["functions.yaml"],
        kpis={rel: doc for rel, doc in docs.items() if rel.startswith(f"{KPI_DIR}/")},
    )
    return _Parsed(files, findings, rel_of)


def _build(files: CatalogFiles) -> Standard:
    std: dict[str, Any] = dict(files.standard.data)
    initiatives = tuple(Initiative.model_validate(i) for i in files.initiatives.data["initiatives"])
    functions = tuple(InitiativeFunctions.model_validate(f) for f in files.functions.data["initiatives"])
    tables: list[KpiTable] = []
    kpis: list[KPI] = []
    for _rel, doc in sorted(files.kpis.items()):
        data = doc.data
        tables.append(KpiTable(initiative=data["initiative"], table_title_ru=data["table_title_ru"],
                               legibility=data["legibility"]))
        for raw in data["kpis"]:
            kpis.append(KPI.model_validate({**raw, "initiative": data["initiative"]}))
    return Standard.model_validate(
        {
            **std,
            "initiatives": sorted(initiatives, key=lambda i: i.number),
            "functions": sorted(functions, key=lambda f: f.initiative),
            "kpi_tables": sorted(tables, key=lambda t: t.initiative),
            "kpis": sorted(kpis, key=lambda k: k.sort_key),
        }
    )


def _pydantic_findings(exc: ValidationError) -> list[Finding]:
    return [
        Finding("(catalog)", ".".join(str(p) for p in err["loc"]), None, "model", err["msg"],
                "see docs/catalog-format.md")
        for err in exc.errors()
    ]
