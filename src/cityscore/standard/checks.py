"""Cross-file checks of a catalog that the JSON Schemas cannot express.

They run on the plain data of schema-valid files (so every key is present and typed) and report findings with the
YAML path and line of the offending value: unknown initiatives, sections and spheres, duplicate ids, section weights
that do not sum to 100, targets whose structure contradicts their printed text, legible KPIs without a weight.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .findings import Finding, Severity
from .measurecheck import Add, TableColumns, check_measure
from .yamlsource import YamlDocument, YamlPath, format_path

CATEGORIES = ("republican", "oblast", "district")
_EPS = 1e-9


@dataclass(frozen=True)
class CatalogFiles:
    """The parsed files of one catalog directory, keyed by their path relative to it."""

    standard: YamlDocument
    initiatives: YamlDocument
    functions: YamlDocument
    kpis: dict[str, YamlDocument]


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, doc: YamlDocument, rel: str, path: YamlPath, code: str, message: str, fix: str,
            severity: Severity = "error") -> None:
        self.findings.append(Finding(rel, format_path(path), doc.line_of(path), code, message, fix, severity))


def cross_check(files: CatalogFiles, rel_of: dict[int, str], tables: TableColumns | None = None) -> list[Finding]:
    """All cross-file findings. ``rel_of`` maps ``id(doc)`` to the file name relative to the catalog; ``tables``
    (raw table → column → type) lets the measures be checked against the raw record tables."""
    out = _Collector()
    std = files.standard.data
    sections = {s["id"] for s in std["sections"]}
    spheres = {s["id"] for s in std["spheres"]}
    _check_standard(files.standard, rel_of[id(files.standard)], out)
    numbers = _check_initiatives(files.initiatives, rel_of[id(files.initiatives)], sections, spheres, out)
    _check_functions(files.functions, rel_of[id(files.functions)], numbers, out)
    sources = {s["id"] for s in std["sources"]}
    stages = {item["number"]: tuple(c for c in CATEGORIES if item["categories"][c] is not None)
              for item in files.initiatives.data["initiatives"]}
    _check_kpi_files(files.kpis, numbers, sections, sources, out, stages, tables)
    _check_spheres_and_overlaps(files.standard, rel_of[id(files.standard)],
                                {k["id"] for doc in files.kpis.values() for k in doc.data["kpis"]}, out)
    return out.findings


# --- standard.yaml ----------------------------------------------------------------------------------------------
def _check_standard(doc: YamlDocument, rel: str, out: _Collector) -> None:
    data = doc.data
    for key in ("sections", "spheres", "bands", "categories"):
        for index, dup in _duplicates(item["id"] for item in data[key]):
            out.add(doc, rel, (key, index, "id"), f"duplicate-{key[:-1]}", f"the id '{dup}' is used twice in {key}",
                    "give every entry its own id")
    total = sum(float(s["weight"]) for s in data["sections"])
    if abs(total - 100) > _EPS:
        out.add(doc, rel, ("sections",), "section-weights",
                f"the section weights sum to {total:g}, not 100 (Appendix 5 п. 3: «в сумме 100 баллов»)",
                "change the weights so that they sum to 100")
    lowers = [float(b["lower"]) for b in data["bands"]]
    if lowers != sorted(lowers, reverse=True) or len(set(lowers)) != len(lowers):
        out.add(doc, rel, ("bands",), "band-order", "band lower bounds must strictly decrease from the best band",
                "list the bands from the highest lower bound to the lowest")
    if lowers and min(lowers) != 0:
        out.add(doc, rel, ("bands",), "band-coverage", f"the lowest band starts at {min(lowers):g}, so lower scores "
                "have no band", "give the last band 'lower: 0'")
    deadline_ids = {d["id"] for d in data["deadlines"]}
    for index, deadline in enumerate(data["deadlines"]):
        after = deadline.get("after")
        if after is not None and after not in deadline_ids:
            out.add(doc, rel, ("deadlines", index, "after"), "unknown-deadline",
                    f"'after: {after}' names no deadline of this file", "use the id of another deadline")


# --- initiatives.yaml -------------------------------------------------------------------------------------------
def _check_initiatives(doc: YamlDocument, rel: str, sections: set[str], spheres: set[str],
                       out: _Collector) -> set[int]:
    items = doc.data["initiatives"]
    for index, dup in _duplicates(item["number"] for item in items):
        out.add(doc, rel, ("initiatives", index, "number"), "duplicate-initiative",
                f"initiative {dup} is listed twice", "give each initiative its own number")
    for index, item in enumerate(items):
        base: YamlPath = ("initiatives", index)
        if item["sphere"] not in spheres:
            out.add(doc, rel, (*base, "sphere"), "unknown-sphere", f"sphere '{item['sphere']}' is not in standard.yaml",
                    "use one of: " + ", ".join(sorted(spheres)))
        if item["section"] not in sections:
            out.add(doc, rel, (*base, "section"), "unknown-section",
                    f"section '{item['section']}' is not in standard.yaml",
                    "use one of: " + ", ".join(sorted(sections)))
        stages = item["categories"]
        if all(stages[c] is None for c in CATEGORIES):
            out.add(doc, rel, (*base, "categories"), "initiative-without-category",
                    f"initiative {item['number']} applies to no category", "give at least one category a stage")
        for category in CATEGORIES:
            stage = stages[category]
            if stage is not None and stage["years"][0] > stage["years"][1]:
                out.add(doc, rel, (*base, "categories", category, "years"), "years-order",
                        f"the years {stage['years']} run backwards", "write [first year, last year]")
    return {item["number"] for item in items}


# --- functions.yaml ---------------------------------------------------------------------------------------------
def _check_functions(doc: YamlDocument, rel: str, numbers: set[int], out: _Collector) -> None:
    tables = doc.data["initiatives"]
    for index, dup in _duplicates(t["initiative"] for t in tables):
        out.add(doc, rel, ("initiatives", index, "initiative"), "duplicate-function-table",
                f"initiative {dup} has two function tables", "merge them into one")
    for index, table in enumerate(tables):
        if table["initiative"] not in numbers:
            out.add(doc, rel, ("initiatives", index, "initiative"), "unknown-initiative",
                    f"initiative {table['initiative']} is not in initiatives.yaml",
                    "correct the number or add the initiative to initiatives.yaml")
        for f_index, dup in _duplicates(f["n"] for f in table["functions"]):
            out.add(doc, rel, ("initiatives", index, "functions", f_index, "n"), "duplicate-function",
                    f"function number {dup} is used twice", "number the functions 1, 2, 3, …")
        for f_index, function in enumerate(table["functions"]):
            for category in function.get("qualifier_ru", {}):
                if not function["required"][category]:
                    out.add(doc, rel, ("initiatives", index, "functions", f_index, "qualifier_ru", category),
                            "qualifier-not-required", f"a qualifier is given for {category}, where the function is "
                            "not required", "remove the qualifier or set required to true", "warning")


# --- kpis/*.yaml ------------------------------------------------------------------------------------------------
def _check_kpi_files(docs: dict[str, YamlDocument], numbers: set[int], sections: set[str], sources: set[str],
                     out: _Collector, stages: dict[int, tuple[str, ...]], tables: TableColumns | None) -> None:
    seen_ids: dict[str, str] = {}
    seen_tables: dict[int, str] = {}
    all_ids = {k["id"] for doc in docs.values() for k in doc.data["kpis"]}
    for rel, doc in sorted(docs.items()):
        data = doc.data
        number = data["initiative"]
        if number not in numbers:
            out.add(doc, rel, ("initiative",), "unknown-initiative", f"initiative {number} is not in initiatives.yaml",
                    "correct the number or add the initiative to initiatives.yaml")
        if number in seen_tables:
            out.add(doc, rel, ("initiative",), "duplicate-kpi-table",
                    f"initiative {number} already has a KPI table in {seen_tables[number]}", "merge the two files")
        seen_tables.setdefault(number, rel)
        stem = rel.rsplit("/", 1)[-1].removesuffix(".yaml")
        if stem.isdigit() and int(stem) != number:
            out.add(doc, rel, ("initiative",), "file-name", f"the file is named {stem} but holds initiative {number}",
                    f"rename the file to {number:02d}.yaml", "warning")
        kpi_numbers = set()
        for index, kpi in enumerate(data["kpis"]):
            base: YamlPath = ("kpis", index)
            kpi_id = kpi["id"]
            prefix, _, row = kpi_id.partition(".")
            kpi_numbers.add(int(row))
            if int(prefix) != number:
                out.add(doc, rel, (*base, "id"), "kpi-id-initiative",
                        f"KPI {kpi_id} sits in the table of initiative {number}",
                        f"number it {number}.<row> or move it to the file of initiative {prefix}")
            if kpi_id in seen_ids:
                out.add(doc, rel, (*base, "id"), "duplicate-kpi-id", f"KPI id {kpi_id} is already used in "
                        f"{seen_ids[kpi_id]}", "give every KPI its own id")
            else:
                seen_ids[kpi_id] = rel
            if kpi["section"] not in sections:
                out.add(doc, rel, (*base, "section"), "unknown-section",
                        f"section '{kpi['section']}' is not in standard.yaml",
                        "use one of: " + ", ".join(sorted(sections)))
            for s_index, source in enumerate(kpi["reconstructed_from"]):
                if source not in sources:
                    out.add(doc, rel, (*base, "reconstructed_from", s_index), "unknown-source",
                            f"source '{source}' is not listed under sources in standard.yaml",
                            "add the document to `sources:` in standard.yaml or correct the id")
            duplicate_of = kpi.get("near_duplicate_of")
            if duplicate_of is not None and (duplicate_of not in all_ids or duplicate_of == kpi_id):
                out.add(doc, rel, (*base, "near_duplicate_of"), "unknown-kpi",
                        f"near_duplicate_of names '{duplicate_of}', which is not another KPI of the catalog",
                        "give the id of an existing KPI")
            _check_kpi(doc, rel, base, kpi, out)
            applies = tuple(kpi["applies_to"]) if kpi.get("applies_to") is not None else stages.get(number, ())
            check_measure(kpi, base, applies, tables, _adder(out, doc, rel))
        for lost in data["legibility"]["lost_rows"]:
            if lost in kpi_numbers:
                out.add(doc, rel, ("legibility", "lost_rows"), "lost-row-present",
                        f"row {lost} is listed as lost but KPI {number}.{lost} is present",
                        "remove it from lost_rows")


def _adder(out: _Collector, doc: YamlDocument, rel: str) -> Add:
    def add(path: YamlPath, code: str, message: str, fix: str) -> None:
        out.add(doc, rel, path, code, message, fix)

    return add


def _check_kpi(doc: YamlDocument, rel: str, base: YamlPath, kpi: dict[str, Any], out: _Collector) -> None:
    if not kpi["provisional"]:
        for key in ("weight_points", "formula_ru", "target_text_ru"):
            if kpi[key] is None:
                out.add(doc, rel, (*base, key), "legible-kpi-incomplete",
                        f"KPI {kpi['id']} is not provisional but has no {key}",
                        f"fill in {key} from the text, or mark the KPI provisional with the reason")
    for category in CATEGORIES:
        target = kpi["targets"][category]
        if "absent" in target:
            continue
        _check_target(doc, rel, (*base, "targets", category), kpi, target, out)
    for name, parameter in kpi.get("parameters", {}).items():
        for category in CATEGORIES:
            value = parameter[category]
            if isinstance(value, list) and value[0] > value[1]:
                out.add(doc, rel, (*base, "parameters", name, category), "range-order",
                        f"the range {value} runs backwards", "write [low, high]")


def _check_target(doc: YamlDocument, rel: str, path: YamlPath, kpi: dict[str, Any], target: dict[str, Any],
                  out: _Collector) -> None:
    kind, comparator, value = target["kind"], target["comparator"], target["value"]
    if isinstance(value, list) and value[0] > value[1]:
        out.add(doc, rel, (*path, "value"), "range-order", f"the range {value} runs backwards", "write [low, high]")
    if kind == "threshold" and (comparator is None or value is None):
        out.add(doc, rel, path, "threshold-incomplete", "a threshold target needs a comparator and a value",
                "give comparator (≥ or ≤) and value, or choose another kind (qualitative, compliance, …)")
    if kind in ("reduction", "growth") and value is None and not target.get("qualifier"):
        out.add(doc, rel, path, "dynamic-without-level",
                f"a {kind} target without a value needs a qualifier saying what counts (e.g. 'any reduction')",
                "give the value in percent or a qualifier")
    if kind in ("reduction", "growth") and comparator == "≤":
        out.add(doc, rel, (*path, "comparator"), "dynamic-comparator",
                f"a {kind} target is written as a positive change with the comparator ≥",
                'use comparator: "≥" and the size of the change as a positive number')
    if kind in ("stabilisation", "qualitative") and value is not None:
        out.add(doc, rel, (*path, "value"), "unexpected-value", f"a {kind} target has no level, but value is {value}",
                "set value to null or change the kind")
    scale_max = target.get("scale_max")
    expected_scale = {"score_5": 5, "score_10": 10}.get(kpi["unit"])
    if expected_scale is not None and kind == "threshold" and scale_max != expected_scale:
        out.add(doc, rel, path, "survey-scale", f"a {kpi['unit']} target needs scale_max: {expected_scale}",
                f"add scale_max: {expected_scale} to the target")
    if scale_max is not None and value is not None and max(_ends(value)) > scale_max:
        out.add(doc, rel, (*path, "scale_max"), "scale-below-target",
                f"the target {value} exceeds the scale maximum {scale_max}", "check the scale")
    if kind == "threshold" and comparator is not None:
        expected = "higher_is_better" if comparator == "≥" else "lower_is_better"
        if kpi["direction"] != expected:
            out.add(doc, rel, path, "direction-mismatch",
                    f"the comparator {comparator} implies {expected}, but the KPI says {kpi['direction']}",
                    "make direction and comparator agree", "warning")
    if value is not None and kind in ("threshold", "reduction", "growth"):
        printed = numbers_in_text(target["text"], scale_max)
        if printed and sorted(printed) != sorted(_ends(value)):
            out.add(doc, rel, (*path, "value"), "target-text-mismatch",
                    f"value {value} does not match the printed target «{target['text']}» (reads as {printed})",
                    "make value agree with the text of the order, or correct the text")


def _ends(value: Any) -> list[float]:
    return [float(v) for v in value] if isinstance(value, list | tuple) else [float(value)]


_MULTIPLIERS = {"млн": 1_000_000.0, "тыс": 1_000.0}
_NUMBER = re.compile(r"\d{1,3}(?:[  ]\d{3})+(?!\d)|\d+(?:[.,]\d+)?")


def numbers_in_text(text: str, scale_max: float | None = None) -> list[float]:
    """The numbers a printed target states: ``"≥ 1 млн"`` → [1e6], ``"≥60 -70%"`` → [60, 70], ``"10 000"`` → [1e4].

    A survey scale ("из 5") and parenthesised remarks are not part of the target and are left out.
    """
    text = re.sub(r"\(.*?\)", " ", text)
    text = re.sub(r"из\s*\d+(?:[.,]\d+)?", " ", text)
    values = []
    for match in _NUMBER.finditer(text):
        number = float(re.sub(r"[  ]", "", match.group()).replace(",", "."))
        tail = text[match.end():match.end() + 5].strip().lower()
        for word, factor in _MULTIPLIERS.items():
            if tail.startswith(word):
                number *= factor
        values.append(number)
    return values


def _duplicates(values: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    seen = set()
    for index, value in enumerate(values):
        if value in seen:
            yield index, value
        seen.add(value)


# --- spheres and overlaps (standard.yaml) -----------------------------------------------------------------------
def _check_spheres_and_overlaps(doc: YamlDocument, rel: str, kpi_ids: set[str], out: _Collector) -> None:
    """Sphere and area ids are unique together (each names one sphere); overlaps name KPIs of the catalog, and no
    KPI is on both sides (D-53)."""
    seen = {sphere["id"] for sphere in doc.data["spheres"]}
    for index, sphere in enumerate(doc.data["spheres"]):
        for a_index, area in enumerate(sphere.get("areas", [])):
            if area["id"] in seen:
                out.add(doc, rel, ("spheres", index, "areas", a_index, "id"), "duplicate-sphere",
                        f"the id '{area['id']}' already names a sphere or an area", "give every area its own id")
            seen.add(area["id"])
    for index, dup in _duplicates(o["id"] for o in doc.data.get("overlaps", [])):
        out.add(doc, rel, ("overlaps", index, "id"), "duplicate-overlap", f"the id '{dup}' is used twice in overlaps",
                "give every overlap its own id")
    for index, overlap in enumerate(doc.data.get("overlaps", [])):
        for side in ("counted", "instead_of"):
            for k_index, kpi_id in enumerate(overlap[side]):
                if kpi_id not in kpi_ids:
                    out.add(doc, rel, ("overlaps", index, side, k_index), "unknown-kpi",
                            f"overlap '{overlap['id']}' names KPI {kpi_id}, which is not in the catalog",
                            "give the id of an existing KPI")
        for kpi_id in sorted(set(overlap["counted"]) & set(overlap["instead_of"])):
            out.add(doc, rel, ("overlaps", index, "instead_of"), "overlap-both-sides",
                    f"KPI {kpi_id} is both counted and replaced in overlap '{overlap['id']}'",
                    "list it on one side only")
