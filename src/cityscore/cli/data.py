"""``cityscore ingest``, ``compute``, ``batches`` and ``tables``: data into the warehouse and KPI values out of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..audit import cli_actor, record
from ..derived import store_monitors
from ..errors import NotFoundError
from ..ingest.adapters import ADAPTERS, open_adapter
from ..ingest.batches import delete_batch
from ..ingest.csvsource import ENCODINGS
from ..ingest.loader import VALUE_TABLES, IngestReport, ingest_file
from ..ingest.pseudonym import Pseudonymiser, load_key
from ..ingest.sqlcheck import TimeWindow
from ..pipeline import compute_kpis
from ..publishing.window import FIRST_DAY
from ..records import SCHEMAS
from ..settings import get_settings
from ..settlements import load_registry
from ..store import Warehouse, default_path
from ..store.changes import kpi_values_staleness, scores_staleness
from ..store.provenance import mark_simulated
from .common import (
    FormatOption,
    StandardOption,
    check_year,
    domain_errors,
    err_console,
    home,
    judged_at,
    parse_day,
    standard,
)
from .output import Column, OutputFormat, console, print_csv, print_json, print_table
from .provenance import simulated_file
from .score import ModeOption, PolicyOption, SetOption, build_policy

DbOption = Annotated[Path | None, typer.Option("--db", help="Warehouse file (default $CITYSCORE_DB or "
                                                            "./cityscore.duckdb).")]


@domain_errors
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to load (CSV, XLSX, Parquet, JSON, NDJSON).")],
    table: Annotated[str | None, typer.Option("--table", "-t", help="Target table (default: guessed from the "
                                                                     "columns; see `cityscore tables`).")] = None,
    settlement: Annotated[str | None, typer.Option("--settlement", "-s", help="KATO code for rows without a "
                                                                              "settlement column or value.")] = None,
    source: Annotated[str, typer.Option("--source", help="native, or an open-standard adapter: "
                                                         + ", ".join(ADAPTERS))] = "native",
    timezone: Annotated[str | None, typer.Option("--timezone", help="Time zone of timestamps without an offset in "
                                                                    "an adapter's source (IANA name, e.g. "
                                                                    "America/New_York; default Asia/Almaty).")] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="CSV encoding: auto (each line UTF-8 when valid, else "
                                                             "Windows-1251), utf-8 or cp1251.")] = "auto",
    replace: Annotated[str, typer.Option("--replace", help="Tables without a record id: span (a file replaces what "
                                                           "earlier files held for the streams and span of time it "
                                                           "covers) or none (append).")] = "span",
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (a summary), json (the report) or csv "
                                                                     "(one line per problem of a rejected row).")
                   ] = OutputFormat.table,
    db: DbOption = None,
    standard_ref: StandardOption = None,
) -> None:
    """Load files into the warehouse: every row stored once or rejected with its reason; the same file twice changes
    nothing; a failure leaves nothing half-loaded. The file is read and checked before the warehouse is opened for
    writing, so the dashboard and the API keep answering during a long load."""
    std, registry = standard(standard_ref), load_registry()
    if source != "native" and source not in ADAPTERS:
        raise typer.BadParameter("use native or one of: " + ", ".join(ADAPTERS), param_hint="--source")
    if encoding not in ENCODINGS:
        raise typer.BadParameter("use " + ", ".join(ENCODINGS), param_hint="--encoding")
    if replace not in ("span", "none"):
        raise typer.BadParameter("use span or none", param_hint="--replace")
    settings = get_settings()
    window = TimeWindow(settings.ingest_earliest, settings.ingest_latest)
    pseudonymiser = Pseudonymiser(load_key(home()))
    target_db = db or default_path()
    reports = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=fmt is OutputFormat.json) as progress:
        for path in files:
            task = progress.add_task(f"{path.name}", total=None)
            opened = (open_adapter(source, path, settlement=settlement, timezone=timezone) if source != "native"
                      else None)
            target = table or (ADAPTERS[source].table if source != "native" else None)
            report = ingest_file(target_db, path, std=std, registry=registry, pseudonymiser=pseudonymiser,
                                 table=target, settlement=settlement, source=source, opened=opened,
                                 progress=lambda n, t=task: progress.advance(t, n), encoding=encoding,
                                 replace=replace, window=window)
            progress.remove_task(task)
            reports.append(report)
    simulated = _mark_simulated(target_db, reports, files)
    if fmt is OutputFormat.json:
        shown = [{**r.to_json(), "simulated": r.batch_id in simulated} for r in reports]
        print_json(shown[0] if len(shown) == 1 else shown)
        _exit_if_nothing_accepted(reports)
        return
    if fmt is OutputFormat.csv:
        problems = [(r, e) for r in reports for e in r.errors]
        print_csv(problems, [Column("file", lambda p: p[0].file), Column("batch", lambda p: p[0].batch_id),
                             Column("row", lambda p: p[1].row), Column("column", lambda p: p[1].column),
                             Column("code", lambda p: p[1].code), Column("message", lambda p: p[1].message),
                             Column("fix", lambda p: p[1].fix)])
        _exit_if_nothing_accepted(reports)
        return
    out = console()
    for report in reports:
        if report.duplicate_batch:
            out.print(f"[yellow]{escape(report.file)}[/]: already loaded (batch {report.batch_id}); nothing changed.")
            continue
        colour = "green" if not report.rejected else "yellow"
        out.print(f"[{colour}]{escape(report.file)}[/] → {report.table}: {report.accepted} of {report.rows} rows "
                  f"accepted, {report.rejected} rejected (batch {report.batch_id}).")
        for note in report.notes:
            out.print(f"  [dim]{escape(note)}[/]")
        if report.batch_id in simulated:
            out.print("  [dim]simulated data (written by cityscore simulate): scores computed from it say so[/]")
        for error in report.errors[:20]:
            column = f", column {error.column}" if error.column else ""
            out.print(f"  row {error.row}{column}: {escape(error.message)} [dim]\\[{error.code}][/]")
        total = report.errors_total if report.errors_total is not None else len(report.errors)
        if total > 20:
            out.print(f"  … and {total - 20} more (all are in the quarantine table: `cityscore quarantine`)")
    _say_what_is_stale(target_db, [r.batch_id for r in reports if r.batch_id is not None and not r.duplicate_batch])
    _exit_if_nothing_accepted(reports)


def _mark_simulated(db: Path, reports: list[IngestReport], files: list[Path]) -> set[int]:
    """Mark the batches of the files the simulator wrote (also when loaded before); return their ids (D-68)."""
    found = {r.batch_id for r, path in zip(reports, files, strict=True)
             if r.batch_id is not None and simulated_file(path)}
    if found:
        with Warehouse(db) as wh:
            mark_simulated(wh, found)
    return found


def _exit_if_nothing_accepted(reports: list[IngestReport]) -> None:
    """Exit 1 when a file (not loaded before) gave no row to the warehouse, so that scripts notice."""
    empty = [r.file for r in reports if not r.duplicate_batch and r.accepted == 0]
    if empty:
        err_console.print(f"[red]No row was accepted from {', '.join(escape(f) for f in empty)}.[/]")
        raise typer.Exit(1)


def _say_what_is_stale(db: Path, batches: list[int]) -> None:
    """After a load: the years whose KPI values or scores were computed before it, and what to run."""
    if not batches:
        return
    marks = ", ".join("?" * len(batches))
    with Warehouse(db, read_only=True) as wh:
        spans = wh.rows(f"SELECT min(year(first_at)), max(year(last_at)) FROM data_changes WHERE batch_id IN ({marks}) "
                        "AND first_at IS NOT NULL", batches)
        first, last = spans[0] if spans else (None, None)
        if first is None:
            return
        for year in range(int(first), int(last) + 1):
            if kpi_values_staleness(wh, year).stale:
                err_console.print(f"[yellow]The KPI values and scores of {year} were computed before this load: run "
                                  f"`cityscore compute --year {year}` and `cityscore score --year {year}`.[/]")
            elif scores_staleness(wh, year).stale:
                err_console.print(f"[yellow]The scores of {year} were computed before this load: run "
                                  f"`cityscore score --year {year}`.[/]")


@domain_errors
def compute_cmd(
    year: Annotated[int, typer.Option("--year", "-y", callback=check_year, help="The year to compute.")],
    grain: Annotated[str, typer.Option("--grain", help="month (for scores) or day (for the monitor).")] = "month",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge the data at the end of this day (YYYY-MM-DD): a request "
                                                 "still open before its deadline is not yet late. Default: the end "
                                                 "of the year, or now for the running year.")
    ] = None,
    policy_file: PolicyOption = None,
    assignments: SetOption = None,
    mode: ModeOption = "official",
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
    standard_ref: StandardOption = None,
) -> None:
    """Compute KPI values from the raw records in the warehouse (per settlement and civil month)."""
    if grain not in ("month", "day"):
        raise typer.BadParameter("use month or day", param_hint="--grain")
    std, registry = standard(standard_ref), load_registry()
    policy = build_policy(mode, policy_file, assignments)
    judged = judged_at(year, None if as_of is None else parse_day(as_of, "--as-of"))
    with Warehouse(db) as wh:
        values = compute_kpis(wh, std, registry, policy, year=year, grain=grain, as_of=judged)
        if grain == "day":  # the stored monitor follows the daily values it is computed from (decisions.md D-66)
            store_monitors(wh, std, registry, trigger=f"compute --year {year} --grain day")
        stale = scores_staleness(wh, year)
    if stale.stale and fmt is OutputFormat.table:
        err_console.print(f"[yellow]The scores of {year} (run at {stale.since:%Y-%m-%d %H:%M} UTC) are now stale: "
                          f"{escape(stale.describe())}. Run `cityscore score --year {year}`.[/]")
    summary: dict[str, dict[str, int]] = {}
    for v in values:
        entry = summary.setdefault(v.kpi, {"settlements": 0, "periods": 0, "rows": 0})
        entry["periods"] += 1
        entry["rows"] += v.rows_used
    for kpi in summary:
        summary[kpi]["settlements"] = len({v.settlement for v in values if v.kpi == kpi})
    rows = [{"kpi": k, **v} for k, v in sorted(summary.items(), key=lambda kv: [int(x) for x in kv[0].split(".")])]
    if fmt is OutputFormat.json:
        print_json({"year": year, "grain": grain, "values": len(values), "kpis": rows})
        return
    columns = [Column("KPI", lambda r: r["kpi"]), Column("Settlements", lambda r: r["settlements"], justify="right"),
               Column("Periods", lambda r: r["periods"], justify="right"),
               Column("Records used", lambda r: r["rows"], justify="right")]
    if fmt is OutputFormat.csv:
        print_csv(rows, columns)
        return
    print_table(rows, columns, title=f"KPI values computed for {year} (per {grain})",
                caption=f"{len(values)} values · stored in kpi_values")


@domain_errors
def batches(
    delete: Annotated[int | None, typer.Option("--delete", help="Remove this batch and all its rows.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """The files loaded into the warehouse (batches); --delete N removes one with every row it brought."""
    with Warehouse(db) as wh:
        if delete is not None:  # in the audit log as done by cli:<os user>
            removed = delete_batch(wh, delete, actor=cli_actor())
            console().print(f"Batch {delete} ({removed['file']}) removed with its rows from {removed['table']}. KPI "
                            "values and scores computed from it are stale until `cityscore compute` and `cityscore "
                            "score` run again.")
            return
        rows = [dict(zip(("batch", "table", "file", "source", "rows", "accepted", "rejected", "ingested_at",
                          "simulated"), r, strict=True)) for r in wh.rows(
            "SELECT batch_id, table_name, file_name, source, rows_total, rows_accepted, rows_rejected, "
            "strftime(ingested_at, '%Y-%m-%d %H:%M'), simulated FROM batches ORDER BY batch_id")]
    if fmt is OutputFormat.json:
        print_json(rows)
        return
    columns = [Column("Batch", lambda r: r["batch"], justify="right", no_wrap=True),
               Column("Table", lambda r: r["table"], no_wrap=True), Column("File", lambda r: r["file"]),
               Column("Source", lambda r: r["source"], wide=True, no_wrap=True),
               Column("Rows", lambda r: r["rows"], justify="right", no_wrap=True),
               Column("Accepted", lambda r: r["accepted"], justify="right", no_wrap=True),
               Column("Rejected", lambda r: r["rejected"], justify="right", no_wrap=True),
               Column("Ingested (UTC)", lambda r: r["ingested_at"], wide=True, no_wrap=True),
               Column("Simulated", lambda r: r["simulated"], no_wrap=True)]
    (print_csv if fmt is OutputFormat.csv else print_table)(rows, columns)


@domain_errors
def tables(
    name: Annotated[str | None, typer.Argument(help="One table: its columns.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The raw record tables that `cityscore ingest` accepts, with their columns."""
    if name is not None:
        schema = SCHEMAS.get(name)
        if schema is None:
            raise NotFoundError(f"No table '{name}'. Tables: {', '.join(SCHEMAS)} (and {', '.join(VALUE_TABLES)}).")
        rows = [{"column": c.name, "type": c.type, "required": c.required, "description": c.description,
                 "allowed": ", ".join(c.choices), "other_names": ", ".join(c.aliases),
                 "personal": c.pseudonymise or ""} for c in schema.columns]
        if fmt is OutputFormat.json:
            print_json({"table": schema.table, "title": schema.title, "key": schema.key, "columns": rows})
            return
        columns = [Column(h, lambda r, h=h: r[h]) for h in ("column", "type", "required", "description", "allowed",
                                                             "personal")]
        if fmt is OutputFormat.csv:
            print_csv(rows, columns)
            return
        print_table(rows, columns, title=f"{schema.table} — {schema.title}", caption=schema.description)
        return
    listing = [{"table": s.table, "title": s.title, "required": ", ".join(s.required)} for s in SCHEMAS.values()]
    if fmt is OutputFormat.json:
        print_json(listing)
        return
    columns = [Column("Table", lambda r: r["table"], no_wrap=True), Column("What", lambda r: r["title"]),
               Column("Required columns", lambda r: r["required"])]
    (print_csv if fmt is OutputFormat.csv else print_table)(listing, columns)


