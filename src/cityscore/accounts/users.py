"""Users: add, disable, list, set a password, sign in with one (decisions.md D-74, D-76). Every change is in the
audit log, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from .. import audit
from ..errors import AccountError, ConflictError, NotFoundError
from ..records.personal import personal_kind
from ..settlements import load_registry
from ..store.changes import Reader
from ..store.warehouse import Warehouse, utcnow
from .models import LOGIN, LOGIN_TEXT, ROLES, Account, Role
from .passwords import hash_password, verify_password

ACCOUNT_COLUMNS = "login, role, disabled, created_at, created_by, password_hash IS NOT NULL, disabled_at"


def check_login(login: str) -> str:
    """``login`` when it is a valid login, else an :class:`AccountError` that says what a login may be."""
    if not isinstance(login, str) or not LOGIN.fullmatch(login):
        raise AccountError(f"Login {login!r} is not valid: use {LOGIN_TEXT} (e.g. astana.akimat).")
    if personal_kind(login) is not None:
        raise AccountError(f"Login {login!r} holds a phone number or an ИИН; personal data may not be a login "
                           "(it is written in the audit log). Choose a name such as astana.akimat.")
    return login


def _settlements(role: str, settlements: Iterable[str]) -> list[str]:
    keys = [settlements] if isinstance(settlements, str) else list(settlements)
    registry = load_registry()
    found: list[str] = []
    for key in keys:
        settlement = registry.resolve(str(key))
        if settlement is None:
            raise AccountError(f"No settlement '{key}'; find its KATO code with `cityscore settlements --search "
                               "NAME`.")
        if settlement.kato not in found:
            found.append(settlement.kato)
    if role == "city" and not found:
        raise AccountError("A city account needs at least one settlement it writes for: --settlement KATO.")
    if role == "ministry" and found:
        raise AccountError("A ministry account writes for every settlement; give it no --settlement.")
    return sorted(found)


def add_user(wh: Warehouse, login: str, *, role: str, settlements: Iterable[str] = (), password: str | None = None,
             actor: str) -> Account:
    """Create an account. ``settlements``: KATO codes or unique names of the registry (a city needs at least one, the
    ministry none); ``password``: None for an account that signs in only with tokens."""
    check_login(login)
    if role not in ROLES:
        raise AccountError(f"Role {role!r} is not valid: use {' or '.join(ROLES)}.")
    katos = _settlements(role, settlements)
    hashed = hash_password(password) if password is not None else None
    now = utcnow()
    with wh.transaction():
        if wh.scalar("SELECT count(*) FROM accounts WHERE login = ?", [login]):
            raise ConflictError(f"An account '{login}' exists already; `cityscore users list` shows them.")
        wh.con.execute("INSERT INTO accounts (login, role, password_hash, disabled, created_at, created_by, "
                       "password_set_at) VALUES (?, ?, ?, false, ?, ?, ?)",
                       [login, role, hashed, now, actor, now if hashed else None])
        for kato in katos:
            wh.con.execute("INSERT INTO account_settlements VALUES (?, ?)", [login, kato])
        audit.record(wh, who=actor, action="user.add", object=f"user {login}",
                     summary={"login": login, "role": role, "settlements": katos, "password": hashed is not None})
    return Account(login, cast(Role, role), frozenset(katos), False, now, actor, hashed is not None)


def disable_user(wh: Warehouse, login: str, *, actor: str) -> Account:
    """Disable an account: its tokens and its password stop working at once (they are kept, and listed). Disabling
    a disabled account changes nothing."""
    with wh.transaction():
        account = _require(wh, login)
        if account.disabled:
            return account
        now = utcnow()
        wh.con.execute("UPDATE accounts SET disabled = true, disabled_at = ? WHERE login = ?", [now, login])
        active = int(wh.scalar("SELECT count(*) FROM api_tokens WHERE login = ? AND revoked_at IS NULL", [login])
                     or 0)
        audit.record(wh, who=actor, action="user.disable", object=f"user {login}",
                     summary={"login": login, "tokens_not_revoked": active})
    return _require(wh, login)


def set_password(wh: Warehouse, login: str, password: str, *, actor: str) -> None:
    """Set (or replace) the password of an account."""
    hashed = hash_password(password)
    with wh.transaction():
        _require(wh, login)
        wh.con.execute("UPDATE accounts SET password_hash = ?, password_set_at = ? WHERE login = ?",
                       [hashed, utcnow(), login])
        audit.record(wh, who=actor, action="user.password", object=f"user {login}", summary={"login": login})


def list_users(reader: Reader) -> list[Account]:
    """Every account, by login, with its settlements."""
    scopes: dict[str, set[str]] = {}
    for login, kato in reader.rows("SELECT login, settlement FROM account_settlements"):
        scopes.setdefault(str(login), set()).add(str(kato))
    return [_account(r, scopes.get(str(r[0]), set()))
            for r in reader.rows(f"SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY login")]


def get_user(reader: Reader, login: str) -> Account | None:
    """The account ``login``, or None."""
    rows = reader.rows(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = ?", [login])
    if not rows:
        return None
    katos = {str(r[0]) for r in reader.rows("SELECT settlement FROM account_settlements WHERE login = ?", [login])}
    return _account(rows[0], katos)


def authenticate_password(reader: Reader, login: str, password: str) -> Account | None:
    """The account when ``password`` is its password and it is not disabled; else None. An unknown login, an
    account without a password and a wrong password take the same time (one Argon2 verification each)."""
    key = login.strip().lower() if isinstance(login, str) else ""
    found = reader.rows("SELECT password_hash FROM accounts WHERE login = ?", [key]) if LOGIN.fullmatch(key) else []
    stored = str(found[0][0]) if found and found[0][0] is not None else None
    if not verify_password(stored, password):
        return None
    account = get_user(reader, key)
    return None if account is None or account.disabled else account


def _require(reader: Reader, login: str) -> Account:
    account = get_user(reader, login)
    if account is None:
        raise NotFoundError(f"No account '{login}'; `cityscore users list` shows them.")
    return account


def _account(row: tuple[Any, ...], settlements: Iterable[str]) -> Account:
    login, role, disabled, created_at, created_by, has_password, disabled_at = row
    return Account(str(login), cast(Role, str(role)), frozenset(settlements), bool(disabled), created_at,
                   None if created_by is None else str(created_by), bool(has_password), disabled_at)
