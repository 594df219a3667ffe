"""``cityscore users …`` and ``cityscore tokens …``: JSON shapes, clean errors (no traceback), the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityscore import audit
from cityscore.accounts import authenticate_token
from cityscore.cli import app
from cityscore.store import Warehouse

from ..conftest import Cli

ASTANA = "710000000"
NOW = datetime(2026, 6, 1)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "wh.duckdb")


def test_users_and_tokens(cli: Cli, db: str) -> None:
    added = json.loads(cli("users", "add", "astana.akimat", "--role", "city", "--settlement", "Астана",
                           "--format", "json", "--db", db)[1])
    assert added["login"] == "astana.akimat" and added["settlements"] == [ASTANA] and added["password"] is False
    cli("users", "add", "ministry.one", "--role", "ministry", "--db", db)
    issued = json.loads(cli("tokens", "issue", "astana.akimat", "--expires", "2027-01-31", "--format", "json",
                            "--db", db)[1])
    assert list(issued) == ["login", "token", "expires"]
    assert issued["login"] == "astana.akimat" and issued["token"].startswith("csk_")
    assert issued["expires"] == "2027-01-31T19:00:00Z"  # the end of the day in Kazakhstan (UTC+5)
    never = json.loads(cli("tokens", "issue", "ministry.one", "--expires", "never", "--format", "json",
                           "--db", db)[1])
    assert never["expires"] is None
    plain = cli("tokens", "issue", "ministry.one", "--db", db)[1]
    assert any(line.startswith("csk_3_") for line in plain.splitlines())  # the token on its own line
    listed = json.loads(cli("users", "list", "--format", "json", "--db", db)[1])
    assert [(u["login"], u["role"], u["tokens"]) for u in listed] == [("astana.akimat", "city", 1),
                                                                    ("ministry.one", "ministry", 2)]
    tokens = json.loads(cli("tokens", "list", "--format", "json", "--db", db)[1])
    assert [t["token_id"] for t in tokens] == [1, 2, 3] and "token" not in tokens[0]
    with Warehouse(db) as wh:
        assert authenticate_token(wh, issued["token"], now=NOW) is not None
    revoked = json.loads(cli("tokens", "revoke", "--id", "1", "--format", "json", "--db", db)[1])
    assert revoked == {"revoked": 1, "token_id": 1, "login": None}
    assert json.loads(cli("tokens", "revoke", "--login", "ministry.one", "--format", "json", "--db", db)[1])[
        "revoked"] == 2
    disabled = json.loads(cli("users", "disable", "astana.akimat", "--format", "json", "--db", db)[1])
    assert disabled["disabled"] is True
    with Warehouse(db) as wh:
        assert authenticate_token(wh, issued["token"], now=NOW) is None
        log = audit.entries(wh)
    who = audit.cli_actor()
    assert [(e["who"], e["action"]) for e in log] == [
        (who, "user.add"), (who, "user.add"), (who, "token.issue"), (who, "token.issue"), (who, "token.issue"),
        (who, "token.revoke"), (who, "token.revoke"), (who, "user.disable")]
    assert issued["token"] not in json.dumps(log)


def test_a_password_from_stdin(home: Path, db: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["users", "add", "astana", "--role", "city", "-s", ASTANA, "--password-stdin",
                                 "--db", db], input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    with Warehouse(db) as wh:
        stored = str(wh.scalar("SELECT password_hash FROM accounts"))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    short = runner.invoke(app, ["users", "password", "astana", "--db", db], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output


@pytest.mark.parametrize(("args", "code", "message"), [
    (["users", "add", "Astana", "--role", "city", "-s", ASTANA], 1, "is not valid"),
    (["users", "add", "astana", "--role", "mayor", "-s", ASTANA], 2, "'mayor' is not one of"),
    (["users", "add", "astana", "--role", "city"], 1, "at least one settlement"),
    (["users", "add", "astana", "--role", "city", "-s", "Атлантида"], 1, "No settlement 'Атлантида'"),
    (["users", "add", "moi", "--role", "ministry", "-s", ASTANA], 1, "give it no --settlement"),
    (["users", "disable", "nobody"], 1, "No account 'nobody'"),
    (["tokens", "issue", "nobody"], 1, "No account 'nobody'"),
    (["tokens", "issue", "nobody", "--expires", "soon"], 2, "write 30d"),
    (["tokens", "issue", "nobody", "--expires", "2001-01-01"], 2, "in the past"),
    (["tokens", "revoke"], 2, "either --id N or --login"),
    (["tokens", "revoke", "--id", "1", "--login", "x"], 2, "either --id N or --login"),
    (["tokens", "revoke", "--id", "7"], 1, "No token 7"),
])
def test_clean_errors(cli: Cli, db: str, args: list[str], code: int, message: str) -> None:
    got, out = cli(*args, "--db", db, ok=False)
    assert got == code and message in " ".join(out.split()) and "Traceback" not in out
