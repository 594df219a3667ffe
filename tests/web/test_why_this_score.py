"""Why this score, on the settlement page: each KPI with a dynamic target shows its baseline, the change and the rule
applied; each KPI the points it costs and a link to its lineage; a section in which one KPI alone counts says so
(decisions.md D-69). Checked against the results the demo stored, in the three languages."""

from __future__ import annotations

import html as htmllib
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityscore.standard import Standard
from cityscore.store import Warehouse
from cityscore.web.i18n import LANGS, Locale, messages
from cityscore.web.views import why_this_score

from ..conftest import Demo

DYNAMIC = ("reduction", "growth", "stabilisation")
LABEL = {"ru": "Почему такая оценка:", "kk": "Неліктен мұндай баға:", "en": "Why this score:"}


@pytest.fixture(scope="module")
def stored(demo: Demo) -> dict[str, dict[str, Any]]:
    """KATO → the stored result of the published run."""
    with Warehouse(demo.db, read_only=True) as wh:
        run_id = wh.scalar("SELECT max(run_id) FROM score_runs")
        return {k: json.loads(r) for k, r in wh.rows("SELECT settlement, result_json FROM scores WHERE run_id = ?",
                                                     [run_id])}


def _text(html: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _why_rows(html: str) -> list[str]:
    return [_text(m) for m in re.findall(r'<tr class="why-row">(.*?)</tr>', html, re.S)]


def _with(stored: dict[str, dict[str, Any]], test: Any) -> str:
    return next(k for k, r in stored.items() if any(test(o) for o in r["kpis"].values()))


@pytest.mark.parametrize("kind", DYNAMIC)
def test_a_dynamic_target_shows_baseline_change_and_rule(page_client: TestClient, stored: dict[str, Any],
                                                         kind: str) -> None:
    kato = _with(stored, lambda o: o["target_kind"] == kind and o["has_data"] and o["baseline"])
    result = stored[kato]
    en = Locale("en")
    html = page_client.get(f"/settlements/{kato}", params={"lang": "en"}).text
    rows = _why_rows(html)
    dynamic = [(k, o) for k, o in result["kpis"].items() if o["target_kind"] in DYNAMIC]
    assert len(rows) == len(dynamic)  # one explanation under each KPI with a dynamic target, none under the others
    for (_, o), row in zip(dynamic, rows, strict=True):  # the page lists the KPIs in the stored order per section
        assert row.startswith("Why this score:")
        if not o["has_data"] or o["baseline"] is None:
            continue
        assert f"baseline (the same period a year earlier) {en.smart(o['baseline'])} → {en.smart(o['actual'])}" in row
        if o["baseline"]:
            change = 100 * (o["actual"] - o["baseline"]) / abs(o["baseline"])
            assert f"({'+' if change > 0 else ''}{en.pct(change, 1)})" in row
        assert "rule: " in row and row.endswith(f"→ {en.pct(100 * o['score'])}.")
        if o["rule"].endswith("min(change / target change, 1)"):
            improvement = o["achieved"]
            assert f"{'+' if improvement > 0 else ''}{en.pct(improvement, 1)} ÷ {en.pct(o['target'])}" in row


def test_every_kpi_shows_its_points_and_links_its_lineage(page_client: TestClient, stored: dict[str, Any]) -> None:
    kato = "391610000"
    result = stored[kato]
    html = page_client.get(f"/settlements/{kato}", params={"lang": "ru"}).text
    ru = Locale("ru")
    points = [_text(m) for m in re.findall(r'<td class="num points"[^>]*>(.*?)</td>', html, re.S)]
    expected = [f"{'−' if o['points_at_stake'] else ''}{ru.num(o['points_at_stake'], 2)} / {ru.num(o['weight'], 2)}"
                for o in result["kpis"].values()]
    assert sorted(points) == sorted(expected) and len(points) == len(result["kpis"])
    links = re.findall(r'<td class="lineage"><a href="([^"]+)"', html)
    assert sorted(links) == sorted(f"/api/v1/settlements/{kato}/kpis/{k}/lineage?year=2026" for k in result["kpis"])


@pytest.mark.parametrize("lang", LANGS)
def test_a_section_held_by_one_kpi_says_so(page_client: TestClient, stored: dict[str, Any], std: Standard,
                                           lang: str) -> None:
    def sole(result: dict[str, Any]) -> list[tuple[str, str]]:
        return [(sid, next(k for k, o in result["kpis"].items() if o["section"] == sid))
                for sid, d in result["section_details"].items() if d["kpis"] == 1]

    zeroed = next(k for k, r in stored.items() if any(r["kpis"][kpi]["score"] == 0 for _, kpi in sole(r)))
    scored = next(k for k, r in stored.items() if sole(r) and all(r["kpis"][kpi]["score"] for _, kpi in sole(r)))
    none = next(k for k, r in stored.items() if not sole(r))
    loc = Locale(lang)  # type: ignore[arg-type]
    for kato in (zeroed, scored):
        html = page_client.get(f"/settlements/{kato}", params={"lang": lang}).text
        for section, kpi in sole(stored[kato]):
            (note,) = re.findall(rf'<p class="warning sole-kpi" id="sole-{section}">(.*?)</p>', html)
            key = "settlement.sole_zero" if stored[kato]["kpis"][kpi]["score"] == 0 else "settlement.sole"
            weight = loc.num(stored[kato]["section_details"][section]["weight"], 1)
            assert _text(note) == loc.t(key, kpi=f"{kpi} {loc.name(std.kpi(kpi))}", weight=weight)
        assert html.count('class="warning sole-kpi"') == len(sole(stored[kato]))
    assert 'class="warning sole-kpi"' not in page_client.get(f"/settlements/{none}", params={"lang": lang}).text
    html = page_client.get(f"/settlements/{zeroed}", params={"lang": lang}).text
    assert LABEL[lang] in _text(html)


def test_the_rule_messages_exist_in_every_language() -> None:
    """The keys built from the engine's rules (views.why_this_score) are all in messages.yaml."""
    built = {f"why.rule.ratio.{k}" for k in ("reduction", "growth")} | {f"why.rule.any.{k}" for k in
                                                                        ("reduction", "growth")}
    built |= {"why.rule.at_least", "why.rule.other", "why.no_baseline", "why.no_value", "why.base", "why.label"}
    built |= {f"why.rule.zero_baseline.{k}" for k in DYNAMIC} | {f"why.goal.{k}" for k in DYNAMIC}
    built |= {f"why.rule.stabilisation.{m}" for m in ("linear", "binary")} | {f"why.goal.{k}.any" for k in
                                                                             ("reduction", "growth")}
    built |= {f"simulated.{k}" for k in ("label", "all", "some", "this")}
    assert not sorted(built - messages().keys())


@pytest.mark.parametrize(("outcome", "key"), [
    ({"target_kind": "reduction", "actual": 2.0, "baseline": 0.0, "target": None, "rule": "reduction"},
     "why.rule.zero_baseline.reduction"),
    ({"target_kind": "reduction", "actual": 2.0, "baseline": 4.0, "target": -1.0, "rule": "reduction"},
     "why.rule.at_least"),
    ({"target_kind": "growth", "actual": 2.0, "baseline": 4.0, "target": None, "rule": "growth: any change"},
     "why.rule.any.growth"),
    ({"target_kind": "stabilisation", "actual": 5.0, "baseline": 4.0, "target": None,
      "rule": "stabilisation (linear)"}, "why.rule.stabilisation.linear"),
    ({"target_kind": "reduction", "actual": 2.0, "baseline": 4.0, "target": 5.0, "rule": "a rule added later"}, None),
    ({"target_kind": "threshold", "actual": 2.0, "baseline": None, "target": 5.0, "rule": "≥: min(actual / target, 1)"},
     "-"),
])
def test_the_rule_applied_is_named(outcome: dict[str, Any], key: str | None) -> None:
    why = why_this_score({"achieved": None, "score": 0.0, **outcome})
    if key == "-":
        assert why is None  # not a dynamic target: nothing to explain beyond the target itself
        return
    assert why is not None and why["rule_key"] == key and why["rule"] == outcome["rule"]
    if outcome["baseline"]:
        assert why["change"] == 100 * (outcome["actual"] - outcome["baseline"]) / outcome["baseline"]


def test_a_kpi_of_several_parts_shows_each_part(page_client: TestClient, stored: dict[str, Any]) -> None:
    kato = _with(stored, lambda o: bool((o.get("input") or {}).get("components")))
    outcome = next(o for o in stored[kato]["kpis"].values() if (o.get("input") or {}).get("components"))
    text = _text(page_client.get(f"/settlements/{kato}").text)
    for name in outcome["input"]["components"]:
        assert f"{name}:" in text  # not "—"
