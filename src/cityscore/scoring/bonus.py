"""The bonus for additional initiatives (Appendix 5 п. 5–6): evidence in, a verdict per criterion out.

Each additional initiative that meets all five criteria adds ``points_per_initiative`` (2) to the settlement's
score:

1. ``in_roadmap`` — it is in the approved Roadmap;
2. ``signed_report`` — a report with the work done, start and end dates and results, signed by the deputy head of
   the akimat in charge of digitalisation (evidence: ``report_signed`` true, and both dates given);
3. ``indicators`` — it has «не менее одного» quantitative or qualitative indicator (D-11; ``indicator_count ≥ 1``;
   policy ``literal`` reads «менее одного»: zero indicators);
4. ``implemented_in_period`` — it was completed in the reporting year (``completed`` within the year, not before
   ``started``);
5. ``smart_city_sphere`` — its sphere is one of the eight of п. 5 (an id such as ``ecology`` or a name such as
   «Экология»; «ЖКХ» is accepted for housing and utilities).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..settlements import normalise_name
from ..standard import Standard
from .policy import ScoringPolicy


@dataclass(frozen=True)
class Evidence:
    """What a settlement reports about one additional initiative."""

    settlement: str
    name: str
    sphere: str | None
    in_roadmap: bool | None
    report_signed: bool | None
    indicator_count: int | None
    started: date | None
    completed: date | None
    source: str | None = None


@dataclass(frozen=True)
class CriterionVerdict:
    id: str
    n: int
    met: bool
    reason: str


@dataclass(frozen=True)
class BonusVerdict:
    """The verdict on one additional initiative."""

    settlement: str
    name: str
    criteria: tuple[CriterionVerdict, ...]
    points: float
    note: str | None = None

    @property
    def qualifies(self) -> bool:
        return all(c.met for c in self.criteria)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "qualifies": self.qualifies,
            "points": self.points,
            "criteria": {c.id: {"met": c.met, "reason": c.reason} for c in self.criteria},
            "note": self.note,
        }


def sphere_id(std: Standard, text: str | None) -> str | None:
    """The sphere id that ``text`` names (id, Russian/English/Kazakh name, or «ЖКХ»), else None."""
    if not text:
        return None
    key = normalise_name(text)
    for sphere in std.spheres:
        names = {sphere.id, sphere.name.ru, sphere.name.en, sphere.name.kk}
        if key in {normalise_name(n) for n in names}:
            return sphere.id
    for section in std.sections:  # the short section names of Appendix 5 («ЖКХ»)
        if key == normalise_name(section.name.ru) and std.sphere(section.id):
            return section.id
    return None


def judge(std: Standard, evidence: Evidence, year: int, policy: ScoringPolicy) -> BonusVerdict:
    """Check one additional initiative against the five criteria for ``year``."""
    verdicts = []
    by_id = {c.id: c for c in std.bonus.criteria}

    def add(cid: str, met: bool, reason: str) -> None:
        criterion = by_id.get(cid)
        verdicts.append(CriterionVerdict(cid, criterion.n if criterion else 0, met, reason))

    add("in_roadmap", evidence.in_roadmap is True,
        "in the approved Roadmap" if evidence.in_roadmap else "not in the approved Roadmap (in_roadmap)")
    dates_given = evidence.started is not None and evidence.completed is not None
    if evidence.report_signed and dates_given:
        add("signed_report", True, "signed report with start and completion dates")
    elif not evidence.report_signed:
        add("signed_report", False, "no signed report (report_signed)")
    else:
        add("signed_report", False, "the report lacks its start or completion date (started, completed)")
    count = evidence.indicator_count
    if policy.bonus_criterion_3 == "literal":
        add("indicators", count is not None and count < 1, f"{count} indicator(s); literal reading: fewer than one")
    else:
        add("indicators", count is not None and count >= 1,
            f"{count} indicator(s) confirm it" if count else "no indicator confirms it (indicator_count)")
    completed = evidence.completed
    if completed is None:
        add("implemented_in_period", False, "no completion date")
    elif evidence.started is not None and completed < evidence.started:
        add("implemented_in_period", False, f"completed {completed} before it started {evidence.started}")
    elif completed.year != year:
        add("implemented_in_period", False, f"completed {completed}, outside {year}")
    else:
        add("implemented_in_period", True, f"completed {completed}")
    sphere = sphere_id(std, evidence.sphere)
    add("smart_city_sphere", sphere is not None,
        f"sphere {sphere}" if sphere else f"«{evidence.sphere}» is not one of the eight spheres of п. 5")
    verdicts.sort(key=lambda v: v.n)
    qualifies = all(v.met for v in verdicts)
    points = float(std.bonus.points_per_initiative) if qualifies else 0.0
    return BonusVerdict(evidence.settlement, evidence.name, tuple(verdicts), points)


def bonus_for(std: Standard, evidence: list[Evidence], year: int, policy: ScoringPolicy) -> list[BonusVerdict]:
    """Verdicts on all of one settlement's additional initiatives; an initiative listed twice counts once."""
    verdicts = []
    seen: set[str] = set()
    for item in evidence:
        key = normalise_name(item.name)
        verdict = judge(std, item, year, policy)
        if key in seen:
            verdict = BonusVerdict(verdict.settlement, verdict.name, verdict.criteria, 0.0,
                                   "listed more than once; counted once")
        seen.add(key)
        verdicts.append(verdict)
    return verdicts
