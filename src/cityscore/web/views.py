"""What each page shows, as plain data for the templates: built from the publishing read model and the catalog.

Kept apart from the routes so that the pages' content can be tested without HTTP, and apart from the templates so
that they only lay it out. Values stay numbers here; the templates format them with the page's :class:`Locale`.
A page that shows the scores of a run has ``stale`` (its :class:`~cityscore.store.changes.Staleness`): the base
template shows a banner while data changed after the run.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from typing import Any

from ..errors import NotFoundError
from ..publishing import Repository
from ..scoring import ScoringPolicy
from ..scoring.normalise import STABILISATION_LINEAR_SPAN
from ..standard import Standard
from ..standard.models import KPI, Target
from ..standard.views import param_label
from .i18n import Locale

CATEGORIES = ("republican", "oblast", "district")
BAND_COLOURS = {"excellent": "#1a7f37", "good": "#6fb443", "average": "#e3b505", "below_average": "#ef7d32",
                "low": "#c62828"}
WINDOW_ORDER = ("day", "week", "month", "quarter")


def band_colour(band_id: str | None) -> str:
    return BAND_COLOURS.get(band_id or "", "#8a8f98")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("ё", "е")


def bands(std: Standard, loc: Locale, counts: dict[str, int] | None = None) -> list[dict[str, Any]]:
    out = []
    upper: float = 100
    for band in std.bands:
        out.append({"id": band.id, "name": loc.name(band), "range": band.text_ru, "lower": band.lower, "upper": upper,
                    "colour": band_colour(band.id), "count": (counts or {}).get(band.id, 0),
                    "description_ru": band.description_ru})
        upper = band.lower
    return out


def band_name(std: Standard, loc: Locale, band_id: str) -> str:
    """A band's name in the reader's language, from the catalog (the ministry may rename bands)."""
    band = next((b for b in std.bands if b.id == band_id), None)
    return loc.name(band) if band is not None else band_id


def ranking_rows(repo: Repository, loc: Locale, year: int, category: str, *, query: str = "",
                 region: str = "") -> list[dict[str, Any]]:
    """The rating of one category, filtered by a name (any language, any case) and a region."""
    needle = _fold(query.strip())
    rows = []
    for r in repo.results(year, category):
        settlement = repo.registry.get(r["settlement"])
        if region and (settlement is None or settlement.region_code != region):
            continue
        names = [r.get("name_ru") or "", r.get("name_kk") or "", r.get("name_en") or "", r["settlement"]]
        if needle and not any(needle in _fold(n) for n in names):
            continue
        region_obj = repo.registry.region(settlement.region_code) if settlement else None
        rows.append({"rank": r["rank"], "kato": r["settlement"], "name": loc.name(r),
                     "region": loc.name(region_obj) if region_obj else "", "cityscore": r["cityscore"],
                     "band_id": r["band_id"], "band": band_name(repo.std, loc, r["band_id"]),
                     "movement": r["movement"],
                     "coverage": r["coverage"], "colour": band_colour(r["band_id"])})
    return rows


def national(repo: Repository, loc: Locale, year: int, *, query: str = "", region: str = "") -> dict[str, Any]:
    run = repo.run(year)
    results = repo.results(run.year)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["band_id"]] = counts.get(r["band_id"], 0) + 1
    points = []
    for r in results:
        s = repo.registry.get(r["settlement"])
        if s is None or s.latitude is None or s.longitude is None:
            continue
        points.append({"kato": s.kato, "name": loc.name(r), "lon": s.longitude, "lat": s.latitude,
                       "cityscore": r["cityscore"], "band_id": r["band_id"],
                       "band": band_name(repo.std, loc, r["band_id"]),
                       "colour": band_colour(r["band_id"]), "population": s.population,
                       "size": _symbol_size(s.population), "rank": r["rank"],
                       "category": loc.category(r["category"], "singular")})
    points.sort(key=lambda p: -p["size"])  # small markers drawn last, on top of the large ones
    categories = ranking_blocks(repo, loc, run.year, query=query, region=region)
    regions = sorted(repo.registry.regions, key=lambda g: loc.name(g))
    return {"run": run, "year": run.year, "years": repo.years(), "stale": repo.staleness(run.year),
            "bands": bands(repo.std, loc, counts), "categories": categories, "points": points, "rated": len(results),
            "regions": [{"code": g.region_code, "name": loc.name(g)} for g in regions],
            "query": query, "region": region}


def ranking_blocks(repo: Repository, loc: Locale, year: int, *, query: str = "", region: str = "") -> (
        list[dict[str, Any]]):
    """The rating of each category (filtered) with the size of the whole category."""
    return [{"id": c, "name": loc.category(c), "total": len(repo.results(year, c)),
             "rows": ranking_rows(repo, loc, year, c, query=query, region=region)} for c in CATEGORIES]


def _symbol_size(population: int | None) -> float:
    """Marker diameter in pixels: area proportional to population (6 px for 10 000, 30 px for 2 million)."""
    if not population:
        return 5.0
    return round(max(5.0, min(32.0, 6.0 * math.pow(population / 10_000, 0.3))), 1)


def _target_of(kpi: KPI | None, category: str) -> Target | None:
    return kpi.targets.target(category) if kpi else None  # type: ignore[arg-type]


DYNAMIC_KINDS = ("reduction", "growth", "stabilisation")
# the rules of scoring/normalise.py for dynamic targets (KpiOutcome.rule) → the message that explains each
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?P<kind>reduction|growth): min\(change / target change, 1\)$"), "why.rule.ratio.{kind}"),
    (re.compile(r"^(?P<kind>reduction|growth): any change$"), "why.rule.any.{kind}"),
    (re.compile(r"^(?P<kind>reduction|growth)$"), "why.rule.at_least"),
    (re.compile(r"^stabilisation \((?P<mode>linear|binary)\)$"), "why.rule.stabilisation.{mode}"),
)


def lineage_url(kato: str, kpi_id: str, year: int) -> str:
    """The API's lineage of one KPI value: score → annual value → monthly values → batches → standard and policy."""
    return f"/api/v1/settlements/{kato}/kpis/{kpi_id}/lineage?year={year}"


