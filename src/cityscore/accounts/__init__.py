"""Accounts and roles of the write side: the ministry (every settlement) and the cities (their own settlements);
passwords (Argon2id) and API tokens (stored as SHA-256), every change in the audit log (decisions.md D-74 … D-76).

Reading is public and needs no account.
"""

from .models import LOGIN, ROLES, Account, IssuedToken, Role, TokenInfo
from .passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from .tokens import authenticate_token, issue_token, list_tokens, revoke_token
from .users import add_user, authenticate_password, check_login, disable_user, get_user, list_users, set_password

__all__ = [
    "LOGIN",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "Account",
    "IssuedToken",
    "Role",
    "TokenInfo",
    "add_user",
    "authenticate_password",
    "authenticate_token",
    "check_login",
    "disable_user",
    "get_user",
    "issue_token",
    "list_tokens",
    "list_users",
    "revoke_token",
    "set_password",
]
