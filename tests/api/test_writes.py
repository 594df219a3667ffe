"""The write API: every write endpoint × role × scope gives the right status and stores exactly what it should."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityscore.accounts import add_user, disable_user, issue_token, revoke_token
from cityscore.api.app import create_app
from cityscore.cli import app as cli_app
from cityscore.store import Warehouse

ASTANA, ALMATY = "710000000", "750000000"
CALLS = ("call_id,settlement,received_at,answered,answer_seconds\n"
         "c1,{a},2026-03-02 10:00,true,20\nc2,{a},2026-03-02 10:05,true,50\nc3,{b},2026-03-02 10:06,false,\n")
OBSERVATIONS = ("settlement,kpi,period_start,period_end,value\n"
                "{a},1.3,2026-01-01,2026-12-31,6\n{b},1.3,2026-01-01,2026-12-31,4\n")
EVIDENCE = ("settlement,name,sphere,in_roadmap,report_signed,indicator_count,started,completed\n"
            "{a},Цифровой паспорт двора,ЖКХ,да,да,3,2026-02-01,2026-10-15\n")


@dataclass
class World:
    db: Path
    client: TestClient
    tokens: dict[str, str]
    home: Path

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        token = self.tokens.get(who)
        return {**({"Authorization": f"Bearer {token}"} if token else {}), **extra}

    def count(self, table: str) -> int:
        with Warehouse(self.db) as wh:
            return int(wh.scalar(f"SELECT count(*) FROM {table}") or 0)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    home = tmp_path / "home"
    monkeypatch.setenv("CITYSCORE_HOME", str(home))
    db = tmp_path / "wh.duckdb"
    tokens: dict[str, str] = {}
    with Warehouse(db) as wh:
        add_user(wh, "ministry1", role="ministry", actor="test")
        add_user(wh, "astana", role="city", settlements=[ASTANA], actor="test")
        add_user(wh, "gone", role="city", settlements=[ASTANA], actor="test")
        for login in ("ministry1", "astana", "gone"):
            tokens[login] = issue_token(wh, login, expires=None, actor="test").token
        tokens["revoked"] = issue_token(wh, "astana", expires=None, actor="test").token
        revoked_id = int(wh.scalar("SELECT max(token_id) FROM api_tokens"))
        revoke_token(wh, token_id=revoked_id, actor="test")
        tokens["expired"] = issue_token(wh, "astana", expires=datetime(2020, 1, 1), actor="test").token
        disable_user(wh, "gone", actor="test")
    with TestClient(create_app(db, warm=False)) as client:
        yield World(db, client, tokens, home)


def upload(world: World, who: str, endpoint: str, text: str, name: str = "calls.csv",
           **headers: str) -> tuple[int, dict[str, object]]:
    response = world.client.post(f"/api/v1/{endpoint}", headers=world.headers(who, **headers),
                                 files={"file": (name, text.encode(), "text/csv")})
    return response.status_code, response.json()


@pytest.mark.parametrize("who", [None, "revoked", "expired", "gone"])
@pytest.mark.parametrize("endpoint", ["ingest", "observations", "additional-initiatives"])
def test_no_valid_credentials_is_401_and_stores_nothing(world: World, who: str | None, endpoint: str) -> None:
    status, body = upload(world, who or "", endpoint, CALLS.format(a=ASTANA, b=ASTANA))
    assert status == 401 and body["ok"] is False and body["status"] == 401
    assert world.count("batches") == 0
    response = world.client.delete("/api/v1/batches/1", headers=world.headers(who or ""))
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    assert world.client.post("/api/v1/runs", json={"year": 2026}, headers=world.headers(who or "")).status_code == 401


def test_a_city_writes_its_own_rows_only(world: World) -> None:
    status, body = upload(world, "astana", "ingest", CALLS.format(a=ASTANA, b=ALMATY))
    assert status == 200 and (body["rows"], body["accepted"], body["rejected"]) == (3, 2, 1)
    assert [(e["row"], e["code"]) for e in body["errors"]] == [(4, "out-of-scope")]  # type: ignore[index]
    with Warehouse(world.db) as wh:
        assert wh.rows("SELECT DISTINCT settlement FROM raw_contact_center_calls") == [(ASTANA,)]
        assert wh.scalar("SELECT uploaded_by FROM batches") == "astana"
    status, body = upload(world, "astana", "ingest", CALLS.format(a=ALMATY, b=ALMATY), name="almaty.csv")
    assert status == 200 and body["accepted"] == 0 and {e["code"] for e in body["errors"]} == {  # type: ignore[union-attr]
        "out-of-scope"}
    assert world.count("raw_contact_center_calls") == 2  # none of Almaty's rows is stored
    response = world.client.post("/api/v1/ingest", headers=world.headers("astana"), data={"settlement": ALMATY},
                                 files={"file": ("x.csv", b"call_id,received_at,answered\nz,2026-03-02 10:00,true\n")})
    assert response.status_code == 403


def test_value_files_are_scoped_too(world: World) -> None:
    status, body = upload(world, "astana", "observations", OBSERVATIONS.format(a=ASTANA, b=ALMATY), "obs.csv")
    assert status == 200 and (body["accepted"], body["rejected"]) == (1, 1)
    assert world.count("observations") == 1
    status, body = upload(world, "astana", "additional-initiatives", EVIDENCE.format(a=ASTANA), "extra.csv")
    assert status == 200 and body["accepted"] == 1 and world.count("additional_initiatives") == 1
    status, body = upload(world, "ministry1", "observations", OBSERVATIONS.format(a=ASTANA, b=ALMATY), "obs2.csv")
    assert status == 200 and body["accepted"] == 1 and body["rejected"] == 1  # Astana's 1.3 is already stored


def test_the_ministry_writes_for_any_settlement(world: World) -> None:
    status, body = upload(world, "ministry1", "ingest", CALLS.format(a=ASTANA, b=ALMATY))
    assert status == 200 and body["accepted"] == 3 and world.count("raw_contact_center_calls") == 3


def test_batches_are_deleted_by_their_sender_or_the_ministry(world: World) -> None:
    _, mine = upload(world, "astana", "ingest", CALLS.format(a=ASTANA, b=ASTANA))
    _, theirs = upload(world, "ministry1", "ingest", CALLS.format(a=ALMATY, b=ALMATY).replace(",c", ",m").replace(
        "\nc", "\nm"), name="m.csv")
    assert world.client.delete(f"/api/v1/batches/{theirs['batch']}", headers=world.headers("astana")).status_code \
        == 403
    assert world.client.delete("/api/v1/batches/999", headers=world.headers("astana")).status_code == 404
    response = world.client.delete(f"/api/v1/batches/{mine['batch']}", headers=world.headers("astana"))
    assert response.status_code == 200 and world.count("raw_contact_center_calls") == 3
    assert world.client.delete(f"/api/v1/batches/{theirs['batch']}", headers=world.headers("ministry1")) \
        .status_code == 200
    assert world.count("raw_contact_center_calls") == 0 and world.count("batches") == 0


def test_only_the_ministry_runs_a_year(world: World) -> None:
    upload(world, "ministry1", "ingest", CALLS.format(a=ASTANA, b=ALMATY))
    assert world.client.post("/api/v1/runs", json={"year": 2026}, headers=world.headers("astana")).status_code == 403
    response = world.client.post("/api/v1/runs", json={"year": 2026, "grain_day": False},
                                 headers=world.headers("ministry1"))
    assert response.status_code == 201, response.text
    run_id = response.json()["run_id"]
    assert world.client.get("/api/v1/scores").json()["run_id"] == run_id  # published
    assert world.client.post("/api/v1/runs", json={"year": 1990}, headers=world.headers("ministry1")).status_code \
        == 422


def test_the_report_is_the_cli_report_and_a_retry_stores_nothing(world: World, tmp_path: Path) -> None:
    text = CALLS.format(a=ASTANA, b="Нигде")
    status, api = upload(world, "astana", "ingest", text, **{"Idempotency-Key": "k-1"})
    path = tmp_path / "calls.csv"
    path.write_text(text, "utf-8")
    result = CliRunner().invoke(cli_app, ["ingest", str(path), "--db", str(tmp_path / "cli.duckdb"), "--format",
                                          "json"], env={"CITYSCORE_HOME": str(world.home)})
    cli = json.loads(result.output)
    assert status == 200
    for key in ("table", "rows", "accepted", "rejected", "duplicate_batch", "errors", "errors_total", "encoding",
                "notes", "replaced", "simulated"):
        assert api[key] == cli[key], key
    assert api["batch"] == api["batch_id"]
    batches = world.count("batches")
    again = world.client.post("/api/v1/ingest", headers=world.headers("astana", **{"Idempotency-Key": "k-1"}),
                              files={"file": ("calls.csv", text.encode(), "text/csv")})
    assert again.status_code == 200 and again.json() == api and again.headers["Idempotent-Replayed"] == "true"
    assert world.count("batches") == batches
    other = world.client.post("/api/v1/ingest", headers=world.headers("astana", **{"Idempotency-Key": "k-1"}),
                              files={"file": ("other.csv", b"call_id,settlement,received_at\n", "text/csv")})
    assert other.status_code == 409


def test_every_write_is_audited_with_the_account(world: World) -> None:
    _, body = upload(world, "astana", "ingest", CALLS.format(a=ASTANA, b=ASTANA))
    world.client.delete(f"/api/v1/batches/{body['batch']}", headers=world.headers("astana"))
    assert world.client.get("/api/v1/audit", headers=world.headers("astana")).status_code == 403
    assert world.client.get("/api/v1/audit").status_code == 401
    log = world.client.get("/api/v1/audit", headers=world.headers("ministry1")).json()
    mine = [(e["who"], e["action"]) for e in log["entries"] if e["who"] == "astana"]
    assert mine == [("astana", "ingest"), ("astana", "batch.delete")]
    assert log["verified"]["ok"] is True


def test_the_same_file_from_two_accounts_loads_each_ones_rows(world: World) -> None:
    with Warehouse(world.db) as wh:
        from cityscore.accounts import add_user as add

        add(wh, "almaty", role="city", settlements=[ALMATY], actor="test")
        world.tokens["almaty"] = issue_token(wh, "almaty", expires=None, actor="test").token
    text = CALLS.format(a=ASTANA, b=ALMATY)
    _, first = upload(world, "astana", "ingest", text)
    _, second = upload(world, "almaty", "ingest", text)
    assert (first["accepted"], second["accepted"], second["duplicate_batch"]) == (2, 1, False)
    with Warehouse(world.db) as wh:
        assert sorted(r[0] for r in wh.rows("SELECT settlement FROM raw_contact_center_calls")) == [
            ASTANA, ASTANA, ALMATY]
        assert sorted(r[0] for r in wh.rows("SELECT uploaded_by FROM batches")) == ["almaty", "astana"]
    _, again = upload(world, "almaty", "ingest", text)
    assert again["duplicate_batch"] is True  # but the same account sending it twice changes nothing


def test_reads_keep_answering_while_the_server_writes(world: World) -> None:
    import threading

    from cityscore.store.warehouse import connect

    answers: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            answers.append(world.client.get("/api/v1/settlements/710000000").status_code)

    with Warehouse(world.db) as wh, wh.transaction():  # a write of this process holds the warehouse
        wh.con.execute("CREATE TABLE IF NOT EXISTS probe (i INTEGER)")
        reader = threading.Thread(target=read)
        reader.start()
        con = connect(world.db, read_only=True, wait=1.0)  # a read joins the open instance
        assert con.execute("SELECT count(*) FROM batches").fetchone() == (0,)
        con.close()
        done.wait(0.5)
        done.set()
        reader.join()
    assert answers and set(answers) == {200}


def test_a_session_cookie_alone_does_not_write(world: World) -> None:
    from cityscore.web import account as pages

    with Warehouse(world.db) as wh:
        from cityscore.accounts import set_password

        set_password(wh, "astana", "correct horse battery", actor="test")
    page = world.client.get("/signin").text
    token = pages_csrf(page)
    assert world.client.post("/signin", data={"login": "astana", "password": "correct horse battery",
                                              "csrf": token}, follow_redirects=False).status_code == 303
    refused = world.client.post("/api/v1/ingest", files={"file": ("c.csv", CALLS.format(a=ASTANA, b=ASTANA).encode())})
    assert refused.status_code == 403 and world.count("raw_contact_center_calls") == 0
    assert pages.MAX_FAILURES > 0


def pages_csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_an_unreadable_upload_names_the_file_not_the_server_path(world: World) -> None:
    status, body = upload(world, "astana", "ingest", "", name="empty.csv")
    assert status == 400 and "empty.csv" in body["error"] and "cityscore-upload" not in body["error"]
    schema = world.client.get("/openapi.json").json()
    assert "token" in schema["components"]["securitySchemes"]  # /docs has its Authorize button
