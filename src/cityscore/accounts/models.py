"""Accounts and tokens as values: who may write what (decisions.md D-74).

Roles: ``ministry`` (every write, every settlement) and ``city`` (writes only for the settlements it is bound to,
by KATO code). Reading needs no account (``public``: the read API and the dashboard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

Role = Literal["ministry", "city"]
ROLES: tuple[str, ...] = get_args(Role)
LOGIN = re.compile(r"[a-z0-9._-]{3,64}")
LOGIN_TEXT = "3–64 characters: lowercase Latin letters, digits, '.', '_' or '-'"


@dataclass(frozen=True)
class Account:
    """A user of the write side. ``settlements``: the KATO codes a city account writes for (empty for the ministry).
    The fields after ``disabled`` are bookkeeping for listings and are not compared."""

    login: str
    role: Role
    settlements: frozenset[str]
    disabled: bool = False
    created_at: datetime | None = field(default=None, compare=False)
    created_by: str | None = field(default=None, compare=False)
    has_password: bool = field(default=False, compare=False)
    disabled_at: datetime | None = field(default=None, compare=False)

    @property
    def is_ministry(self) -> bool:
        return self.role == "ministry"

    def can_write(self, kato: str) -> bool:
        """The ministry writes for any settlement, a city only for its own; a disabled account for none."""
        if self.disabled:
            return False
        return self.is_ministry or kato in self.settlements

    def to_json(self) -> dict[str, object]:
        return {"login": self.login, "role": self.role, "settlements": sorted(self.settlements),
                "disabled": self.disabled, "password": self.has_password,
                "created_at": _iso(self.created_at), "created_by": self.created_by,
                "disabled_at": _iso(self.disabled_at)}


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued. ``token`` is shown this once; only its SHA-256 is stored. ``expires``: naive UTC, or
    None for a token that does not expire."""

    token_id: int
    login: str
    token: str = field(repr=False)
    expires: datetime | None

    def to_json(self) -> dict[str, object]:
        """Exactly what ``cityscore tokens issue --format json`` prints."""
        return {"login": self.login, "token": self.token, "expires": _iso(self.expires)}


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without the token (which is not stored)."""

    token_id: int
    login: str
    created_at: datetime
    created_by: str
    expires: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def status(self, now: datetime) -> str:
        """``active``, ``revoked`` or ``expired`` at ``now`` (naive UTC)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires is not None and self.expires <= now:
            return "expired"
        return "active"

    def to_json(self, now: datetime) -> dict[str, object]:
        return {"token_id": self.token_id, "login": self.login, "status": self.status(now),
                "created_at": _iso(self.created_at), "created_by": self.created_by, "expires": _iso(self.expires),
                "revoked_at": _iso(self.revoked_at), "last_used_at": _iso(self.last_used_at)}


def _iso(instant: datetime | None) -> str | None:
    """A naive UTC instant as ISO 8601 with ``Z`` (seconds), or None."""
    return None if instant is None else instant.replace(microsecond=0).isoformat() + "Z"