def why_this_score(outcome: dict[str, Any]) -> dict[str, Any] | None:
    """For a KPI with a dynamic target (reduction, growth, stabilisation): its baseline, the change and the rule
    applied, as numbers and message keys for the template; None for the other targets. ``change`` is the change of
    the value in % of the baseline (+ up, − down); ``improvement`` the change the target counts (+ better)."""
    kind = outcome.get("target_kind")
    if kind not in DYNAMIC_KINDS:
        return None
    actual, baseline = outcome.get("actual"), outcome.get("baseline")
    change = 100.0 * (actual - baseline) / abs(baseline) if actual is not None and baseline else None
    rule, key, goal = outcome.get("rule"), None, outcome.get("target")
    if baseline == 0 and actual is not None:  # no percentage change from 0 (the rule names only the kind then)
        key = f"why.rule.zero_baseline.{kind}"
    for pattern, template in _RULES if key is None else ():
        match = pattern.match(rule or "")
        if match:
            key = template.format(**match.groupdict())
            break
    if key == "why.rule.at_least" and goal is None:
        key = None
    goal_key = (f"why.goal.{kind}" if kind == "stabilisation" or goal is not None else f"why.goal.{kind}.any")
    return {"kind": kind, "actual": actual, "baseline": baseline, "change": change,
            "improvement": outcome.get("achieved"), "goal": goal, "goal_key": goal_key, "score": outcome.get("score"),
            "has_baseline": baseline is not None, "rule_key": key, "rule": rule, "span": STABILISATION_LINEAR_SPAN,
            "goal_digits": 0 if goal is None or float(goal).is_integer() else 1}


