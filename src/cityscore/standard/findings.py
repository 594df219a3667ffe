"""Validation findings: each problem of a catalog as data (file, YAML path, line, code, message, fix)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem found in a catalog.

    ``file`` is relative to the catalog directory (``kpis/03.yaml``), ``path`` is the YAML path of the value
    (``kpis[2].weight_points``), ``line`` its 1-based line when known, ``code`` a stable slug for scripts,
    ``message`` what is wrong and ``fix`` what to do about it.
    """

    file: str
    path: str
    line: int | None
    code: str
    message: str
    fix: str
    severity: Severity = "error"

    def location(self) -> str:
        line = f":{self.line}" if self.line else ""
        return f"{self.file}{line} {self.path}"

    def render(self) -> str:
        return f"{self.severity}: {self.location()}: {self.message}. Fix: {self.fix}"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ValidationReport:
    """All findings of one validation run over a catalog directory."""

    catalog: str
    standard_id: str | None
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def flatten(self, keys: list[str]) -> list[list[object]]:
        """Compact rows for tests and tables, e.g. ``flatten(["file", "path", "code"])``."""
        return [[getattr(f, k) for k in keys] for f in self.findings]

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "catalog": self.catalog,
            "standard_id": self.standard_id,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_json() for f in self.findings],
        }
