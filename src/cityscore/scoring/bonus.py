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
5. ``smart_city_sphere`` — its sphere is one of the eight of п. 5, or an area п. 5 lists inside one (the social
   sphere's образование, культура, здравоохранение, социальные услуги): named by its id or by its name in Russian,
   Kazakh or English, or an alias of the catalog («ЖКХ», «Социальная сфера»); a text naming several, every one of
   them a sphere or area («Здравоохранение и социальные услуги»), also belongs (D-58).

Two listings are the same initiative when their own names agree up to case, ё/е, spacing and quotation marks
(:func:`initiative_key`, D-59); such an initiative earns its points once.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from ..standard import Standard
from ..standard.inputs import Evidence as Evidence
from .policy import ScoringPolicy

_QUOTES = str.maketrans(dict.fromkeys("\"'«»“”„‟‘’‚‛‹›`´", " "))
_KAZAKH_FOLD = str.maketrans({"ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х",
                              "і": "и"})
_DASH = re.compile(r"\s*[-‐‑–—]\s*")
# what joins the names of several spheres or areas in one cell: punctuation, brackets, «и», «және» (folded), "and"
_JOINER = re.compile(r"(\s*[,;/():]\s*|\s+(?:и|жане|and)\s+)")


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


def initiative_key(name: str) -> str:
    """The key that tells additional initiatives apart (D-59): their own name with case, ё/е, spacing and quotation
    marks ignored — «Умный двор», "умный  двор" and Умный Двор are one initiative. Nothing else is folded (unlike
    settlement names: no type words dropped, no Kazakh letters merged), so «Safe city» and «Safe village», or
    «Ақылды үн» and «Ақылды ұн», stay two."""
    text = unicodedata.normalize("NFC", name).casefold().replace("ё", "е").translate(_QUOTES)
    return " ".join(text.split())


def _sphere_key(text: str) -> str:
    """A sphere's name folded for matching: as :func:`initiative_key`, and also dashes, ``_`` and the Kazakh
    letters (typed with a Russian layout: «Кауипсиздик») — the list of spheres is closed, so this cannot merge two."""
    key = _DASH.sub("-", initiative_key(text).replace("_", " ")).strip(" .")
    return key.translate(_KAZAKH_FOLD)


@dataclass(frozen=True)
class SphereMatch:
    """A sphere of п. 5 named by a text, and the areas inside it that the text named."""

    sphere: str
    areas: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.sphere} ({', '.join(self.areas)})" if self.areas else self.sphere


def _sphere_names(std: Standard) -> dict[str, SphereMatch]:
    names: dict[str, SphereMatch] = {}
    for sphere in std.spheres:
        for label in sphere.labels():
            names.setdefault(_sphere_key(label), SphereMatch(sphere.id))
        for area in sphere.areas:
            for label in (area.id, area.name.ru, area.name.en, area.name.kk, *area.aliases):
                names.setdefault(_sphere_key(label), SphereMatch(sphere.id, (area.id,)))
    return names


def _merge(found: list[SphereMatch]) -> tuple[SphereMatch, ...]:
    """One match per sphere, in the order first named, with the areas named inside it."""
    order = list(dict.fromkeys(m.sphere for m in found))
    return tuple(SphereMatch(s, tuple(dict.fromkeys(a for m in found if m.sphere == s for a in m.areas)))
                 for s in order)


def match_spheres(std: Standard, text: str | None) -> tuple[SphereMatch, ...]:
    """The spheres (and areas) of п. 5 that ``text`` names, or () when any part of it names none (D-58).

    The whole text is tried first («Транспорт и логистика»); else it is read as names joined by commas, brackets,
    slashes, «и», «және» or "and" («Социальная сфера (образование)», «Здравоохранение и социальные услуги»), and
    every name must be a sphere or an area.
    """
    if not text or not text.strip():
        return ()
    names = _sphere_names(std)
    key = _sphere_key(text)
    if key in names:
        return (names[key],)
    pieces = [p for p in _JOINER.split(key) if p]
    # best[i]: the matches that read pieces[:i] as names and joiners, or None when they cannot be read so
    best: list[list[SphereMatch] | None] = [[]] + [None] * len(pieces)
    for end in range(1, len(pieces) + 1):
        for start in range(end):
            before = best[start]
            if before is None:
                continue
            chunk = "".join(pieces[start:end])
            if _JOINER.fullmatch(chunk):  # a joiner (or several) between two names
                best[end] = before
                break
            found = names.get(chunk.strip())
            if found is not None:
                best[end] = [*before, found]
                break
    return _merge(best[-1] or [])


def sphere_id(std: Standard, text: str | None) -> str | None:
    """The sphere id that ``text`` names (:func:`match_spheres`; the first when it names several), else None."""
    found = match_spheres(std, text)
    return found[0].sphere if found else None


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
    spheres = match_spheres(std, evidence.sphere)
    add("smart_city_sphere", bool(spheres),
        ("sphere " if len(spheres) == 1 else "spheres ") + ", ".join(m.describe() for m in spheres) if spheres
        else f"«{evidence.sphere}» is not a sphere of п. 5 or an area listed in one" if evidence.sphere
        else "no sphere given (sphere)")
    verdicts.sort(key=lambda v: v.n)
    qualifies = all(v.met for v in verdicts)
    points = float(std.bonus.points_per_initiative) if qualifies else 0.0
    return BonusVerdict(evidence.settlement, evidence.name, tuple(verdicts), points)


def bonus_for(std: Standard, evidence: list[Evidence], year: int, policy: ScoringPolicy) -> list[BonusVerdict]:
    """Verdicts on all of one settlement's additional initiatives, in the order given.

    An initiative listed more than once (the same :func:`initiative_key`) earns its points once, on the first of
    its listings that meets all five criteria, wherever that listing is; its other listings score 0 with a note.
    So the bonus does not depend on the order of the rows.
    """
    keys = [initiative_key(item.name) for item in evidence]
    listings = Counter(keys)
    awarded: set[str] = set()
    verdicts = []
    for key, item in zip(keys, evidence, strict=True):
        verdict = judge(std, item, year, policy)
        if listings[key] > 1:
            if verdict.points and key not in awarded:
                awarded.add(key)
            else:
                verdict = BonusVerdict(verdict.settlement, verdict.name, verdict.criteria, 0.0,
                                       "listed more than once; counted once")
        verdicts.append(verdict)
    return verdicts