def settlement_page(repo: Repository, loc: Locale, kato: str, year: int) -> dict[str, Any]:
    settlement = repo.settlement(kato)
    run = repo.run(year)
    result = repo.result(settlement.kato, run.year)
    std = repo.std
    region = repo.registry.region(settlement.region_code)
    sections = []
    for section in std.sections:
        detail = result["section_details"].get(section.id)
        rows = []
        for kpi_id, outcome in result["kpis"].items():
            if outcome["section"] != section.id:
                continue
            kpi = std.kpi(kpi_id)
            target = _target_of(kpi, settlement.category)
            rows.append({"id": kpi_id, "name": loc.name(kpi) if kpi else kpi_id,
                         "unit": loc.unit(kpi.unit if kpi else None),
                         "actual": outcome["actual"], "has_data": outcome["has_data"],
                         "target": target.text if target else outcome.get("target_text"),
                         "score": outcome["score"], "weight": outcome["weight"],
                         "points_at_stake": outcome["points_at_stake"], "provisional": outcome.get("provisional"),
                         "periodicity": kpi.periodicity if kpi else None, "why": why_this_score(outcome),
                         "lineage": lineage_url(settlement.kato, kpi_id, run.year),
                         # a KPI of several parts (1.4: one value per data domain) shows each part
                         "components": (outcome.get("input") or {}).get("components") or {}})
        sections.append({"id": section.id, "name": loc.name(section), "weight": float(section.weight),
                         "index": detail["index"] if detail else None,
                         "effective_weight": detail["weight"] if detail else 0.0,
                         "redistributed": bool(detail and detail["redistributed"]), "kpis": rows,
                         # one KPI holds the whole section: its score is the section's index (D-69)
                         "sole": rows[0] if len(rows) == 1 else None})
    not_counted = []
    for kpi_id, reason in result["not_counted"].items():
        kpi = std.kpi(kpi_id)
        not_counted.append({"id": kpi_id, "name": loc.name(kpi) if kpi else kpi_id, "reason": loc.reason(reason)})
    improvements = []
    for item in result["improvements"]:
        kpi = std.kpi(item["kpi"])
        improvements.append({**item, "name": loc.name(kpi) if kpi else item["kpi"],
                             "unit": loc.unit(kpi.unit if kpi else None),
                             "target_text": (t.text if (t := _target_of(kpi, settlement.category)) else
                                             item.get("target_text"))})
    bonus = list(result["additional_initiatives"])
    trend = repo.trend(settlement.kato, run.year)  # the official score month by month: it ends at the headline
    trend_monitoring = repo.trend(settlement.kato, run.year, "monitoring")  # drawn beside it, labelled
    peers = repo.results(run.year, settlement.category)
    return {"settlement": settlement, "name": loc.name(settlement), "region": loc.name(region) if region else "",
            "run": run, "year": run.year, "years": repo.years(), "stale": repo.staleness(run.year), "result": result,
            "sections": sections, "not_counted": not_counted, "improvements": improvements, "bonus": bonus,
            "trend": trend, "trend_monitoring": trend_monitoring,
            "peers": len(peers), "colour": band_colour(result["band_id"]),
            "band": band_name(std, loc, result["band_id"]),
            "bands": bands(std, loc)}


def monitor_view(repo: Repository, loc: Locale, kato: str, as_of: date | None) -> dict[str, Any]:
    """The monitor table (the API's monitor, :mod:`cityscore.scoring.daily`); ``available`` is False (with the
    reason) when there are no daily values. Each row says whether the KPI has a day score and whether its daily
    values are put on a monthly scale; ``left_out`` lists the KPIs with daily values that do not count, with why;
    ``overall_cap`` is the most one KPI counts in the overall (decisions.md D-39, D-63)."""
    settlement = repo.settlement(kato)
    try:
        data = repo.monitor(settlement.kato, as_of)
    except NotFoundError as exc:
        return {"available": False, "reason": str(exc), "kato": settlement.kato}
    rows = []
    order = {k.id: i for i, k in enumerate(repo.std.kpis)}
    how: dict[str, dict[str, Any]] = data.get("kpis", {})
    for metric in sorted(data["metrics"], key=lambda m: order.get(m, 999)):
        kpi = repo.std.kpi(metric)
        detail = how.get(metric, {})
        rows.append({"id": metric, "name": loc.name(kpi) if kpi else metric,
                     "scores": [data["metrics"][metric].get(w) for w in WINDOW_ORDER],
                     "day_score": detail.get("day_score", True), "monthly": detail.get("monthly", False),
                     "target_kind": detail.get("target_kind")})
    left_out = []
    for kpi_id, reason in sorted(data.get("left_out", {}).items(), key=lambda kv: order.get(kv[0], 999)):
        kpi = repo.std.kpi(kpi_id)
        left_out.append({"id": kpi_id, "name": loc.name(kpi) if kpi else kpi_id, "reason": loc.reason(reason)})
    return {"available": True, "kato": settlement.kato, "as_of": data["as_of"], "first_day": data["first_day"],
            "last_day": data["last_day"], "windows": [{"id": w, **data["windows"][w]} for w in WINDOW_ORDER],
            "rows": rows, "overall": [data["overall"].get(w) for w in WINDOW_ORDER],
            "overall_cap": data.get("overall_cap"), "year": data.get("year"), "left_out": left_out,
            "monthly": any(r["monthly"] for r in rows), "no_day": any(not r["day_score"] for r in rows)}


