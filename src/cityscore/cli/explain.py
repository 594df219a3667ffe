"""``cityscore explain KATO KPI``: where one published KPI number comes from, as the API's lineage shows it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import NotFoundError
from ..publishing import Repository
from ..settlements import load_registry
from ..store.warehouse import default_path
from .common import FormatOption, StandardOption, check_year, domain_errors, find_settlement, standard
from .output import Column, OutputFormat, console, print_csv, print_json, print_table


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        value = int(value)  # a count
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", "\u00a0")  # a no-break space: a number never wraps
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u00a0")
    return str(value)


def _period(start: str, end: str) -> str:
    """``2026-03`` for a whole civil month, else ``start … end``."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if first.day == 1 and (last + timedelta(days=1)).day == 1 and first.month == last.month:
        return start[:7]
    return f"{start} … {end}"


@domain_errors
def explain(
    settlement: Annotated[str, typer.Argument(help="KATO code or name of the settlement.")],
    kpi: Annotated[str, typer.Argument(help="KPI id of the catalog, e.g. 1.8.")],
    year: Annotated[int | None, typer.Option("--year", "-y", callback=lambda v: v if v is None else check_year(v),
                                             help="Rating year (default: the latest with scores).")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file (default $CITYSCORE_DB or "
                                                         "./cityscore.duckdb).")] = None,
    standard_ref: StandardOption = None,
) -> None:
    """The chain behind a published KPI score: score → annual value → monthly values → batches (file, SHA-256,
    rows, ingested at) → the standard version and policy. The same as GET /api/v1/settlements/{kato}/kpis/{id}/
    lineage."""
    registry = load_registry()
    kato = find_settlement(registry, settlement).kato
    std = standard(standard_ref)
    if std.kpi(kpi) is None:
        raise NotFoundError(f"No KPI '{kpi}' in {std.id}: `cityscore standard kpis` lists them.")
    repo = Repository(db or default_path(), std, registry)
    data = repo.lineage(kato, kpi, year)
    if fmt is OutputFormat.json:
        print_json(data)
        return
    if fmt is OutputFormat.csv:
        print_csv(data["batches"], [Column(k, lambda b, k=k: b[k]) for k in (
            "batch_id", "file_name", "sha256", "table", "rows_used", "ingested_at", "source")])
        return
    out = console()
    out.print(f"[bold]{data['name_ru']}[/] ({data['settlement']}) · KPI [bold]{kpi}[/] {data['name']['ru']} · "
              f"{data['year']}")
    score = data["score"]
    if score:
        out.print(f"Score {_num(score.get('score'), 3)} × weight {_num(score.get('weight'))} — actual "
                  f"{_num(score.get('actual'))} against {score.get('target_text') or _num(score.get('target'))}; "
                  f"rule: {score.get('rule') or '—'}; points at stake {_num(score.get('points_at_stake'))}")
    else:
        out.print(f"Does not count: {data['not_counted_reason'] or 'no outcome stored'}")
    if score and not score.get("has_data", True):
        out.print(f"[yellow]No data for {data['year']}: the KPI scores 0 in the official rating "
                  "(missing_data = zero, decisions.md D-21).[/]")
    annual = data["annual"] or {}
    if annual:
        out.print(f"Annual value {_num(annual.get('value'))} ({annual.get('method')}, {annual.get('observations')} "
                  f"period(s)): numerator {_num(annual.get('numerator'))}, denominator "
                  f"{_num(annual.get('denominator'))}, baseline {_num(annual.get('baseline'))}")
    if data["measure"]:
        out.print(f"Measure ({data['measure']['kind']}): {data['measure']['description']}")
    source = {"computed": "computed from raw records", "sent": "sent as values", "none": "no values"}[data["source"]]
    print_table(data["monthly"], [
        Column("Period", lambda m: _period(m["period_start"], m["period_end"]), no_wrap=True),
        Column("Value", lambda m: _num(m["value"]), justify="right", no_wrap=True),
        Column("Numerator", lambda m: _num(m["numerator"]), justify="right", no_wrap=True),
        Column("Denominator", lambda m: _num(m["denominator"]), justify="right", no_wrap=True),
        Column("Baseline", lambda m: _num(m["baseline"]), justify="right", no_wrap=True),
        Column("Rows", lambda m: _num(m["rows_used"]) if "rows_used" in m else f"row {m['row']}",
               justify="right", no_wrap=True),
    ], title=f"Values of {data['year']} ({source})")
    print_table(data["batches"], [
        Column("Batch", lambda b: b["batch_id"], justify="right", no_wrap=True),
        Column("File", lambda b: b["file_name"] or "—", fold=True),
        Column("Rows used", lambda b: _num(b["rows_used"]), justify="right", no_wrap=True),
        Column("Ingested at (UTC)", lambda b: (b["ingested_at"] or "—")[:16].replace("T", " "), no_wrap=True),
        Column("For", lambda b: ", ".join(b["roles"])),
    ], title="Batches")
    for b in data["batches"]:
        out.print(f"  batch {b['batch_id']} ({b['table']}): SHA-256 {b['sha256'] or '—'}", soft_wrap=True)
    run = data["run"]
    out.print(f"Standard {data['standard_version']} · policy {run.get('policy_name') or 'official'} · run "
              f"{run['run_id']} of {run['created_at'][:19]}")
    if data["stale"].get("stale"):
        out.print("[yellow]Data changed after this run: run `cityscore score` to publish new numbers.[/]")
