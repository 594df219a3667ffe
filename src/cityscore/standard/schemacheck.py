"""Check one catalog file against its JSON Schema and turn schema errors into findings people can act on.

The schemas (``schema/*.schema.json``) carry an ``x-fix`` hint on the nodes a person is likely to get wrong; the
hint becomes the finding's fix. For ``oneOf`` failures the branch that came closest is followed down, so a wrong
value inside a target is reported at the value, not at the whole target.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from .findings import Finding
from .yamlsource import YamlDocument, YamlPath, format_path

SCHEMA_NAMES = ("standard", "initiatives", "functions", "kpis")


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (one of :data:`SCHEMA_NAMES`) shipped with the package."""
    text = resources.files("cityscore.standard").joinpath("schema", f"{name}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), format_checker=FormatChecker())


def check_schema(doc: YamlDocument, name: str, rel_file: str) -> list[Finding]:
    """Findings for every place where ``doc`` breaks schema ``name``."""
    findings = []
    for error in sorted(_validator(name).iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        findings.append(_to_finding(_deepest(error), doc, rel_file))
    return findings


def _deepest(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, follow the branch that got furthest into the value, if it went deeper than here."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return error
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branch = int(sub.schema_path[0]) if sub.schema_path else 0
        by_branch.setdefault(branch, []).append(sub)
    best = max(by_branch.values(), key=lambda errs: max(len(e.absolute_path) for e in errs))
    sub = max(best, key=lambda e: len(e.absolute_path))
    if len(sub.absolute_path) > len(error.absolute_path):
        return _deepest(sub)
    return error


def _to_finding(error: ValidationError, doc: YamlDocument, rel_file: str) -> Finding:
    path: YamlPath = tuple(error.absolute_path)
    hint = error.schema.get("x-fix") if isinstance(error.schema, dict) else None
    value = error.instance
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        message = f"the key '{missing}' is missing"
        fix = hint or f"add '{missing}:' here (see docs/catalog-format.md)"
        code = "missing-key"
    elif validator == "additionalProperties":
        properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        allowed = sorted(properties) if isinstance(properties, dict) else []
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        message = f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(repr(k) for k in extra)}"
        fix = f"remove it or correct the spelling; allowed keys: {', '.join(allowed)}"
        code = "unknown-key"
        if extra:
            path = (*path, extra[0])
    elif validator == "type":
        message = f"expected {_expected(error.validator_value)}, found {_show(value)}"
        fix = hint or f"write {_expected(error.validator_value)}"
        code = "wrong-type"
    elif validator == "enum":
        message = f"{_show(value)} is not one of the allowed values"
        allowed_values = error.validator_value if isinstance(error.validator_value, list) else []
        fix = hint or "use one of: " + ", ".join(_show(v) for v in allowed_values)
        code = "not-allowed"
    elif validator in ("oneOf", "anyOf"):
        message = f"{_show(value)} is not valid here"
        fix = hint or "see docs/catalog-format.md for the accepted forms"
        code = "invalid-value"
    else:
        message = error.message
        fix = hint or "see docs/catalog-format.md"
        code = f"schema-{validator}"
    return Finding(
        file=rel_file, path=format_path(path), line=doc.line_of(path), code=code, message=message, fix=fix
    )


def _expected(types: object) -> str:
    names = {"number": "a number", "integer": "a whole number", "string": "text", "boolean": "true or false",
             "array": "a list", "object": "a mapping", "null": "null"}
    if isinstance(types, list):
        return " or ".join(names.get(str(t), str(t)) for t in types)
    return names.get(str(types), str(types))


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