def kpi_page(repo: Repository, loc: Locale, kpi_id: str, year: int | None) -> dict[str, Any]:
    std = repo.std
    kpi = std.kpi(kpi_id)
    if kpi is None:
        raise NotFoundError(f"No KPI '{kpi_id}'")
    initiative = std.initiative(kpi.initiative)
    section = next((s for s in std.sections if s.id == kpi.section), None)
    targets = []
    for category in CATEGORIES:
        target = kpi.targets.target(category)  # type: ignore[arg-type]
        targets.append({"category": category, "name": loc.category(category), "applies": std.kpi_applies(
            kpi, category), "text": target.text if target else None,  # type: ignore[arg-type]
            "kind": target.kind if target else None,
            "parameters": [f"{param_label(p[category])} {p.unit}".strip()  # type: ignore[index]
                           for p in kpi.parameters.values()]})
    distribution: dict[str, Any] | None = None
    try:
        data = repo.distribution(kpi.id, year)
    except NotFoundError:
        data = None
    if data is not None:
        per_category = []
        for category in CATEGORIES:
            values = [v for v in data["values"] if v["category"] == category]
            if not values:
                continue
            target = kpi.targets.target(category)  # type: ignore[arg-type]
            per_category.append({
                "id": category, "name": loc.category(category), "summary": data["summary"].get(category),
                "target": target.value if target and target.kind == "threshold" and not isinstance(
                    target.value, tuple) else None,
                "target_text": target.text if target else None,
                "values": [{**v, "name": loc.name(v)} for v in values],
                "counted": sum(1 for v in values if v["counts"]),
                "with_data": sum(1 for v in values if v["counts"] and v["actual"] is not None)})
        distribution = {"year": data["year"], "categories": per_category}
    neighbours = [k.id for k in std.kpis]
    index = neighbours.index(kpi.id)
    return {"kpi": kpi, "name": loc.name(kpi), "initiative": initiative,
            "initiative_name": loc.name(initiative) if initiative else "", "section": section,
            "section_name": loc.name(section) if section else kpi.section, "unit": loc.unit(kpi.unit),
            "targets": targets, "distribution": distribution, "years": repo.years(),
            "stale": repo.staleness(distribution["year"]) if distribution else None,
            "year": distribution["year"] if distribution else year,
            "previous": neighbours[index - 1] if index > 0 else None,
            "next": neighbours[index + 1] if index + 1 < len(neighbours) else None}


def methodology(std: Standard, loc: Locale, decisions_html: str) -> dict[str, Any]:
    initiatives = []
    for initiative in std.initiatives:
        kpis = [k for k in std.kpis if k.initiative == initiative.number]
        initiatives.append({"number": initiative.number, "name": loc.name(initiative),
                            "section": next((loc.name(s) for s in std.sections if s.id == initiative.section), ""),
                            "stages": {c: initiative.categories[c] for c in CATEGORIES},  # type: ignore[index]
                            "kpis": [{"id": k.id, "name": loc.name(k), "weight": k.weight_points,
                                      "provisional": k.provisional} for k in kpis]})
    rules = []
    for rule in ScoringPolicy.describe():
        field = str(rule["field"])
        rules.append({**rule, "text": loc.t(f"policy.{field}") if loc.has(f"policy.{field}") else rule["description"]})
    return {"sections": [{"id": s.id, "name": loc.name(s), "weight": s.weight} for s in std.sections],
            "bands": bands(std, loc), "initiatives": initiatives, "rules": rules, "decisions_html": decisions_html,
            "kpi_count": len(std.kpis), "provisional": [k.id for k in std.kpis if k.provisional],
            "bonus_points": std.bonus.points_per_initiative, "bonus_criteria": std.bonus.criteria}
