"""Every number traceable: the lineage of a published KPI names its batches, and the CLI shows the same chain."""

from __future__ import annotations

import json

import duckdb
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityscore.cli import app

from ..conftest import Demo

ALMATY = "750000000"


def test_a_computed_kpi_names_its_source_files(client: TestClient, demo: Demo) -> None:
    response = client.get(f"/api/v1/settlements/{ALMATY}/kpis/1.8/lineage")
    assert response.status_code == 200
    data = response.json()
    assert data["source"] == "computed" and data["measure"]["table"] == "contact_center_calls"
    assert data["score"]["score"] is not None and data["annual"]["method"] == "pooled"
    assert len(data["monthly"]) == 12
    assert sum(m["numerator"] for m in data["monthly"]) == data["annual"]["numerator"]
    assert data["batches"], "the lineage names no batch"
    with duckdb.connect(str(demo.db), read_only=True) as con:
        files = {r[0]: (r[1], r[2]) for r in con.execute(
            "SELECT batch_id, file_name, content_sha256 FROM batches WHERE table_name = 'contact_center_calls'")
            .fetchall()}
        rows = con.execute("SELECT count(*) FROM raw_contact_center_calls WHERE settlement = ?", [ALMATY]).fetchone()
    for batch in data["batches"]:
        assert (batch["file_name"], batch["sha256"]) == files[batch["batch_id"]]
        assert batch["file_name"].endswith((".csv", ".parquet", ".xlsx", ".json", ".ndjson"))
    assert sum(b["rows_used"] for b in data["batches"]) == sum(m["rows_used"] for m in data["monthly"])
    assert rows is not None and sum(b["rows_used"] for b in data["batches"]) <= rows[0]
    assert data["standard_version"] == "469/НК-2025" and data["run"]["run_id"]


def test_a_sent_kpi_names_the_rows_of_its_file(client: TestClient) -> None:
    data = client.get(f"/api/v1/settlements/{ALMATY}/kpis/6.1/lineage").json()
    assert data["source"] == "sent" and data["batches"]
    assert all(m["batch_id"] in {b["batch_id"] for b in data["batches"]} for m in data["monthly"])


def test_lineage_errors_are_clean(client: TestClient) -> None:
    assert client.get(f"/api/v1/settlements/{ALMATY}/kpis/99.1/lineage").status_code == 404
    assert client.get("/api/v1/settlements/000000000/kpis/1.8/lineage").status_code == 404
    assert client.get(f"/api/v1/settlements/{ALMATY}/kpis/1.8/lineage?year=1990").status_code == 422
    csv = client.get(f"/api/v1/settlements/{ALMATY}/kpis/1.8/lineage?format=csv")
    assert csv.status_code == 200 and "file_name" in csv.text.splitlines()[0]


def test_explain_shows_the_same_chain(client: TestClient, demo: Demo) -> None:
    api = client.get(f"/api/v1/settlements/{ALMATY}/kpis/1.8/lineage").json()
    result = CliRunner().invoke(app, ["explain", ALMATY, "1.8", "--db", str(demo.db), "--format", "json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    assert cli["batches"] == api["batches"] and cli["monthly"] == api["monthly"] and cli["score"] == api["score"]
    table = CliRunner().invoke(app, ["explain", "Алматы", "1.8", "--db", str(demo.db)], env={"COLUMNS": "160"})
    assert table.exit_code == 0, table.output
    assert api["batches"][0]["file_name"] in table.output and "469/НК-2025" in table.output
    missing = CliRunner().invoke(app, ["explain", ALMATY, "1.8", "--db", str(demo.root / "none.duckdb")])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_explain_keeps_numbers_and_hashes_whole(client: TestClient, demo: Demo) -> None:
    api = client.get(f"/api/v1/settlements/{ALMATY}/kpis/4.5/lineage").json()  # weighted by validations
    narrow = CliRunner().invoke(app, ["explain", ALMATY, "4.5", "--db", str(demo.db)], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    first = api["monthly"][0]
    whole = f"{int(first['denominator']):,}".replace(",", "\u00a0")
    assert whole in narrow.output  # a number is never broken over two lines
    assert "".join(narrow.output.split()).count(api["batches"][0]["sha256"]) >= 1  # the hash is shown whole
    assert first["rows_used"] < first["denominator"]  # rows, not the validations they count
    unknown = CliRunner().invoke(app, ["explain", ALMATY, "99.9", "--db", str(demo.db)])
    assert unknown.exit_code == 1 and "cityscore standard kpis" in unknown.output
