"""Read catalog YAML while remembering where every value stands in the file.

Validation messages must point a ministry analyst at the line to fix, so a document is composed into nodes first
and walked to produce both the plain Python data and a map from each value's path (``("kpis", 3, "weight_points")``)
to its line number. Dates stay strings (the JSON Schema checks their format), and a key repeated in one mapping is
reported instead of silently keeping the last value, as plain ``yaml.safe_load`` would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathPart = str | int
YamlPath = tuple[PathPart, ...]


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _CatalogLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader (libyaml-backed when available) that leaves dates as strings."""


# Drop the implicit timestamp resolver: "2025-09-12" stays the string it is in the file.
_CatalogLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data, the line of every path, and keys that appear twice."""

    file: Path
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    duplicate_keys: tuple[tuple[YamlPath, int], ...] = ()

    def line_of(self, path: YamlPath) -> int | None:
        """Line (1-based) of the value at ``path``, or of its nearest ancestor that exists."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                return line
        return None


class YamlSyntaxError(ValueError):
    """The file is not well-formed YAML."""

    def __init__(self, file: Path, line: int | None, problem: str) -> None:
        super().__init__(f"{file}:{line}: {problem}" if line else f"{file}: {problem}")
        self.file = file
        self.line = line
        self.problem = problem


def format_path(path: YamlPath) -> str:
    """Render a path the way people read it: ``kpis[3].targets.oblast.value``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "(document)"


def read_yaml(file: Path) -> YamlDocument:
    """Parse ``file`` into a :class:`YamlDocument`; raise :class:`YamlSyntaxError` if it is not valid YAML."""
    text = file.read_text(encoding="utf-8")
    loader = _CatalogLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(file=file, data=None)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlSyntaxError(file, line, str(exc.problem or exc)) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(file, None, str(exc)) from exc
    finally:
        loader.dispose()
    lines: dict[YamlPath, int] = {}
    duplicates: list[tuple[YamlPath, int]] = []
    _walk(node, (), lines, duplicates)
    return YamlDocument(file=file, data=data, lines=lines, duplicate_keys=tuple(duplicates))


def _walk(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], dups: list[tuple[YamlPath, int]]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                dups.append((child, key_node.start_mark.line + 1))
                continue
            seen.add(key)
            _walk(value_node, child, lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, dups)
