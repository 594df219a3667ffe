"""``cityscore audit list / verify`` and the write paths of the command line that append to the log: ingest, batch
deletion, a scoring run, a catalog import — each with ``cli:<os user>``, none with personal data (D-71 … D-73)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from cityscore import audit
from cityscore.records.personal import personal_kind
from cityscore.store import Warehouse

from ..conftest import REPO, Cli, Edit

EXAMPLES = REPO / "docs" / "examples"
ASTANA = "710000000"
CALLS = ("call_id,settlement,received_at,answered,answer_seconds,caller_phone,channel\n"
         f"c1,{ASTANA},2026-03-02 10:00,true,20,+7 701 123 45 67,phone\n"
         f"c2,{ASTANA},2026-03-02 10:05,true,50,87011234568,+7 702 555 44 33\n"
         f"c3,{ASTANA},2026-03-02 10:06,false,,900101300265,web\n")


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "wh.duckdb")


def strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [*map(str, value), *(s for v in value.values() for s in strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [str(value)]


def test_the_write_paths_are_audited(cli: Cli, db: str, tmp_path: Path, edit: Edit) -> None:
    calls = tmp_path / "calls 87011234567.csv"  # a phone number even in the file's name
    calls.write_text(CALLS, "utf-8")
    report = json.loads(cli("ingest", str(calls), "--format", "json", "--db", db, ok=False)[1])
    observations = json.loads(cli("ingest", str(EXAMPLES / "observations.csv"), "--format", "json", "--db", db)[1])
    cli("ingest", str(calls), "--db", db, ok=False)  # the same file again: nothing changes, nothing is logged
    cli("batches", "--delete", str(report["batch_id"]), "--db", db)
    cli("score", "--year", "2026", "--db", db, "--format", "json")
    catalog = edit("standard.yaml", 'id: "469/НК-2025"', 'id: "469/НК-2025/изм-1"')
    cli("standard", "import", str(catalog), "--db", db)
    log = json.loads(cli("audit", "list", "--format", "json", "--db", db)[1])
    who = audit.cli_actor()
    assert [(e["who"], e["action"], e["object"]) for e in log] == [
        (who, "ingest", f"batch {report['batch_id']}"),
        (who, "observations.upload", f"batch {observations['batch_id']}"),
        (who, "batch.delete", f"batch {report['batch_id']}"),
        (who, "run.score", "run 1"),
        (who, "catalog.import", "catalog 469/НК-2025/изм-1")]
    ingest = log[0]["summary"]
    assert {k: ingest[k] for k in ("batch_id", "table", "rows", "accepted", "rejected", "source")} == {
        "batch_id": report["batch_id"], "table": "contact_center_calls", "rows": 3,
        "accepted": report["accepted"], "rejected": report["rejected"], "source": "native"}
    assert ingest["sha256"] == hashlib.sha256(calls.read_bytes()).hexdigest()
    assert report["rows"] == 3 and report["rejected"] >= 1  # e.g. a phone number as the channel
    assert log[3]["summary"] == {"run_id": 1, "year": 2026, "standard": "469/НК-2025", "policy": "official",
                                 "simulated": False, "settlements": log[3]["summary"]["settlements"]}
    assert log[4]["summary"]["files"] > 10 and len(log[4]["summary"]["sha256"]) == 64
    # personal data never enters the log: no phone number or ИИН in any text of any entry
    found = [(e["seq"], s) for e in log for s in strings({k: e[k] for k in ("who", "object", "summary")})
             if personal_kind(s)]
    assert found == []
    assert "[phone number]" in ingest["file"]
    code, out = cli("audit", "verify", "--db", db)
    assert code == 0 and "5 entries verified" in out


def test_a_catalog_import_without_a_warehouse_writes_none(cli: Cli, tmp_path: Path, edit: Edit) -> None:
    catalog = edit("standard.yaml", 'id: "469/НК-2025"', 'id: "469/НК-2025/изм-1"')
    cli("standard", "import", str(catalog), "--db", str(tmp_path / "none.duckdb"))
    assert not (tmp_path / "none.duckdb").exists()


def fill(cli: Cli, db: str) -> None:
    for login in ("astana.one", "astana.two", "astana.three", "astana.four", "astana.five"):
        cli("users", "add", login, "--role", "city", "-s", ASTANA, "--db", db)


def test_list_filters_and_formats(cli: Cli, db: str) -> None:
    fill(cli, db)
    cli("tokens", "issue", "astana.one", "--db", db)
    listed = json.loads(cli("audit", "list", "--limit", "2", "--format", "json", "--db", db)[1])
    assert [e["seq"] for e in listed] == [5, 6] and listed[-1]["action"] == "token.issue"
    assert json.loads(cli("audit", "list", "--who", "nobody", "--format", "json", "--db", db)[1]) == []
    assert json.loads(cli("audit", "list", "--since", "2100-01-01", "--format", "json", "--db", db)[1]) == []
    assert len(json.loads(cli("audit", "list", "--since", "2020-01-01", "--format", "json", "--db", db)[1])) == 6
    rows = list(csv.DictReader(io.StringIO(cli("audit", "list", "--format", "csv", "--db", db)[1])))
    assert list(rows[0]) == ["seq", "at", "who", "action", "object", "summary", "prev_hash", "hash"]
    assert json.loads(rows[0]["summary"])["login"] == "astana.one"
    table = cli("audit", "list", "--db", db)[1]
    assert "user.add" in table and "6 entries" in table
    code, out = cli("audit", "list", "--since", "yesterday", "--db", db, ok=False)
    assert code == 2 and "YYYY-MM-DD" in out


@pytest.mark.parametrize(("tamper", "message"), [
    ("""UPDATE audit_log SET summary = replace(summary, 'astana.three', 'astana.evil') WHERE seq = 3""",
     "entry 3 was altered"),
    ("DELETE FROM audit_log WHERE seq = 2", "entry 2 was deleted"),
    ("UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 4 ELSE 2 END WHERE seq IN (2, 4)", "entry 2 was reordered"),
    ("INSERT INTO audit_log SELECT 6, recorded_at, who, action, object, summary, hash, hash FROM audit_log "
     "WHERE seq = 5", "entry 6 was inserted"),
])
def test_verify_names_the_first_bad_entry(cli: Cli, db: str, tamper: str, message: str) -> None:
    fill(cli, db)
    assert cli("audit", "verify", "--db", db)[0] == 0
    with Warehouse(db) as wh:
        wh.con.execute(tamper)
    code, out = cli("audit", "verify", "--db", db, ok=False)
    assert code == 1 and message in out and "Traceback" not in out
    verdict = json.loads(cli("audit", "verify", "--format", "json", "--db", db, ok=False)[1])
    assert verdict["ok"] is False and verdict["message"] == message


def test_a_quarantine_purge_is_audited(cli: Cli, db: str, tmp_path: Path) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_text(CALLS, "utf-8")
    cli("ingest", str(calls), "--db", db, ok=False)
    purged = json.loads(cli("quarantine", "purge", "--older-than", "0d", "--format", "json", "--db", db)[1])
    log = json.loads(cli("audit", "list", "--format", "json", "--db", db)[1])
    assert [e["action"] for e in log] == ["ingest", "quarantine.purge"]
    assert log[1]["summary"]["purged"] == purged["purged"] > 0
