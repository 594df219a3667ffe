"""The settlement page's monitor and trend: the same numbers as the API, the rules said on the page, the official
trend ending at the headline with the monitoring-mode line only beside it, labelled."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

ASTANA = "710000000"
KASKELEN = "195220100"  # a district centre


def chart_data(html: str, kind: str) -> dict[str, object]:
    found = re.search(rf'data-chart="{kind}"[^>]*></div>\s*<script type="application/json" class="chart-data">(.*?)'
                      r"</script>", html, re.S)
    assert found, kind
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_the_monitor_says_its_rules_and_what_it_leaves_out(page_client: TestClient) -> None:
    html = page_client.get(f"/fragments/monitor/{KASKELEN}", params={"lang": "en"}).text
    table, _, rest = html.partition('<details class="monitor-left-out">')
    api = page_client.get(f"/api/v1/settlements/{KASKELEN}/monitor").json()
    assert 'href="/kpis/7.5"' not in table and 'href="/kpis/7.5"' in rest  # left out, with why
    assert "initiative 7 is due from 2029" in rest
    assert f"Only the KPIs that count for this settlement in {api['year']}" in table
    assert "In the overall each KPI counts at most 2.0" in table
    assert "A KPI published monthly or more rarely has no day score" in table
    assert "No day score: the KPI is published monthly or more rarely" in table  # the dash of such a day cell
    for kpi_id in api["metrics"]:
        assert f'href="/kpis/{kpi_id}"' in table
    ru = page_client.get(f"/fragments/monitor/{KASKELEN}", params={"lang": "ru"}).text
    assert "инициатива 7 внедряется с 2029 года" in ru and "не больше чем 2,0" in ru


def test_the_trend_is_the_official_score_with_the_monitoring_line_labelled(page_client: TestClient) -> None:
    html = page_client.get(f"/settlements/{ASTANA}", params={"lang": "en"}).text
    api = page_client.get(f"/api/v1/settlements/{ASTANA}/score").json()
    data = chart_data(html, "trend")
    assert data["points"] == api["trend"] and data["monitoring"] == api["trend_monitoring"]
    assert api["trend"][-1]["cityscore"] == api["cityscore"] == data["final"]
    labels = {"score": "CityScore (official)", "monitoring": "Monitoring mode", "coverage": "Data coverage"}
    assert data["labels"] == labels
    assert "the last point is the headline score" in html and "Dashed: monitoring mode" in html
    header = '<th scope="col" class="num">CityScore (official)</th><th scope="col" class="num">Monitoring mode</th>'
    assert header in html
