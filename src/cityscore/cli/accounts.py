"""``cityscore users …`` and ``cityscore tokens …``: the accounts of the ministry and the cities, and their API
tokens (decisions.md D-74 … D-76). Every change is in the audit log as done by ``cli:<os user>``."""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from ..accounts import (
    Account,
    add_user,
    disable_user,
    issue_token,
    list_tokens,
    list_users,
    revoke_token,
    set_password,
)
from ..audit import cli_actor
from ..measures.civil import day_end_utc
from ..publishing.window import DAYS_TEXT, in_days
from ..settlements import load_registry
from ..store import Warehouse
from ..store.warehouse import utcnow
from .common import FormatOption, domain_errors, err_console
from .data import DbOption
from .output import Column, OutputFormat, console, print_csv, print_json, print_table

LoginArgument = Annotated[str, typer.Argument(help="The login: 3–64 lowercase Latin letters, digits, '.', '_', '-'.",
                                              show_default=False)]

users_app = typer.Typer(help="Accounts of the write side: the ministry (every settlement) and the cities (their own "
                             "settlements).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (`Authorization: Bearer <token>`): issued once, stored only as a hash.",
                         no_args_is_help=True)


class RoleChoice(StrEnum):
    ministry = "ministry"
    city = "city"


def _password_from_stdin() -> str:
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    password = password[:-1] if password.endswith("\r") else password
    if not password:
        raise typer.BadParameter("no password on standard input (write it as the first line)",
                                 param_hint="--password-stdin")
    return password


def _account_row(account: Account, active_tokens: int) -> dict[str, object]:
    registry = load_registry()
    names = [f"{k} {found.name_ru}" if (found := registry.get(k)) else k for k in sorted(account.settlements)]
    return {**account.to_json(), "tokens": active_tokens, "settlement_names": names}


def _show_account(account: Account, fmt: OutputFormat, verb: str) -> None:
    if fmt is OutputFormat.json:
        print_json(account.to_json())
        return
    if fmt is OutputFormat.csv:
        _print_accounts([_account_row(account, 0)], fmt)
        return
    scope = ("every settlement" if account.is_ministry else
             ", ".join(_account_row(account, 0)["settlement_names"]))  # type: ignore[arg-type]
    state = " (disabled)" if account.disabled and verb != "Disabled" else ""
    console().print(f"{verb} [bold]{escape(account.login)}[/]{state}: {account.role}, writes for {escape(scope)}; "
                    f"password: {'set' if account.has_password else 'none (tokens only)'}.")


