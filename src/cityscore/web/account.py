"""The dashboard's pages for accounts: sign in, sign out, and the upload page of a city editor (decisions.md D-84).

- ``/signin`` — login and password (Argon2id, :mod:`cityscore.accounts`). A success issues a session token (8 hours,
  a token like any other, revoked at sign-out) kept in the signed session cookie (HttpOnly, SameSite=Lax, Secure
  when the service runs in production or behind TLS). Failed attempts are limited per client address and login:
  after ``MAX_FAILURES`` within ``FAILURE_WINDOW`` seconds the form answers 429 until the window passes. Every
  attempt is in the audit log (never the password).
- ``/upload`` — a signed-in account chooses a file and sees the report of ``cityscore ingest``: accepted, rejected
  rows with row, column, code, message and fix, and a download of the rejected rows (CSV). It runs exactly what
  ``POST /api/v1/ingest`` runs, with the account's scope.
- Every form carries a CSRF token bound to the session; a POST without the right one is 403.
"""

from __future__ import annotations

import csv
import hmac
import io
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from .. import audit
from ..accounts import LOGIN, Account, authenticate_password, get_user, issue_token, revoke_token
from ..errors import AuthenticationError, PermissionDeniedError
from ..store import Warehouse
from .pages import render

router = APIRouter(include_in_schema=False)
SESSION_HOURS = 8
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0


class _Attempts:
    """Failed sign-ins per (client address, login) in a sliding window: a small in-process limiter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def blocked(self, key: tuple[str, str], now: float) -> bool:
        with self._lock:
            times = self._failures[key]
            while times and now - times[0] > FAILURE_WINDOW:
                times.popleft()
            return len(times) >= MAX_FAILURES

    def failed(self, key: tuple[str, str], now: float) -> None:
        with self._lock:
            self._failures[key].append(now)

    def clear(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


ATTEMPTS = _Attempts()


def _session(request: Request) -> dict[str, Any]:
    session: dict[str, Any] = request.session
    return session


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    session = _session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _check_csrf(request: Request, sent: str | None) -> None:
    expected = _session(request).get("csrf")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise PermissionDeniedError("The form has expired or did not come from this site: reload the page and send "
                                    "it again.")


def _db(request: Request) -> Any:
    return request.app.state.repo.db


def _signed_in(request: Request) -> Account | None:
    from ..api.auth import account_of

    try:
        return account_of(request, csrf_checked=True)  # every POST of these pages checks its form's token first
    except AuthenticationError:  # the session's token expired or was revoked: signed out
        _session(request).clear()
        return None


@router.get("/signin")
def signin_page(request: Request) -> Response:
    return render(request, "signin.html", {"page": "signin", "csrf": csrf_token(request), "error": None,
                                           "account": _signed_in(request)})


@router.post("/signin")
def signin(request: Request, login: Annotated[str, Form(max_length=64)],
           password: Annotated[str, Form(max_length=1024)], csrf: Annotated[str | None, Form()] = None) -> Response:
    _check_csrf(request, csrf)
    client = request.client.host if request.client else "?"
    key = (client, login.strip().lower())
    now = time.monotonic()
    blocked = ATTEMPTS.blocked(key, now)
    with Warehouse(_db(request)) as wh:
        # the log names an account only when the login is one: whatever else was typed (a password in the wrong
        # box) never enters it (D-84)
        known = get_user(wh, key[1]) is not None if LOGIN.fullmatch(key[1]) else False
        target = key[1] if known else "unknown"
        if blocked:
            audit.record(wh, who=target, action="signin.failed", object=f"user {target}",
                         summary={"client": client, "blocked": True})
            return render(request, "signin.html", {"page": "signin", "csrf": csrf_token(request),
                                                   "error": "blocked", "account": None}, status=429)
        account = authenticate_password(wh, key[1], password)
        if account is None:
            ATTEMPTS.failed(key, now)
            audit.record(wh, who=target, action="signin.failed", object=f"user {target}",
                         summary={"client": client})
            return render(request, "signin.html", {"page": "signin", "csrf": csrf_token(request),
                                                   "error": "wrong", "account": None}, status=401)
        ATTEMPTS.clear(key)
        from ..api.auth import utc_now

        issued = issue_token(wh, account.login, expires=utc_now() + timedelta(hours=SESSION_HOURS),
                             actor=account.login)
        audit.record(wh, who=account.login, action="signin", object=f"user {account.login}",
                     summary={"client": client, "token_id": issued.token_id})
    session = _session(request)
    session.clear()
    session.update({"login": account.login, "token": issued.token, "token_id": issued.token_id,
                    "csrf": secrets.token_urlsafe(32)})
    return RedirectResponse("/upload", status_code=303)


@router.post("/signout")
def signout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    _check_csrf(request, csrf)
    session = _session(request)
    token_id, login = session.get("token_id"), session.get("login")
    if isinstance(token_id, int) and isinstance(login, str):
        with Warehouse(_db(request)) as wh:
            revoke_token(wh, token_id=token_id, actor=login)
    session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/upload")
def upload_page(request: Request) -> Response:
    account = _signed_in(request)
    if account is None:
        return RedirectResponse("/signin", status_code=303)
    return render(request, "upload.html", {"page": "upload", "csrf": csrf_token(request), "account": account,
                                           "report": None, "error": None})


@router.post("/upload")
def upload(request: Request, file: Annotated[UploadFile | None, File()] = None, table: Annotated[str, Form()] = "",
           csrf: Annotated[str | None, Form()] = None) -> Response:
    _check_csrf(request, csrf)
    account = _signed_in(request)
    if account is None:
        return RedirectResponse("/signin", status_code=303)
    if file is None or not file.filename:
        return render(request, "upload.html", {"page": "upload", "csrf": csrf_token(request), "account": account,
                                               "report": None, "error": "no_file"}, status=400)
    from ..api.writes import load_file

    kind = {"observations": "observations", "additional_initiatives": "additional-initiatives"}.get(table, "ingest")
    _, report = load_file(request, account, file, endpoint=kind, table=table or None, source="native",
                          settlement=None, key=None)
    return render(request, "upload.html", {"page": "upload", "csrf": csrf_token(request), "account": account,
                                           "report": report, "error": None})


@router.get("/upload/{batch_id}/rejected.csv")
def rejected_rows(request: Request, batch_id: int) -> Response:
    """The quarantined (masked) rows of a batch the account sent (the ministry: any), as CSV."""
    account = _signed_in(request)
    if account is None:
        return RedirectResponse("/signin", status_code=303)
    with Warehouse(_db(request), read_only=True) as wh:
        sender = wh.rows("SELECT uploaded_by FROM batches WHERE batch_id = ?", [batch_id])
        if not sender or (not account.is_ministry and sender[0][0] != account.login):
            raise PermissionDeniedError(f"Batch {batch_id} was not sent by {account.login}.")
        rows = wh.rows("SELECT row_number, column_name, code, message, fix, raw FROM quarantine WHERE batch_id = ? "
                       "ORDER BY row_number, column_name NULLS FIRST", [batch_id])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "code", "message", "fix", "row_as_sent"])
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="rejected-{batch_id}.csv"'})
