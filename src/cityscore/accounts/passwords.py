"""Passwords: Argon2id (argon2-cffi) with the parameters of RFC 9106's second recommended option (decisions.md
D-76): 64 MiB of memory, 3 passes, 4 lanes, a 16-byte random salt, a 32-byte tag. The stored value is the PHC
string (``$argon2id$v=19$m=65536,t=3,p=4$<salt>$<tag>``), which carries its own parameters, so hashes made with
other parameters keep verifying after a change."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from ..errors import AccountError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # a longer "password" is an attempt to make the server hash megabytes


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def check_password(password: str) -> str:
    """``password`` when acceptable, else an :class:`AccountError` that says why."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise AccountError(f"A password needs at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise AccountError(f"A password may have at most {MAX_LENGTH} characters.")
    if password != password.strip():
        raise AccountError("A password may not begin or end with a space or a line break (as a pasted one often "
                           "does); remove them.")
    return password


def hash_password(password: str) -> str:
    return hasher().hash(check_password(password))


@cache
def _dummy() -> str:
    return hasher().hash("not the password of anyone")


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash. With no stored hash the work of a verification is done all
    the same (so an unknown login takes as long as a wrong password) and the answer is no."""
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher().verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
