"""Sign in, upload and sign out on the dashboard: session cookie, CSRF, rate limit, the same report as the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityscore.accounts import add_user
from cityscore.api.app import create_app
from cityscore.store import Warehouse
from cityscore.web import account as pages

ASTANA, ALMATY = "710000000", "750000000"
PASSWORD = "correct horse battery"
CALLS = ("call_id,settlement,received_at,answered,answer_seconds\n"
         f"c1,{ASTANA},2026-03-02 10:00,true,20\nc2,{ALMATY},2026-03-02 10:05,true,50\n")


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("CITYSCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(pages, "ATTEMPTS", pages._Attempts())
    db = tmp_path / "wh.duckdb"
    with Warehouse(db) as wh:
        add_user(wh, "astana", role="city", settlements=[ASTANA], password=PASSWORD, actor="test")
    with TestClient(create_app(db, warm=False)) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def sign_in(client: TestClient, password: str = PASSWORD) -> int:
    token = csrf_of(client.get("/signin").text)
    return client.post("/signin", data={"login": "astana", "password": password, "csrf": token},
                       follow_redirects=False).status_code


def test_sign_in_upload_and_sign_out(client: TestClient) -> None:
    assert client.get("/upload", follow_redirects=False).status_code == 303  # signed out: to the sign-in page
    assert sign_in(client) == 303
    cookie = next(c for c in client.cookies.jar if c.name == "cityscore_session")
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()
    page = client.get("/upload")
    assert page.status_code == 200 and "astana" in page.text
    response = client.post("/upload", data={"csrf": csrf_of(page.text)},
                           files={"file": ("calls.csv", CALLS.encode(), "text/csv")})
    assert response.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())
    assert "accepted: 1" in text or "принято: 1" in text
    assert "out-of-scope" in response.text
    batch = re.search(r'/upload/(\d+)/rejected.csv', response.text)
    assert batch is not None
    rejected = client.get(f"/upload/{batch.group(1)}/rejected.csv")
    assert rejected.status_code == 200 and "out-of-scope" in rejected.text and ALMATY not in rejected.text.split(
        "\n")[0]
    with Warehouse(client.app.state.repo.db) as wh:  # type: ignore[attr-defined]
        assert wh.rows("SELECT settlement FROM raw_contact_center_calls") == [(ASTANA,)]
        actions = [r[0] for r in wh.rows("SELECT action FROM audit_log ORDER BY seq")]
    assert "signin" in actions and "ingest" in actions
    out = client.post("/signout", data={"csrf": csrf_of(client.get("/upload").text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/upload", follow_redirects=False).status_code == 303


def test_a_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/signin")
    response = client.post("/signin", data={"login": "astana", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 403
    assert sign_in(client) == 303
    refused = client.post("/upload", data={}, files={"file": ("calls.csv", CALLS.encode(), "text/csv")})
    assert refused.status_code == 403


def test_failed_sign_ins_are_limited_and_audited(client: TestClient) -> None:
    codes = [sign_in(client, "wrong password!") for _ in range(pages.MAX_FAILURES)]
    assert codes == [401] * pages.MAX_FAILURES
    assert sign_in(client) == 429  # even the right password, until the window passes
    with Warehouse(client.app.state.repo.db) as wh:  # type: ignore[attr-defined]
        rows = wh.rows("SELECT action, summary FROM audit_log WHERE action = 'signin.failed'")
    assert len(rows) == pages.MAX_FAILURES + 1 and all("wrong" not in str(r[1]) for r in rows)
    assert '"blocked":true' in rows[-1][1]  # the refused attempt too


def test_what_is_typed_as_a_login_never_enters_the_log(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    client.post("/signin", data={"login": "My Secret Pass 2027!", "password": "x" * 12, "csrf": token})
    with Warehouse(client.app.state.repo.db) as wh:  # type: ignore[attr-defined]
        rows = wh.rows("SELECT who, object, summary FROM audit_log WHERE action = 'signin.failed'")
    assert rows and all("secret" not in " ".join(map(str, r)).lower() for r in rows)
    assert rows[0][0] == "unknown"


def test_signed_in_the_header_names_the_account_and_a_missing_file_is_said(client: TestClient) -> None:
    assert sign_in(client) == 303
    page = client.get("/upload")
    assert re.search(r'<a href="/upload"[^>]*>astana</a>', page.text)
    empty = client.post("/upload", data={"csrf": csrf_of(page.text)})
    assert empty.status_code == 400 and ("Выберите файл" in empty.text or "Choose a file" in empty.text)
