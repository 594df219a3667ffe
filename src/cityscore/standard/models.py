"""Frozen typed models of the standard.

The YAML catalog (see ``docs/catalog-format.md``) is loaded into these models; nothing here reads files. Every
model is immutable, so one loaded :class:`Standard` can be shared by every part of the program.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["republican", "oblast", "district"]
CATEGORIES: tuple[Category, ...] = ("republican", "oblast", "district")
CATEGORY_ABBR_RU: dict[Category, str] = {"republican": "Р", "oblast": "О", "district": "Рц"}

Comparator = Literal["≥", "≤"]
TargetKind = Literal["threshold", "reduction", "growth", "stabilisation", "compliance", "qualitative"]
Periodicity = Literal["daily", "weekly", "monthly", "quarterly", "annual"]
Direction = Literal["higher_is_better", "lower_is_better"]
Necessity = Literal["high", "medium", "low"]
Number = int | float
Range = tuple[Number, Number]
ParamValue = Number | Range | dict[str, Number] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Names(_Frozen):
    """A name in Russian (the text of the order) and unofficial English and Kazakh translations."""

    ru: str
    en: str
    kk: str

    def in_lang(self, lang: str) -> str:
        """The name in ``lang`` (ru, en or kk); Russian for anything else."""
        return {"en": self.en, "kk": self.kk}.get(lang, self.ru)


class Target(_Frozen):
    """The target of one KPI for one settlement category."""

    comparator: Comparator | None
    value: Number | Range | None
    kind: TargetKind
    text: str
    scale_max: Number | None = None
    qualifier: str | None = None

    @property
    def is_range(self) -> bool:
        return isinstance(self.value, tuple)

    def to_json(self) -> dict[str, object]:
        """The wire shape: ``{"comparator", "value", "kind", "text"}`` plus optional keys when set."""
        value: object = list(self.value) if isinstance(self.value, tuple) else self.value
        out: dict[str, object] = {"comparator": self.comparator, "value": value, "kind": self.kind, "text": self.text}
        if self.scale_max is not None:
            out["scale_max"] = self.scale_max
        if self.qualifier is not None:
            out["qualifier"] = self.qualifier
        return out


class Absence(_Frozen):
    """No target for a category, with the reason."""

    absent: str


class CategoryTargets(_Frozen):
    """A target or an absence for each of the three categories."""

    republican: Target | Absence
    oblast: Target | Absence
    district: Target | Absence

    def __getitem__(self, category: Category) -> Target | Absence:
        value: Target | Absence = getattr(self, category)
        return value

    def target(self, category: Category) -> Target | None:
        """The target for ``category``, or None when the catalog records an absence."""
        value = self[category]
        return value if isinstance(value, Target) else None


class Parameter(_Frozen):
    """A number inside a KPI's formula that depends on the category (e.g. 1.8: answered within 30/45/60–90 s)."""

    republican: ParamValue
    oblast: ParamValue
    district: ParamValue
    unit: str
    text_ru: str

    def __getitem__(self, category: Category) -> ParamValue:
        value: ParamValue = getattr(self, category)
        return value


MeasureKind = Literal["share", "mean", "median", "sum", "count", "rate_per_1000", "wait_time", "daily_compliance",
                      "ratio"]
MEASURE_KINDS: tuple[str, ...] = ("share", "mean", "median", "sum", "count", "rate_per_1000", "wait_time",
                                  "daily_compliance", "ratio")


class MeasurePart(_Frozen):
    """The numerator or the denominator of a ``ratio`` measure: a sum or a count over one raw table."""

    table: str
    kind: Literal["sum", "count"]
    time: str
    scope: str | None = None
    value: str | None = None


class Measure(_Frozen):
    """How a KPI is computed from raw records, per settlement and civil month (``docs/catalog-format.md``).

    ``scope``, ``condition``, ``value`` and ``weight`` are expressions of :mod:`cityscore.standard.expressions`.
    """

    kind: MeasureKind
    description: str
    table: str | None = None
    time: str | None = None
    scope: str | None = None
    condition: str | None = None
    value: str | None = None
    weight: str | None = None
    baseline: bool = False
    numerator: MeasurePart | None = None
    denominator: MeasurePart | None = None
    norms: dict[str, Number] | None = None  # daily_compliance: the daily norm per pollutant
    norm_column: str | None = None  # daily_compliance: the column naming the pollutant
    group: tuple[str, ...] = ()  # wait_time, daily_compliance: the columns that, with the civil day, make a series
    max_gap_minutes: Number | None = None  # wait_time: a longer headway is a gap in service, not a wait

    @property
    def tables(self) -> tuple[str, ...]:
        """The raw tables the measure reads."""
        if self.kind == "ratio" and self.numerator is not None and self.denominator is not None:
            return (self.numerator.table, self.denominator.table)
        return (self.table,) if self.table else ()


