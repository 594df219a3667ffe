"""API tokens: issued, shown once, stored only as their SHA-256, revoked (decisions.md D-75).

A token is ``csk_<token id>_<secret>``: the prefix says what it is (and lets secret scanners find a leaked one), the
id finds its row without comparing secrets in SQL, and the secret is 32 random bytes (``secrets.token_urlsafe``,
256 bits). The warehouse keeps only ``sha256(token)``; authentication compares that hash with the presented token's
in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Any

from .. import audit
from ..audit.chain import utc_naive
from ..errors import AccountError, NotFoundError
from ..store.changes import Reader
from ..store.warehouse import Warehouse, utcnow
from .models import Account, IssuedToken, TokenInfo
from .users import get_user

PREFIX = "csk_"
TOKEN = re.compile(r"csk_([1-9][0-9]{0,17})_([A-Za-z0-9_-]{43})")
SECRET_BYTES = 32
TOKEN_COLUMNS = "token_id, login, created_at, created_by, expires_at, revoked_at, last_used_at"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(wh: Warehouse, login: str, *, expires: datetime | None, actor: str) -> IssuedToken:
    """A new token for ``login`` (not disabled), valid until ``expires`` (naive UTC, or aware; None: never)."""
    until = utc_naive(expires) if expires is not None else None
    with wh.transaction():
        account = get_user(wh, login)
        if account is None:
            raise NotFoundError(f"No account '{login}'; `cityscore users list` shows them.")
        if account.disabled:
            raise AccountError(f"The account '{login}' is disabled; a token for it would not work.")
        token_id = int(wh.scalar("SELECT nextval('api_token_ids')"))
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
        wh.con.execute("INSERT INTO api_tokens (token_id, login, token_sha256, created_at, created_by, expires_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [token_id, login, token_sha256(token), utcnow(), actor, until])
        audit.record(wh, who=actor, action="token.issue", object=f"token {token_id}",
                     summary={"token_id": token_id, "login": login, "expires": until})
    return IssuedToken(token_id, login, token, until)


def revoke_token(wh: Warehouse, *, token_id: int | None = None, login: str | None = None, actor: str) -> int:
    """Revoke the token ``token_id``, or every token of ``login``; return how many were revoked (a token revoked
    before is not counted again)."""
    if (token_id is None) == (login is None):
        raise AccountError("Say which tokens to revoke: a token id, or a login (all of its tokens).")
    with wh.transaction():
        if token_id is not None:
            if not wh.scalar("SELECT count(*) FROM api_tokens WHERE token_id = ?", [token_id]):
                raise NotFoundError(f"No token {token_id}; `cityscore tokens list` shows them.")
            where, target = "token_id = ?", f"token {token_id}"
            params: list[Any] = [token_id]
        else:
            if get_user(wh, str(login)) is None:
                raise NotFoundError(f"No account '{login}'; `cityscore users list` shows them.")
            where, target, params = "login = ?", f"user {login}", [login]
        ids = [int(r[0]) for r in wh.rows(f"SELECT token_id FROM api_tokens WHERE {where} AND revoked_at IS NULL "
                                          "ORDER BY token_id", list(params))]
        if ids:
            marks = ", ".join("?" for _ in ids)
            wh.con.execute(f"UPDATE api_tokens SET revoked_at = ? WHERE token_id IN ({marks})", [utcnow(), *ids])
            audit.record(wh, who=actor, action="token.revoke", object=target,
                         summary={"token_ids": ids, "revoked": len(ids), **({"login": login} if login else {})})
    return len(ids)


def list_tokens(reader: Reader, *, login: str | None = None) -> list[TokenInfo]:
    """The stored tokens (never the tokens themselves), by id; of ``login`` only when given."""
    where, params = ("WHERE login = ?", [login]) if login is not None else ("", [])
    return [_info(r) for r in reader.rows(f"SELECT {TOKEN_COLUMNS} FROM api_tokens {where} ORDER BY token_id",
                                          params)]


def authenticate_token(reader: Reader, token: str, *, now: datetime) -> Account | None:
    """The account of ``token``; None for a malformed, unknown, revoked or expired token, or a disabled user.

    The token's row is found by its id and its hash compared in constant time. ``last_used_at`` is updated only
    when ``reader`` is a writable :class:`~cityscore.store.Warehouse` outside a transaction (a read-only connection
    never takes the write lock for it)."""
    match = TOKEN.fullmatch(token.strip()) if isinstance(token, str) else None
    if match is None:
        return None
    token_id, presented = int(match.group(1)), token_sha256(match.group(0))
    rows = reader.rows("SELECT token_sha256, expires_at, revoked_at, login FROM api_tokens WHERE token_id = ?",
                       [token_id])
    stored = str(rows[0][0]) if rows else "0" * 64
    if not hmac.compare_digest(stored.encode(), presented.encode()) or not rows:
        return None
    _, expires, revoked, login = rows[0]
    when = utc_naive(now)
    if revoked is not None or (expires is not None and expires <= when):
        return None
    account = get_user(reader, str(login))
    if account is None or account.disabled:
        return None
    _touch(reader, token_id, when)
    return account


def _touch(reader: Any, token_id: int, when: datetime) -> None:
    if getattr(reader, "read_only", True) or getattr(reader, "in_transaction", True):
        return
    try:
        reader.con.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?", [when, token_id])
    except Exception:  # another writer holds the row (DuckDB: a conflict): the time of last use is not worth a retry
        return


def _info(row: tuple[Any, ...]) -> TokenInfo:
    token_id, login, created_at, created_by, expires, revoked, last_used = row
    return TokenInfo(int(token_id), str(login), created_at, str(created_by), expires, revoked, last_used)
