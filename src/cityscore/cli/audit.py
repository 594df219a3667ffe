"""``cityscore audit list`` and ``cityscore audit verify``: the hash-chained log of every change (decisions.md D-71
… D-73)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .. import audit
from ..publishing.window import DAYS_TEXT, in_days
from ..store import Warehouse, default_path
from .common import FormatOption, domain_errors, err_console
from .data import DbOption
from .output import Column, OutputFormat, console, print_csv, print_json, print_table

app = typer.Typer(help="The audit log: who changed what, when; hash-chained so that an edit shows.",
                  no_args_is_help=True)


def parse_since(text: str) -> datetime:
    """``--since``: a day (``2026-05-01``: from its start, UTC) or an instant (``2026-05-01T08:30``, UTC unless it
    has an offset); otherwise a usage error (exit status 2)."""
    try:
        when = (datetime.combine(date.fromisoformat(text), datetime.min.time()) if len(text.strip()) == 10
                else datetime.fromisoformat(text))
    except ValueError:
        raise typer.BadParameter("write a day as YYYY-MM-DD or an instant as YYYY-MM-DDTHH:MM",
                                 param_hint="--since") from None
    if not in_days(when.date()):
        raise typer.BadParameter(f"{text} is outside {DAYS_TEXT}", param_hint="--since")
    return when


def _open(db: Path | None) -> Warehouse:
    return Warehouse(db or default_path(), read_only=True)


@app.command("list")
@domain_errors
def audit_list(
    since: Annotated[str | None, typer.Option("--since", help="Entries from this day (YYYY-MM-DD, UTC) or instant "
                                                              "on.")] = None,
    who: Annotated[str | None, typer.Option("--who", help="Entries of this login, or of cli:<os user>.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the latest N entries.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """The entries of the audit log, oldest first. `--format json` gives every hashed field, so an exported log can be
    checked elsewhere (decisions.md D-72)."""
    when = parse_since(since) if since is not None else None
    with _open(db) as wh:
        rows = audit.entries(wh, since=when, who=who, limit=limit)
    if fmt is OutputFormat.json:
        print_json(rows)
        return

    def summary(r: dict[str, object]) -> str:
        return json.dumps(r["summary"], ensure_ascii=False, sort_keys=True, separators=(", ", ": "))

    if fmt is OutputFormat.csv:
        print_csv(rows, [Column("seq", lambda r: r["seq"]), Column("at", lambda r: r["at"]),
                         Column("who", lambda r: r["who"]), Column("action", lambda r: r["action"]),
                         Column("object", lambda r: r["object"]),
                         Column("summary", lambda r: json.dumps(r["summary"], ensure_ascii=False, sort_keys=True,
                                                                separators=(",", ":"))),
                         Column("prev_hash", lambda r: r["prev_hash"]), Column("hash", lambda r: r["hash"])])
        return
    print_table(rows, [
        Column("Seq", lambda r: r["seq"], justify="right", no_wrap=True),
        Column("At (UTC)", lambda r: str(r["at"])[:19].replace("T", " "), no_wrap=True),
        Column("Who", lambda r: escape(str(r["who"]))),
        Column("Action", lambda r: r["action"], no_wrap=True),
        Column("Object", lambda r: escape(str(r["object"]))),
        Column("Summary", lambda r: escape(summary(r)), max_width=60, fold=True),
        Column("Hash", lambda r: str(r["hash"])[:12], wide=True, no_wrap=True),
    ], caption=f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")


@app.command("verify")
@domain_errors
def audit_verify(fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """Check the hash chain. Exit status 0 when intact (with the number of entries); 1 naming the first entry that
    was altered, deleted, reordered or inserted."""
    with _open(db) as wh:
        result = audit.verify(wh)
    if fmt is OutputFormat.json:
        print_json(result.to_json())
    elif fmt is OutputFormat.csv:
        data = result.to_json()
        print_csv([data], [Column(h, lambda r, h=h: r[h]) for h in ("ok", "entries", "first_bad", "reason",
                                                                     "message")])
    elif result.ok:
        head = f"; head {result.head_hash}" if result.head_hash and result.entries else ""
        console().print(f"[green]{result.message}[/]{head}")
    else:
        err_console.print(f"[bold red]Audit log broken:[/] {result.message} ({escape(result.detail)}).")
    if not result.ok:
        raise typer.Exit(1)