class KPI(_Frozen):
    """One row of Appendix 4."""

    id: str
    initiative: int
    section: str
    section_note: str | None = None
    applies_to: tuple[Category, ...] | None = None
    applies_note: str | None = None
    name: Names
    description_ru: str | None
    formula_ru: str | None
    data_source_ru: str | None
    system_ru: str | None
    periodicity: Periodicity | None
    periodicity_ru: str | None
    unit: str
    unit_ru: str | None
    aggregation: Literal["mean", "sum", "monthly_mean", "latest"] | None = None
    direction: Direction
    weight_points: Number | None
    impact_ru: str | None
    target_text_ru: str | None
    targets: CategoryTargets
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    measure: Measure | None = None
    provisional: bool
    provisional_reason: str | None
    near_duplicate_of: str | None = None
    reconstructed_from: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def accumulates(self) -> bool:
        """Whether the KPI's value is an amount that accumulates over its period (a count, a sum, complaints per
        1 000 residents in a month): put on another period's scale by its length."""
        if self.measure is not None:
            return self.measure.kind in ("count", "sum", "rate_per_1000")
        return self.unit in ("count_per_month", "count_per_year")

    @property
    def number(self) -> int:
        """The row number within the initiative's table (the part after the dot)."""
        return int(self.id.split(".")[1])

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.initiative, self.number)


class Legibility(_Frozen):
    """What of an Appendix 4 table survived in the published text."""

    status: Literal["complete", "partial", "lost"]
    lost_rows: tuple[int, ...] = ()
    note_ru: str | None = None
    note_en: str | None = None


class KpiTable(_Frozen):
    """The Appendix 4 table of one initiative, without its rows (those are :class:`KPI`)."""

    initiative: int
    table_title_ru: str
    legibility: Legibility


class Stage(_Frozen):
    """Stage and years of an initiative for one category (Appendix 2)."""

    stage: int
    years: tuple[int, int]


class CategoryStages(_Frozen):
    republican: Stage | None
    oblast: Stage | None
    district: Stage | None

    def __getitem__(self, category: Category) -> Stage | None:
        value: Stage | None = getattr(self, category)
        return value


class Initiative(_Frozen):
    """One base initiative of Appendix 2."""

    number: int
    name: Names
    sphere: str
    section: str
    executors_ru: tuple[str, ...]
    categories: CategoryStages

    def applies_to(self, category: Category) -> bool:
        return self.categories[category] is not None


class CategoryFlags(_Frozen):
    republican: bool
    oblast: bool
    district: bool

    def __getitem__(self, category: Category) -> bool:
        value: bool = getattr(self, category)
        return value


class Function(_Frozen):
    """One function row of Appendix 3."""

    n: int
    name: Names
    required: CategoryFlags
    qualifier_ru: dict[Category, str] = Field(default_factory=dict)
    necessity_ru: str | None
    necessity: Necessity | None


class InitiativeFunctions(_Frozen):
    """The Appendix 3 table of one initiative."""

    initiative: int
    title_ru: str
    note_ru: str | None
    functions: tuple[Function, ...]

    def required_for(self, category: Category) -> tuple[Function, ...]:
        return tuple(f for f in self.functions if f.required[category])


class CategoryInfo(_Frozen):
    id: Category
    abbr_ru: str
    name: Names
    definition_ru: str
    clause: str


class SphereArea(_Frozen):
    """An area п. 5 lists inside a sphere (the social sphere's «образование, культура, здравоохранение и
    социальные услуги»): an initiative of the area belongs to the sphere."""

    id: str
    name: Names
    aliases: tuple[str, ...] = ()


class Sphere(_Frozen):
    """A sphere of п. 5, with the other names it is known by and the areas the text lists inside it."""

    id: str
    name: Names
    aliases: tuple[str, ...] = ()
    areas: tuple[SphereArea, ...] = ()

    def labels(self) -> tuple[str, ...]:
        """Every name the sphere itself answers to: its id, its names in ru/en/kk and its aliases."""
        return (self.id, self.name.ru, self.name.en, self.name.kk, *self.aliases)


class Overlap(_Frozen):
    """KPIs of two tables that measure the same thing (D-53): with ``overlapping_kpis = count_once`` the KPIs of
    ``instead_of`` do not count where a KPI of ``counted`` counts."""

    id: str
    counted: tuple[str, ...]
    instead_of: tuple[str, ...]
    note_en: str