@domain_errors
def quarantine(
    action: Annotated[str | None, typer.Argument(help="Nothing: the rejected rows by batch and code; "
                                                       "purge: delete quarantined rows (see --older-than).")] = None,
    older_than: Annotated[str | None, typer.Option("--older-than", help="With purge: rows quarantined longer ago "
                                                                        "than this, e.g. 90d, 12w or 6m.")] = None,
    batch: Annotated[int | None, typer.Option("--batch", help="Only this batch: list its rejected rows.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Rejected rows kept in the quarantine table (personal data masked). Retention: keep them while the cities may
    still correct and resend the files, then purge — `cityscore quarantine purge --older-than 90d`."""
    from ..store.warehouse import utcnow

    if action not in (None, "purge"):
        raise typer.BadParameter("use purge, or nothing to list", param_hint="ACTION")
    cutoff = None
    if action == "purge":  # (checked before the warehouse is opened)
        if older_than is None:
            raise typer.BadParameter("say how old, e.g. --older-than 90d", param_hint="--older-than")
        cutoff = _cutoff(older_than, utcnow())
    with Warehouse(db) as wh:
        if cutoff is not None:
            with wh.transaction():
                count = int(wh.scalar("SELECT count(*) FROM quarantine WHERE quarantined_at < ?", [cutoff]) or 0)
                wh.con.execute("DELETE FROM quarantine WHERE quarantined_at < ?", [cutoff])
                if count:
                    record(wh, who=cli_actor(), action="quarantine.purge", object="quarantine",
                           summary={"purged": count, "before": cutoff})
            if fmt is OutputFormat.json:
                print_json({"purged": count, "before": cutoff.isoformat(sep=" ", timespec="seconds")})
            else:
                console().print(f"{count} quarantined row(s) from before {cutoff:%Y-%m-%d %H:%M} UTC deleted.")
            return
        if batch is not None:
            rows = [dict(zip(("row", "column", "code", "message", "fix", "raw"), r, strict=True)) for r in wh.rows(
                "SELECT row_number, column_name, code, message, fix, raw FROM quarantine WHERE batch_id = ? "
                "ORDER BY row_number, column_name NULLS FIRST", [batch])]
            columns = [Column(h.capitalize(), lambda r, h=h: r[h]) for h in ("row", "column", "code", "message")]
        else:
            # rows: the rejected rows with this code (a row with two problems counts under each of its codes)
            rows = [dict(zip(("batch", "file", "code", "rows", "problems", "quarantined_at"), r, strict=True))
                    for r in wh.rows("SELECT batch_id, file_name, code, count(DISTINCT row_number), count(*), "
                                     "strftime(min(quarantined_at), '%Y-%m-%d %H:%M') FROM quarantine "
                                     "GROUP BY batch_id, file_name, code ORDER BY batch_id, code")]
            columns = [Column("Batch", lambda r: r["batch"], justify="right"), Column("File", lambda r: r["file"]),
                       Column("Code", lambda r: r["code"]), Column("Rows", lambda r: r["rows"], justify="right"),
                       Column("Problems", lambda r: r["problems"], justify="right"),
                       Column("Quarantined (UTC)", lambda r: r["quarantined_at"])]
    if fmt is OutputFormat.json:
        print_json(rows)
        return
    (print_csv if fmt is OutputFormat.csv else print_table)(rows, columns)


def _cutoff(text: str, now: datetime) -> datetime:
    """``now`` less the age of ``--older-than`` (90d, 12w, 6m, 1y); an age reaching back before the first day of the
    window (2000-01-01, :mod:`cityscore.publishing.window`) is a usage error, as nothing is quarantined that long."""
    units = {"d": 1, "w": 7, "m": 30, "y": 365}
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in units or not number.isdigit():
        raise typer.BadParameter("write a number of days, weeks, months or years: 90d, 12w, 6m, 1y",
                                 param_hint="--older-than")
    days = int(number) * units[unit]
    if days > (now.date() - FIRST_DAY).days:
        raise typer.BadParameter(f"{text} reaches back before {FIRST_DAY.isoformat()}; nothing is quarantined that "
                                 "long ago", param_hint="--older-than")
    return now - timedelta(days=days)
