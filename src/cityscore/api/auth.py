"""Who is asking: the account behind a write request, from ``Authorization: Bearer <token>`` (or the dashboard's
signed session), and the checks of role and scope.

Reads are public and need nothing. A write without credentials is 401 (with ``WWW-Authenticate: Bearer``); a
token that is unknown, revoked or expired, or whose user is disabled, is 401 too; an account outside the role or
the scope of what it asks for is 403 (:mod:`cityscore.accounts`, decisions.md D-81).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..accounts import Account, authenticate_token
from ..errors import AuthenticationError, PermissionDeniedError
from ..store import connect
from ..store.changes import ConnectionReader

READ_WAIT_SECONDS = 2.0
SESSION_LOGIN = "login"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Use `Authorization: Bearer <token>` (a token from `cityscore tokens issue`).")
    return token.strip()


def account_of(request: Request, *, csrf_checked: bool = False) -> Account | None:
    """The account of the request, None when it carries no credentials; raises when they are not valid. A write
    authenticated by the dashboard's session cookie (not a token) must also carry the session's CSRF token in
    ``X-CSRF-Token`` unless the caller checked the form's (``csrf_checked``): a cookie alone never writes."""
    token = _bearer(request)
    if token is None:
        session = request.scope.get("session")
        if not isinstance(session, dict) or not session.get(SESSION_LOGIN) or not session.get("token"):
            return None
        token = str(session["token"])
        if request.method not in ("GET", "HEAD") and not csrf_checked:
            expected, sent = session.get("csrf"), request.headers.get("x-csrf-token")
            if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
                raise PermissionDeniedError("A write with the dashboard's session needs its CSRF token "
                                            "(X-CSRF-Token), or use `Authorization: Bearer <token>`.")
    clock: Callable[[], datetime] = getattr(request.app.state, "utc_clock", utc_now)
    db = request.app.state.repo.db
    started = time.monotonic()
    with closing(connect(db, read_only=True, wait=READ_WAIT_SECONDS)) as con:
        account = authenticate_token(ConnectionReader(con), token, now=clock())
    if account is None:
        raise AuthenticationError("The token is unknown, revoked or expired, or its user is disabled.")
    request.state.auth_ms = (time.monotonic() - started) * 1000
    return account


BEARER = HTTPBearer(auto_error=False, scheme_name="token",
                    description="A token from `cityscore tokens issue LOGIN` (shown once)")


def require_account(request: Request,
                    _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None) -> Account:
    """The account of a write (the OpenAPI schema shows the bearer scheme, and /docs its Authorize button)."""
    account = account_of(request)
    if account is None:
        raise AuthenticationError("This endpoint needs an account: authenticate with `Authorization: Bearer "
                                  "<token>`.")
    return account


def require_ministry(account: Annotated[Account, Depends(require_account)]) -> Account:
    if not account.is_ministry:
        raise PermissionDeniedError(f"Only the ministry may do this; {account.login} is a city account.")
    return account


AccountDep = Annotated[Account, Depends(require_account)]
MinistryDep = Annotated[Account, Depends(require_ministry)]