class Section(_Frozen):
    id: str
    weight: Number
    name: Names
    note_ru: str | None


class BonusCriterion(_Frozen):
    id: str
    n: int
    text_ru: str
    text_en: str


class Bonus(_Frozen):
    points_per_initiative: Number
    text_ru: str
    criteria: tuple[BonusCriterion, ...]


class Band(_Frozen):
    id: str
    lower: Number
    text_ru: str
    name: Names
    description_ru: str


class Deadline(_Frozen):
    id: str
    clause: str
    kind: Literal["fixed_date", "working_days_after", "annual_date", "event"]
    text_ru: str
    date: str | None = None
    working_days: int | None = None
    after: str | None = None
    month: int | None = None
    day: int | None = None
    year_offset: int | None = None


class Order(_Frozen):
    number: str
    date: str
    in_force: str
    issuer_ru: str
    published_by_ru: str | None = None


class Translations(_Frozen):
    official: tuple[str, ...]
    unofficial: tuple[str, ...]


class Source(_Frozen):
    """A document the catalog was read from."""

    id: str
    title_en: str
    note_en: str | None = None


class Standard(_Frozen):
    """One version of the standard: everything the rest of the program needs to know about the methodology."""

    id: str
    amends: str | None
    title: Names
    order: Order
    translations: Translations
    sources: tuple[Source, ...]
    categories: tuple[CategoryInfo, ...]
    spheres: tuple[Sphere, ...]
    sections: tuple[Section, ...]
    overlaps: tuple[Overlap, ...] = ()
    normalisation: dict[str, object]
    index: dict[str, object]
    bonus: Bonus
    bands: tuple[Band, ...]
    deadlines: tuple[Deadline, ...]
    glossary_ru: dict[str, str]
    initiatives: tuple[Initiative, ...]
    functions: tuple[InitiativeFunctions, ...]
    kpi_tables: tuple[KpiTable, ...]
    kpis: tuple[KPI, ...]

    # --- lookups -------------------------------------------------------------------------------------------------
    @cached_property
    def kpi_index(self) -> dict[str, KPI]:
        return {k.id: k for k in self.kpis}

    @cached_property
    def initiative_index(self) -> dict[int, Initiative]:
        return {i.number: i for i in self.initiatives}

    def kpi(self, kpi_id: str) -> KPI | None:
        return self.kpi_index.get(kpi_id)

    def initiative(self, number: int) -> Initiative | None:
        return self.initiative_index.get(number)

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def sphere(self, sphere_id: str) -> Sphere | None:
        return next((s for s in self.spheres if s.id == sphere_id), None)

    def overlaps_replacing(self, kpi_id: str) -> tuple[Overlap, ...]:
        """The overlaps in which ``kpi_id`` is the KPI counted only when none of the others counts (D-53)."""
        return tuple(o for o in self.overlaps if kpi_id in o.instead_of)

    def category(self, category: Category) -> CategoryInfo:
        return next(c for c in self.categories if c.id == category)

    def functions_of(self, number: int) -> InitiativeFunctions | None:
        return next((f for f in self.functions if f.initiative == number), None)

    def kpi_table(self, number: int) -> KpiTable | None:
        return next((t for t in self.kpi_tables if t.initiative == number), None)

    def kpis_of(self, number: int) -> tuple[KPI, ...]:
        return tuple(k for k in self.kpis if k.initiative == number)

    # --- applicability -------------------------------------------------------------------------------------------
    def kpi_categories(self, kpi: KPI) -> tuple[Category, ...]:
        """Categories the KPI applies to: its explicit ``applies_to``, else those of its initiative (Appendix 2)."""
        if kpi.applies_to is not None:
            return kpi.applies_to
        initiative = self.initiative(kpi.initiative)
        if initiative is None:
            return ()
        return tuple(c for c in CATEGORIES if initiative.applies_to(c))

    def kpi_applies(self, kpi: KPI, category: Category) -> bool:
        return category in self.kpi_categories(kpi)

    def band_for(self, score: float) -> Band:
        """The band whose lower bound is the highest one not above ``score`` (no rounding: see the scoring policy)."""
        for band in sorted(self.bands, key=lambda b: b.lower, reverse=True):
            if score >= band.lower:
                return band
        return min(self.bands, key=lambda b: b.lower)

    def iter_category_targets(self, kpi: KPI) -> Iterator[tuple[Category, Target | Absence]]:
        for category in CATEGORIES:
            yield category, kpi.targets[category]
