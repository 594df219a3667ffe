"""A run on simulated data says so in every result of the API: ``"simulated"`` in the JSON of the score endpoints,
true for the demo, false for real data, per settlement when a warehouse mixes both (decisions.md D-68)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ..simulated import KASKELEN, other_district

ASTANA = "710000000"
# keys of a result before simulated data was marked: all of them are still there
RESULT_KEYS = {"settlement", "name_ru", "name_kk", "name_en", "category", "year", "cityscore", "cityscore_exact",
               "cityscore_uncapped", "base", "bonus", "band", "band_id", "band_en", "rank", "previous_rank",
               "previous_cityscore", "movement", "coverage", "sections", "section_details", "kpis", "not_counted",
               "additional_initiatives", "improvements"}




def test_the_demo_is_simulated_in_every_result(client: TestClient) -> None:
    scores = client.get("/api/v1/scores").json()
    assert scores["simulated"] is True
    assert len(scores["results"]) == 213 and all(r["simulated"] is True for r in scores["results"])
    assert scores["results"][0].keys() >= RESULT_KEYS
    one = client.get(f"/api/v1/settlements/{ASTANA}/score").json()
    assert one["simulated"] is True and one.keys() >= RESULT_KEYS
    rating = client.get("/api/v1/ratings/oblast").json()
    assert rating["simulated"] is True and all(r["simulated"] is True for r in rating["ratings"])
    assert client.get("/api/v1/kpis/1.8/distribution").json()["simulated"] is True
    assert "simulated" in client.get("/api/v1/scores", params={"format": "csv"}).text.splitlines()[0].split(",")


def test_real_data_is_not_simulated(real_client: TestClient) -> None:
    scores = real_client.get("/api/v1/scores").json()
    assert scores["simulated"] is False
    ((result),) = scores["results"]
    assert result["settlement"] == KASKELEN and result["simulated"] is False and result.keys() >= RESULT_KEYS
    one = real_client.get(f"/api/v1/settlements/{KASKELEN}/score").json()
    assert one["simulated"] is False and one["cityscore"] == result["cityscore"]
    assert real_client.get("/api/v1/ratings/district").json()["simulated"] is False


def test_a_mixed_warehouse_marks_each_result(mixed_client: TestClient) -> None:
    other = other_district()
    scores = mixed_client.get("/api/v1/scores").json()
    assert scores["simulated"] is True  # the run: one of its results is simulated
    flags = {r["settlement"]: r["simulated"] for r in scores["results"]}
    assert flags == {KASKELEN: False, other: True}
    assert mixed_client.get(f"/api/v1/settlements/{KASKELEN}/score").json()["simulated"] is False
    assert mixed_client.get(f"/api/v1/settlements/{other}/score").json()["simulated"] is True


def test_the_settlement_csv_says_simulated_too(client: TestClient) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/settlements/750000000/score?format=csv").text)))
    assert rows and {r["simulated"] for r in rows} == {"True"}  # as every boolean of the CSV exports
