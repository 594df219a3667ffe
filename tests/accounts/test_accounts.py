"""Accounts and tokens: validation, Argon2 hashes (never the password), tokens stored as hashes that work until
revoked, expired or their user is disabled, and every change in the audit log with who did it (D-74 … D-76)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityscore import audit
from cityscore.accounts import (
    Account,
    add_user,
    authenticate_password,
    authenticate_token,
    disable_user,
    get_user,
    issue_token,
    list_tokens,
    list_users,
    revoke_token,
    set_password,
)
from cityscore.errors import AccountError, ConflictError, NotFoundError
from cityscore.store import Warehouse

ASTANA, ALMATY = "710000000", "750000000"
PASSWORD = "correct horse battery"
NOW = datetime(2026, 6, 1, 12, 0)


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse(tmp_path / "wh.duckdb") as warehouse:
        yield warehouse


def test_add_and_list(wh: Warehouse) -> None:
    ministry = add_user(wh, "ministry.one", role="ministry", actor="cli:root")
    city = add_user(wh, "astana.akimat", role="city", settlements=["Астана", ALMATY, ASTANA], actor="ministry.one")
    assert city == Account("astana.akimat", "city", frozenset({ASTANA, ALMATY}), False)  # names stored as KATO
    assert ministry.is_ministry and ministry.can_write(ASTANA) and ministry.can_write("111111111")
    assert city.can_write(ASTANA) and not city.can_write("111111111") and not city.is_ministry
    assert [a.login for a in list_users(wh)] == ["astana.akimat", "ministry.one"]
    assert list_users(wh)[0].created_by == "ministry.one" and not list_users(wh)[0].has_password
    assert get_user(wh, "nobody") is None


@pytest.mark.parametrize(("login", "role", "settlements", "message"), [
    ("AB", "city", [ASTANA], "not valid"),
    ("Astana", "city", [ASTANA], "not valid"),
    ("astana akimat", "city", [ASTANA], "not valid"),
    ("x" * 65, "ministry", [], "not valid"),
    ("87011234567", "ministry", [], "phone number or an ИИН"),
    ("astana", "mayor", [ASTANA], "Role 'mayor' is not valid"),
    ("astana", "city", [], "at least one settlement"),
    ("astana", "ministry", [ASTANA], "give it no --settlement"),
    ("astana", "city", ["Атлантида"], "No settlement 'Атлантида'"),
])
def test_validation(wh: Warehouse, login: str, role: str, settlements: list[str], message: str) -> None:
    with pytest.raises(AccountError, match=message):
        add_user(wh, login, role=role, settlements=settlements, actor="t")
    assert wh.count("accounts") == 0 and wh.count("audit_log") == 0


def test_a_login_is_added_once(wh: Warehouse) -> None:
    add_user(wh, "astana", role="city", settlements=[ASTANA], actor="t")
    with pytest.raises(ConflictError, match="exists already"):
        add_user(wh, "astana", role="ministry", actor="t")
    with pytest.raises(NotFoundError):
        disable_user(wh, "nobody", actor="t")


def test_passwords_are_argon2_hashes(wh: Warehouse) -> None:
    add_user(wh, "astana", role="city", settlements=[ASTANA], password=PASSWORD, actor="t")
    stored = str(wh.scalar("SELECT password_hash FROM accounts WHERE login = 'astana'"))
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and PASSWORD not in stored
    everything = " ".join(str(v) for table in ("accounts", "audit_log") for r in wh.rows(f"SELECT * FROM {table}")
                          for v in r)
    assert PASSWORD not in everything
    assert authenticate_password(wh, "astana", PASSWORD) == get_user(wh, "astana")
    assert authenticate_password(wh, "Astana ", PASSWORD) is not None  # typed with a capital and a space
    assert authenticate_password(wh, "astana", PASSWORD + "!") is None
    assert authenticate_password(wh, "nobody", PASSWORD) is None
    with pytest.raises(AccountError, match="at least 10"):
        set_password(wh, "astana", "short", actor="t")
    set_password(wh, "astana", "another long one", actor="t")
    assert authenticate_password(wh, "astana", PASSWORD) is None
    assert authenticate_password(wh, "astana", "another long one") is not None
    disable_user(wh, "astana", actor="t")
    assert authenticate_password(wh, "astana", "another long one") is None


def test_an_account_without_a_password_cannot_sign_in_with_one(wh: Warehouse) -> None:
    add_user(wh, "robot", role="ministry", actor="t")
    assert authenticate_password(wh, "robot", "") is None and authenticate_password(wh, "robot", PASSWORD) is None


def test_a_token_works_until_revoked(wh: Warehouse) -> None:
    add_user(wh, "astana", role="city", settlements=[ASTANA], actor="t")
    issued = issue_token(wh, "astana", expires=None, actor="t")
    assert issued.token.startswith(f"csk_{issued.token_id}_") and len(issued.token) > 40
    assert issued.token not in repr(issued)
    stored = wh.rows("SELECT token_sha256 FROM api_tokens")
    assert stored == [(hashlib.sha256(issued.token.encode()).hexdigest(),)]
    assert authenticate_token(wh, issued.token, now=NOW) == get_user(wh, "astana")
    for bad in ("", "csk_", issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B"), issued.token + "x",
                f"csk_{issued.token_id + 1}_{issued.token.split('_', 2)[2]}", "Bearer " + issued.token):
        assert authenticate_token(wh, bad, now=NOW) is None, bad
    assert revoke_token(wh, token_id=issued.token_id, actor="t") == 1
    assert authenticate_token(wh, issued.token, now=NOW) is None
    assert revoke_token(wh, token_id=issued.token_id, actor="t") == 0  # revoked already
    with pytest.raises(NotFoundError):
        revoke_token(wh, token_id=99, actor="t")
    with pytest.raises(AccountError):
        revoke_token(wh, actor="t")


def test_a_token_expires(wh: Warehouse) -> None:
    add_user(wh, "astana", role="city", settlements=[ASTANA], actor="t")
    issued = issue_token(wh, "astana", expires=datetime(2026, 6, 1, 18, 0, tzinfo=UTC), actor="t")
    assert issued.expires == datetime(2026, 6, 1, 18, 0)  # naive UTC
    assert authenticate_token(wh, issued.token, now=NOW) is not None
    assert authenticate_token(wh, issued.token, now=datetime(2026, 6, 1, 18, 0)) is None
    assert authenticate_token(wh, issued.token, now=NOW + timedelta(days=1)) is None
    assert list_tokens(wh)[0].status(NOW + timedelta(days=1)) == "expired"


def test_a_disabled_user_s_tokens_stop_working(wh: Warehouse) -> None:
    add_user(wh, "astana", role="city", settlements=[ASTANA], actor="t")
    issued = issue_token(wh, "astana", expires=None, actor="t")
    other = issue_token(wh, "astana", expires=None, actor="t")
    disabled = disable_user(wh, "astana", actor="t")
    assert disabled.disabled and not disabled.can_write(ASTANA)
    assert authenticate_token(wh, issued.token, now=NOW) is None
    with pytest.raises(AccountError, match="disabled"):
        issue_token(wh, "astana", expires=None, actor="t")
    assert revoke_token(wh, login="astana", actor="t") == 2
    assert {t.token_id for t in list_tokens(wh, login="astana")} == {issued.token_id, other.token_id}


def test_last_use_is_kept_only_by_a_writable_warehouse(wh: Warehouse, tmp_path: Path) -> None:
    add_user(wh, "astana", role="city", settlements=[ASTANA], actor="t")
    issued = issue_token(wh, "astana", expires=None, actor="t")
    assert authenticate_token(wh, issued.token, now=NOW) is not None
    assert list_tokens(wh)[0].last_used_at == NOW
    wh.close()
    with Warehouse(tmp_path / "wh.duckdb", read_only=True) as reader:
        later = NOW + timedelta(hours=1)
        assert authenticate_token(reader, issued.token, now=later) is not None
        assert list_tokens(reader)[0].last_used_at == NOW  # a reader never writes


def test_every_change_is_audited(wh: Warehouse) -> None:
    add_user(wh, "ministry.one", role="ministry", password=PASSWORD, actor="cli:root")
    add_user(wh, "astana", role="city", settlements=[ASTANA], actor="ministry.one")
    issued = issue_token(wh, "astana", expires=None, actor="ministry.one")
    revoke_token(wh, token_id=issued.token_id, actor="ministry.one")
    set_password(wh, "astana", PASSWORD, actor="cli:root")
    disable_user(wh, "astana", actor="cli:root")
    log = audit.entries(wh)
    assert [(e["who"], e["action"], e["object"]) for e in log] == [
        ("cli:root", "user.add", "user ministry.one"), ("ministry.one", "user.add", "user astana"),
        ("ministry.one", "token.issue", f"token {issued.token_id}"),
        ("ministry.one", "token.revoke", f"token {issued.token_id}"), ("cli:root", "user.password", "user astana"),
        ("cli:root", "user.disable", "user astana")]
    assert log[1]["summary"] == {"login": "astana", "role": "city", "settlements": [ASTANA], "password": False}
    text = str(log)
    assert issued.token not in text and hashlib.sha256(issued.token.encode()).hexdigest() not in text
    assert PASSWORD not in text and "$argon2" not in text
    assert audit.verify(wh).ok
