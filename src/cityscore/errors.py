"""Exception types shared by every layer.

The one module every package may import (it imports nothing of ours). Each error is also a builtin, so callers
can catch either ``CatalogError`` or ``ValueError``; messages say how to fix the problem.
"""

from __future__ import annotations


class CityScoreError(Exception):
    """Base of every error raised on purpose by CityScore-KZ."""


class CatalogError(ValueError, CityScoreError):
    """A catalog of the standard is invalid or cannot be found.

    ``findings`` holds the individual problems when the error comes from validation.
    """

    def __init__(self, message: str, findings: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class NotFoundError(LookupError, CityScoreError):
    """Something asked for by id (a KPI, an initiative, a settlement) does not exist."""


class SettlementRegistryError(ValueError, CityScoreError):
    """The settlement registry file is malformed."""


class AuthenticationError(CityScoreError):
    """A write was asked for without valid credentials (no token, or an unknown, revoked or expired one)."""


class PermissionDeniedError(CityScoreError):
    """The account may not do this: outside its role, or for a settlement it is not bound to."""


class ConflictError(CityScoreError):
    """The request conflicts with what is stored (e.g. an idempotency key reused for another request)."""


class AccountError(ValueError, CityScoreError):
    """An account or token cannot be created or changed as asked (a bad login, role, settlement or password)."""
