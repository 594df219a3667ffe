"""Pseudonymisation of personal identifiers at ingestion: phone numbers and ИИН never reach the warehouse raw.

A value is normalised (a phone to its 11 digits starting with 7, an ИИН to its 12 digits, checked against its
control digit) and replaced by ``HMAC-SHA256(key, kind:value)``, shortened to 32 hex digits. The same person gets
the same pseudonym in every file, so records can still be linked, but without the key the number cannot be
recovered even by trying every possible phone number.

The key comes from ``$CITYSCORE_PSEUDONYM_KEY`` (at least 16 characters), else from ``<CITYSCORE_HOME>/
pseudonym.key``, created with 32 random bytes and mode 0600 on first use. Keep it secret and keep it: a new key gives
new pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from ..errors import CityScoreError
from ..records.personal import iin_is_valid, mask, sql_iin_valid

KEY_ENV = "CITYSCORE_PSEUDONYM_KEY"


INVALID = {"phone": "is not a Kazakhstan phone number (11 digits, +7 …)",
           "iin": "is not a valid ИИН (12 digits with a correct control digit)"}


class PseudonymKeyError(ValueError, CityScoreError):
    """The pseudonymisation key is missing or too short."""


def load_key(home: Path) -> bytes:
    """The pseudonymisation key (see the module docstring)."""
    env = os.environ.get(KEY_ENV)
    if env is not None:
        if len(env) < 16:
            raise PseudonymKeyError(f"${KEY_ENV} must be at least 16 characters long.")
        return env.encode("utf-8")
    path = Path(home) / "pseudonym.key"
    if path.exists():
        key = path.read_bytes()
        if len(key) < 16:
            raise PseudonymKeyError(f"{path} holds fewer than 16 bytes; restore the key or set ${KEY_ENV}.")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


_DIGITS = re.compile(r"\D")


def normalise_phone(text: str) -> str | None:
    """``+7 (701) 123-45-67`` / ``8 701 1234567`` / ``7011234567`` → ``77011234567``; None if not a KZ number."""
    digits = _DIGITS.sub("", text)
    if len(digits) == 10:
        digits = "7" + digits
    elif len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return digits if len(digits) == 11 and digits[0] == "7" else None


class Pseudonymiser:
    """Keyed hashing of identifiers, with a cache (the same caller appears many times in a file)."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._cache: dict[tuple[str, str], str] = {}

    def token(self, kind: str, value: str) -> str:
        cached = self._cache.get((kind, value))
        if cached is None:
            digest = hmac.digest(self.key, f"{kind}:{value}".encode(), "sha256").hex()
            cached = f"{kind[:1]}_{digest[:32]}"
            if len(self._cache) < 1_000_000:
                self._cache[(kind, value)] = cached
        return cached

    def pseudonymise(self, kind: str, text: str) -> tuple[str, str | None]:
        """(pseudonym, error message or None). An invalid value is still hashed, never kept as written."""
        raw = text.strip()
        if kind == "phone":
            normal = normalise_phone(raw)
            if normal is None:
                return self.token(kind, raw), f"'{_mask(raw)}' {INVALID['phone']}"
            return self.token(kind, normal), None
        normal = _DIGITS.sub("", raw)
        if not iin_is_valid(normal):
            return self.token(kind, raw), f"'{_mask(raw)}' {INVALID['iin']}"
        return self.token(kind, normal), None


def _pads(key: bytes) -> tuple[str, str]:
    padded = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in padded).hex(), bytes(b ^ 0x5C for b in padded).hex()


def sql_token(kind: str, expr: str, key: bytes) -> str:
    """SQL giving :meth:`Pseudonymiser.token` of the text ``expr`` (HMAC-SHA256 computed by DuckDB)."""
    ipad, opad = _pads(key)
    return (f"'{kind[:1]}_' || substr(sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || "
            f"encode('{kind}:' || {expr})))), 1, 32)")


def key_fingerprint(key: bytes) -> str:
    """What the warehouse records of the key: an HMAC of a fixed text, which tells two keys apart and reveals
    nothing of either."""
    return hmac.digest(key, b"cityscore pseudonym key fingerprint", "sha256").hex()[:16]


def sql_normal(kind: str, expr: str, *, digits_given: bool = False) -> str:
    """SQL: the text ``expr`` normalised as :meth:`Pseudonymiser.pseudonymise` does (digits only; a phone to 11 digits
    starting with 7). ``digits_given``: ``expr`` holds only its digits already."""
    digits = expr if digits_given else f"regexp_replace({expr}, '[^0-9]', '', 'g')"
    if kind != "phone":
        return digits
    return (f"(CASE WHEN length({digits}) = 10 THEN '7' || {digits} WHEN length({digits}) = 11 AND "
            f"starts_with({digits}, '8') THEN '7' || substr({digits}, 2) ELSE {digits} END)")


def sql_valid(kind: str, normal: str) -> str:
    """SQL: whether the normalised value ``normal`` (:func:`sql_normal`) is a phone number or an ИИН."""
    if kind == "phone":
        return f"COALESCE(length({normal}) = 11 AND starts_with({normal}, '7'), FALSE)"
    return f"COALESCE({sql_iin_valid(normal)}, FALSE)"


def _mask(text: str) -> str:
    """Show an identifier in an error without revealing it: keep the first two and last two characters; another
    identifier (an ИИН in a phone column) is masked whole."""
    masked = mask(text)
    if masked != text:
        return masked
    return text if len(text) <= 4 else f"{text[:2]}{'•' * (len(text) - 4)}{text[-2:]}"


def sql_partial_mask(expr: str) -> str:
    """SQL doing what :func:`_mask` does."""
    return (f"CASE WHEN length({expr}) <= 4 THEN {expr} ELSE left({expr}, 2) || repeat('•', length({expr}) - 4) "
            f"|| right({expr}, 2) END")
