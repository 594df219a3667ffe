"""Checks of the ``measure`` blocks of the KPI files that the JSON Schema cannot express.

Each finding names the file, the YAML path and line, and the fix: an expression outside the measure language, a
table or column the raw record tables do not have, a column of the wrong type, a kind that cannot give a value in
the KPI's unit, a formula parameter that is unknown or has no value for a category the KPI applies to.

The raw record tables are not part of the standard (they are the program's data contract, :mod:`cityscore.records`),
so the caller passes them in as ``tables`` (table → column → type); without them the table and column checks are
skipped and only the catalog's own consistency is checked.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from .expressions import TIME_FUNCTIONS, Expression, ExpressionError, parse_expression
from .units import kind_fits_unit
from .yamlsource import YamlPath

TableColumns = Mapping[str, Mapping[str, str]]
Add = Callable[[YamlPath, str, str, str], None]  # (path, code, message, fix)
CATEGORIES = ("republican", "oblast", "district")
_EXPRESSIONS = ("scope", "condition", "value", "weight")
_NUMERIC = ("int", "float")


def check_measure(kpi: dict[str, Any], base: YamlPath, categories: tuple[str, ...], tables: TableColumns | None,
                  add: Add) -> None:
    """Findings for the ``measure`` of one KPI (``base`` is the KPI's YAML path; ``categories`` those it applies
    to)."""
    measure = kpi.get("measure")
    if measure is None:
        return
    path: YamlPath = (*base, "measure")
    kind = measure["kind"]
    if not kind_fits_unit(kind, kpi["unit"]):
        add((*path, "kind"), "measure-unit", f"a {kind} measure cannot give a value in the KPI's unit "
            f"'{kpi['unit']}'", _unit_fix(kind))
    params: dict[str, YamlPath] = {}
    if kind == "ratio":
        for part in ("numerator", "denominator"):
            params |= _check_part(measure[part], (*path, part), tables, add)
        if measure.get("baseline"):
            add((*path, "baseline"), "measure-baseline", "a ratio measure cannot carry a baseline",
                "remove baseline: true")
    else:
        params |= _check_part(measure, path, tables, add)
    if kind == "share" and not measure.get("condition"):
        add(path, "measure-incomplete", "a share measure needs the condition it counts", "add condition: …")
    if kind == "count" and measure.get("value"):
        add((*path, "value"), "measure-unused", "a count measure counts rows: value is not used",
            "remove value, or use kind: sum")
    columns = _columns(tables, measure.get("table"))
    for key in ("group",):
        for index, name in enumerate(measure.get(key) or ()):
            _need_column(columns, name, measure.get("table"), (*path, key, index), add)
    if measure.get("norm_column"):
        _need_column(columns, measure["norm_column"], measure.get("table"), (*path, "norm_column"), add)
    known = kpi.get("parameters") or {}
    for name in sorted(params):
        if name not in known:
            add(params[name], "unknown-parameter", f"the measure uses param.{name}, which the KPI does not define",
                f"add parameters: {{{name}: {{republican: …, oblast: …, district: …, unit: …, text_ru: …}}}} "
                "or correct the name")
            continue
        for category in categories:
            if known[name][category] is None:
                add((*base, "parameters", name, category), "parameter-missing",
                    f"param.{name} has no value for {category}, a category the KPI applies to",
                    f"give the value of {name} for {category} from the formula of the order")


def _check_part(part: dict[str, Any], path: YamlPath, tables: TableColumns | None,
                add: Add) -> dict[str, YamlPath]:
    """Check one table-reading part (the measure itself, or a ratio's numerator / denominator); return the
    parameters it uses, each with the path of the expression using it."""
    table = part.get("table")
    columns = _columns(tables, table)
    if tables is not None and table not in tables:
        add((*path, "table"), "unknown-table", f"there is no raw record table '{table}'",
            "use one of: " + ", ".join(sorted(tables)))
    time = part.get("time")
    if time is not None and columns is not None:
        if time not in columns:
            _need_column(columns, time, table, (*path, "time"), add)
        elif columns[time] not in ("timestamp", "date"):
            add((*path, "time"), "measure-time", f"the time column '{time}' of {table} is a {columns[time]}",
                "name a timestamp or date column")
    params: dict[str, YamlPath] = {}
    for key in _EXPRESSIONS:
        text = part.get(key)
        if text is None:
            continue
        try:
            expr = parse_expression(str(text))
        except ExpressionError as exc:
            add((*path, key), "measure-expression", f"«{text}»: {exc}",
                "write it in the measure language (docs/catalog-format.md, «Measures»)")
            continue
        params |= {name: (*path, key) for name in expr.params if name not in params}
        for name in sorted(expr.columns):
            _need_column(columns, name, table, (*path, key), add)
        if columns is not None:
            _check_types(expr, columns, table, (*path, key), add)
    return params


def _check_types(expr: Expression, columns: Mapping[str, str], table: str | None, path: YamlPath, add: Add) -> None:
    for node in ast.walk(expr.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TIME_FUNCTIONS:
            for arg in node.args:
                if isinstance(arg, ast.Name) and columns.get(arg.id) not in (None, "timestamp"):
                    add(path, "measure-type", f"{node.func.id}() needs timestamps, but {arg.id} of {table} is a "
                        f"{columns[arg.id]}", "pass two timestamp columns")


def _columns(tables: TableColumns | None, table: str | None) -> Mapping[str, str] | None:
    if tables is None or table is None:
        return None
    return tables.get(table)


def _need_column(columns: Mapping[str, str] | None, name: str, table: str | None, path: YamlPath, add: Add) -> None:
    if columns is not None and name not in columns:
        add(path, "unknown-column", f"the table {table} has no column '{name}'",
            "use one of: " + ", ".join(sorted(columns)))


def _unit_fix(kind: str) -> str:
    return {
        "share": "a share is a percentage: use unit percent, or another kind",
        "daily_compliance": "a compliance share is a percentage: use unit percent",
        "rate_per_1000": "use unit per_1000_residents, or kind ratio for another denominator",
        "ratio": "a ratio needs a per-N unit (per_1000_users, per_million_trips …)",
        "sum": "a sum is an amount: use a count unit (count, count_per_month …)",
        "count": "a count is an amount: use a count unit (count, count_per_month …)",
    }.get(kind, "a mean or a median is a plain quantity (minutes, hours, a score): not a percentage or a count")