def _print_accounts(rows: list[dict[str, object]], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print_json([{k: v for k, v in r.items() if k != "settlement_names"} for r in rows])
        return
    if fmt is OutputFormat.csv:
        print_csv(rows, [Column(h, lambda r, h=h: r[h]) for h in (
            "login", "role", "settlements", "disabled", "password", "tokens", "created_at", "created_by",
            "disabled_at")])
        return
    print_table(rows, [
        Column("Login", lambda r: r["login"], no_wrap=True),
        Column("Role", lambda r: r["role"], no_wrap=True),
        Column("Settlements", lambda r: "\n".join(r["settlement_names"]) or "all"),
        Column("Disabled", lambda r: r["disabled"], no_wrap=True),
        Column("Password", lambda r: r["password"], no_wrap=True),
        Column("Tokens", lambda r: r["tokens"], justify="right", no_wrap=True),
        Column("Created (UTC)", lambda r: r["created_at"], wide=True, no_wrap=True),
        Column("By", lambda r: r["created_by"], wide=True),
    ], caption=f"{len(rows)} account(s)")


@users_app.command("add")
@domain_errors
def users_add(
    login: LoginArgument,
    role: Annotated[RoleChoice, typer.Option("--role", help="ministry (every settlement) or city (its own).",
                                             case_sensitive=False, show_default=False)],
    settlement: Annotated[list[str] | None, typer.Option("--settlement", "-s", help="A settlement a city account "
                                                                                   "writes for (KATO code or name); "
                                                                                   "repeat for several.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a password for the dashboard from "
                                                                          "the first line of standard input "
                                                                          "(default: no password, tokens only).")
                              ] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Add an account: `users add astana.akimat --role city --settlement 710000000`."""
    password = _password_from_stdin() if password_stdin else None
    with Warehouse(db) as wh:
        account = add_user(wh, login, role=role.value, settlements=settlement or (), password=password,
                           actor=cli_actor())
    _show_account(account, fmt, "Added")


@users_app.command("list")
@domain_errors
def users_list(fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """The accounts, with their role, settlements and active tokens."""
    now = utcnow()
    with Warehouse(db) as wh:
        active: dict[str, int] = {}
        for token in list_tokens(wh):
            if token.status(now) == "active":
                active[token.login] = active.get(token.login, 0) + 1
        rows = [_account_row(a, active.get(a.login, 0)) for a in list_users(wh)]
    _print_accounts(rows, fmt)


@users_app.command("disable")
@domain_errors
def users_disable(login: LoginArgument, fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """Disable an account: its password and tokens stop working at once."""
    with Warehouse(db) as wh:
        account = disable_user(wh, login, actor=cli_actor())
    _show_account(account, fmt, "Disabled")


@users_app.command("password")
@domain_errors
def users_password(login: LoginArgument, db: DbOption = None) -> None:
    """Set an account's password, read from the first line of standard input."""
    password = _password_from_stdin()
    with Warehouse(db) as wh:
        set_password(wh, login, password, actor=cli_actor())
    console().print(f"Password of [bold]{escape(login)}[/] set.")


DURATION = re.compile(r"(\d{1,5})([dh])")


def parse_expires(text: str, now: datetime) -> datetime | None:
    """``--expires``: ``never``, a number of days or hours from now (``30d``, ``12h``), or a day (``2027-01-31``:
    valid through that civil day in Kazakhstan); the instant as naive UTC. Anything else, or an instant not after
    ``now``, is a usage error (exit status 2)."""
    value = text.strip().lower()
    if value == "never":
        return None
    match = DURATION.fullmatch(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        if amount == 0:
            raise typer.BadParameter("a token must be valid for some time: e.g. 30d", param_hint="--expires")
        until = now + (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
        if not in_days(until.date()):
            raise typer.BadParameter(f"{text} reaches beyond {DAYS_TEXT}", param_hint="--expires")
        return until
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("write 30d, 12h, a day as YYYY-MM-DD, or never", param_hint="--expires") from None
    if not in_days(day):
        raise typer.BadParameter(f"{text} is outside {DAYS_TEXT}", param_hint="--expires")
    until = day_end_utc(day)
    if until <= now:
        raise typer.BadParameter(f"{text} is in the past", param_hint="--expires")
    return until


@tokens_app.command("issue")
@domain_errors
def tokens_issue(
    login: LoginArgument,
    expires: Annotated[str, typer.Option("--expires", help="30d, 12h, a day (YYYY-MM-DD: valid through it, "
                                                           "Kazakhstan time) or never.")] = "365d",
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Issue an API token for an account. It is printed this once: only its SHA-256 is stored."""
    until = parse_expires(expires, utcnow())
    with Warehouse(db) as wh:
        issued = issue_token(wh, login, expires=until, actor=cli_actor())
    if fmt is OutputFormat.json:
        print_json(issued.to_json())
        return
    if fmt is OutputFormat.csv:
        print_csv([issued.to_json()], [Column(h, lambda r, h=h: r[h]) for h in ("login", "token", "expires")])
        return
    sys.stdout.write(issued.token + "\n")
    valid = f"until {issued.to_json()['expires']}" if issued.expires else "without expiry"
    err_console.print(f"Token {issued.token_id} for {escape(login)}, valid {valid}. It is shown only now: keep it "
                      f"in a secret store. Revoke it with `cityscore tokens revoke --id {issued.token_id}`.")


@tokens_app.command("revoke")
@domain_errors
def tokens_revoke(
    token_id: Annotated[int | None, typer.Option("--id", help="The token to revoke (`cityscore tokens list`).",
                                                 min=1)] = None,
    login: Annotated[str | None, typer.Option("--login", help="Revoke every token of this account.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Revoke a token (--id N), or every token of an account (--login LOGIN); it stops working at once."""
    if (token_id is None) == (login is None):
        raise typer.BadParameter("give either --id N or --login LOGIN", param_hint="--id / --login")
    with Warehouse(db) as wh:
        count = revoke_token(wh, token_id=token_id, login=login, actor=cli_actor())
    if fmt is OutputFormat.json:
        print_json({"revoked": count, "token_id": token_id, "login": login})
        return
    if fmt is OutputFormat.csv:
        print_csv([{"revoked": count}], [Column("revoked", lambda r: r["revoked"])])
        return
    what = f"token {token_id}" if token_id is not None else f"the tokens of {escape(str(login))}"
    console().print(f"Revoked {count} token(s) ({what})." if count else f"Nothing to revoke: {what} "
                    "revoked already.")


@tokens_app.command("list")
@domain_errors
def tokens_list(
    login: Annotated[str | None, typer.Option("--login", help="Only this account's tokens.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """The tokens issued (never the tokens themselves): id, account, expiry, revoked, last used."""
    now = utcnow()
    with Warehouse(db) as wh:
        rows = [t.to_json(now) for t in list_tokens(wh, login=login)]
    if fmt is OutputFormat.json:
        print_json(rows)
        return
    headers = ("token_id", "login", "status", "created_at", "created_by", "expires", "revoked_at", "last_used_at")
    if fmt is OutputFormat.csv:
        print_csv(rows, [Column(h, lambda r, h=h: r[h]) for h in headers])
        return
    print_table(rows, [
        Column("Id", lambda r: r["token_id"], justify="right", no_wrap=True),
        Column("Login", lambda r: r["login"], no_wrap=True),
        Column("Status", lambda r: r["status"], no_wrap=True),
        Column("Created (UTC)", lambda r: r["created_at"], no_wrap=True),
        Column("Expires (UTC)", lambda r: r["expires"], no_wrap=True),
        Column("Last used (UTC)", lambda r: r["last_used_at"], wide=True, no_wrap=True),
    ], caption=f"{len(rows)} token(s)")
