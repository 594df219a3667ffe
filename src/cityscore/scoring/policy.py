"""``ScoringPolicy``: every rule Appendix 5 leaves unstated, named, with a justified default and its alternatives.

Each field refers to the entry of ``docs/decisions.md`` that quotes the text and argues the default. The policy in
force is recorded with every score. A policy can be read from a YAML/JSON file (any subset of the fields; the rest
keep their defaults) and adjusted field by field (``--set field=value`` on the command line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import CityScoreError


class PolicyError(ValueError, CityScoreError):
    """A policy file or override names an unknown field or an unknown alternative."""


def _rule(default: str, decision: str, text: str) -> Any:
    return Field(default, description=text, json_schema_extra={"decision": decision})


class ScoringPolicy(BaseModel):
    """The unstated rules of Appendix 5. Defaults are the readings argued in ``docs/decisions.md``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("official", description="A label recorded with the scores.")
    kpi_weighting: Literal["points_within_section", "equal_within_section"] = _rule(
        "points_within_section", "D-02", "KPI weights inside a section: proportional to «Ценность KPI (баллы)», or "
                                         "equal.")
    le_normalisation: Literal["ratio", "linear", "binary"] = _rule(
        "ratio", "D-03", "Score of a «≤» target: target/actual; linear to 0 at twice the target; or met/not met.")
    kpi_applicability: Literal["catalog", "initiative_only"] = _rule(
        "catalog", "D-05", "Categories a KPI applies to: the catalog's applies_to (1.8–1.21 everywhere), or the "
                           "initiative's.")
    kpi_section: Literal["catalog", "initiative"] = _rule(
        "catalog", "D-06", "Section a KPI counts in: what it measures (catalog), or its initiative's sphere.")
    range_target: Literal["lenient", "strict", "midpoint"] = _rule(
        "lenient", "D-07", "Target given as a range («≥60-70%», «-5-10%»): the end easier to meet, the harder one, or "
                           "the middle.")
    range_parameter: Literal["lenient", "strict", "midpoint"] = _rule(
        "lenient", "D-08", "Range inside a formula (1.8: 60–90 s; 1.11: 7–10 min): the lenient end, the strict end, "
                           "the middle.")
    missing_target: Literal["not_counted", "next_category"] = _rule(
        "not_counted", "D-09", "A KPI that applies to a category without a target: not counted, or the next "
                               "category's target.")
    empty_section: Literal["redistribute", "zero"] = _rule(
        "redistribute", "D-10", "A section with nothing to score for a settlement: its weight goes to the others, or "
                                "it scores 0.")
    bonus_criterion_3: Literal["at_least_one", "literal"] = _rule(
        "at_least_one", "D-11", "Bonus criterion 3 «менее одного показателя»: read as «не менее одного», or literally.")
    cap: Literal["cap_100", "no_cap"] = _rule(
        "cap_100", "D-12", "CityScore with the bonus: capped at 100, or not.")
    band_rounding: Literal["one_decimal", "integer_half_up", "unrounded"] = _rule(
        "one_decimal", "D-13", "Number that is published, banded and ranked: one decimal, a whole number, or the "
                               "exact value.")
    compliance: Literal["share", "binary"] = _rule(
        "share", "D-15", "Compliance targets (1.17, 1.4): the share that complies, or 1 only when everything complies.")
    not_started: Literal["excluded", "excluded_until_deadline", "counted"] = _rule(
        "excluded", "D-16", "KPIs of initiatives whose stage has not begun: excluded until it begins, until it ends, "
                            "or counted.")
    near_duplicates: Literal["count_both", "count_once"] = _rule(
        "count_both", "D-17", "Near-duplicate KPIs (8.2 of 4.1, 10.3 of 9.9): both count, or only the first.")
    overlapping_kpis: Literal["count_both", "count_once"] = _rule(
        "count_both", "D-53", "Overlapping KPIs (1.19 and 12.1–12.2, 1.20 and 11.1–11.2, 1.11 and 10.1–10.2, 1.16 "
                              "and 6.2, 1.14 and 7.3, 9.8 and 6.7, 9.4): both count, or once — the initiative's own "
                              "KPIs (and 6.7, 9.4) instead of 1.x (and 9.8) wherever they count.")
    qualitative_targets: Literal["not_counted", "any_progress"] = _rule(
        "not_counted", "D-18", "Targets without a level («по возможности», «минимальный уровень»): not counted, or "
                               "any progress.")
    baseline: Literal["previous_year", "first_year"] = _rule(
        "previous_year", "D-19", "Baseline of reductions and growth: the previous year, or the first year with data.")
    unquantified_change: Literal["any_change", "not_counted"] = _rule(
        "any_change", "D-19", "«минимальное снижение»: any reduction scores 1, or not counted.")
    stabilisation: Literal["binary", "linear"] = _rule(
        "binary", "D-19", "«стабилизация»: 1 if not worse than the baseline else 0, or falling linearly to 0 at 10 % "
                          "worse.")
    survey_scores: Literal["share_of_target", "share_of_scale"] = _rule(
        "share_of_target", "D-20", "Survey scores: share of the category's norm, or share of the scale's maximum.")
    missing_data: Literal["zero", "exclude"] = _rule(
        "zero", "D-21", "Applicable KPI without data: scores 0 (official rating), or left out (monitoring).")
    provisional_kpis: Literal["count", "exclude"] = _rule(
        "count", "D-22", "Provisional KPIs (cut or reconstructed rows) with a stated target and weight: count, or not.")

    # --- construction -------------------------------------------------------------------------------------------
    @classmethod
    def official(cls) -> ScoringPolicy:
        """The defaults: the official annual rating."""
        return cls()

    @classmethod
    def monitoring(cls) -> ScoringPolicy:
        """The official rules, except that KPIs without data are left out (for a city's own monitoring)."""
        return cls(name="monitoring", missing_data="exclude")

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, base: ScoringPolicy | None = None, source: str = "policy") -> (
            ScoringPolicy):
        """A policy from ``base`` (default: official) with the fields of ``data`` replaced; errors say what to fix."""
        base = base or cls()
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown:
            raise PolicyError(f"{source}: unknown field(s) {', '.join(unknown)}. Fields: "
                              + ", ".join(f for f in cls.model_fields if f != "name") + ".")
        try:
            return cls.model_validate({**base.model_dump(), **data})
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "?"
                choices = cls.alternatives(field) if field in cls.model_fields else ()
                hint = f" (choose one of: {', '.join(choices)})" if choices else ""
                problems.append(f"{field} = {err.get('input')!r}{hint}")
            raise PolicyError(f"{source}: invalid value for " + "; ".join(problems)) from None

    @classmethod
    def from_file(cls, path: Path, *, base: ScoringPolicy | None = None) -> ScoringPolicy:
        """Read a policy from YAML or JSON (a mapping of field → alternative)."""
        path = Path(path)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise PolicyError(f"Cannot read the policy file {path}: {exc.strerror}") from None
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise PolicyError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise PolicyError(f"{path}: a policy file is a mapping of field: alternative.")
        return cls.from_mapping(data, base=base, source=str(path))

    def with_overrides(self, assignments: list[str]) -> ScoringPolicy:
        """Apply ``field=value`` assignments (the CLI's ``--set``)."""
        data: dict[str, Any] = {}
        for item in assignments:
            field, sep, value = item.partition("=")
            if not sep:
                raise PolicyError(f"--set {item!r}: write field=value, e.g. --set cap=no_cap")
            data[field.strip()] = value.strip()
        return ScoringPolicy.from_mapping(data, base=self, source="--set")

    # --- description --------------------------------------------------------------------------------------------
    @classmethod
    def alternatives(cls, field: str) -> tuple[str, ...]:
        annotation = cls.model_fields[field].annotation
        return tuple(str(a) for a in get_args(annotation))

    @classmethod
    def describe(cls) -> list[dict[str, object]]:
        """Every rule: field, default, alternatives, decision id, description."""
        default = cls()
        out = []
        for field, info in cls.model_fields.items():
            if field == "name":
                continue
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            out.append({
                "field": field,
                "default": getattr(default, field),
                "alternatives": list(cls.alternatives(field)),
                "decision": extra.get("decision"),
                "description": info.description,
            })
        return out

    def differences(self) -> dict[str, object]:
        """The fields that differ from the official defaults."""
        default = ScoringPolicy()
        return {f: getattr(self, f) for f in type(self).model_fields
                if f != "name" and getattr(self, f) != getattr(default, f)}
