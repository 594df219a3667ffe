"""``cityscore simulate``: realistic synthetic raw records and KPI values for every settlement, ready to ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..settlements import load_registry
from ..simulate import plan
from ..simulate import simulate as run_simulation
from .common import StandardOption, check_year, domain_errors, err_console, standard
from .output import Column, OutputFormat, console, print_csv, print_json, print_table


@domain_errors
def simulate(
    year: Annotated[int, typer.Option("--year", "-y", callback=check_year,
                                      help="The rating year to simulate (incidents and journeys also get the year "
                                           "before, for the baselines).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the files (created if needed; files of an "
                                                          "earlier run are replaced).")],
    scale: Annotated[float, typer.Option("--scale", min=1e-6, max=1.0, help="Share of the records written: 1.0 "
                                                                             "= every record (Astana ≈ 1.8 M calls "
                                                                             "a year); 0.01 = a 1 % sample with "
                                                                             "weights.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives byte-identical files.")] = 0,
    settlements: Annotated[list[str] | None, typer.Option("--settlement", "-s", help="Only this settlement (KATO "
                                                                                    "code or name); repeatable.")]
    = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json (the manifest) or csv.",
                                              case_sensitive=False)] = OutputFormat.table,
    standard_ref: StandardOption = None,
) -> None:
    """Write one Parquet file per raw table, observations.csv, additional.csv and manifest.json for YEAR: volumes
    proportional to population, quality driven by each settlement's simulated performance. Then: `cityscore ingest
    DIR/*.parquet DIR/observations.csv DIR/additional.csv`, `cityscore compute`, `cityscore score`."""
    std, registry = standard(standard_ref), load_registry()
    expected = plan(year, scale=scale, seed=seed, settlements=settlements, std=std, registry=registry)
    total = sum(sum(rows.values()) for rows in expected.values())
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=fmt is OutputFormat.json) as progress:
        task = progress.add_task("simulating", total=total or None)

        def advance(table: str, rows: int) -> None:
            progress.update(task, description=table, advance=rows if table in expected else 0)

        manifest = run_simulation(year, out, scale=scale, seed=seed, progress=advance, settlements=settlements,
                                  std=std, registry=registry)
    if fmt is OutputFormat.json:
        print_json(manifest.to_json())
        return
    rows = [{"table": name, "rows": manifest.rows[name], "file": str(path)} for name, path in manifest.files.items()]
    if fmt is OutputFormat.csv:
        print_csv(rows, [Column(h.capitalize(), lambda r, h=h: r[h]) for h in ("table", "rows", "file")])
        return
    columns = [Column("Table", lambda r: r["table"], no_wrap=True),
               Column("Rows", lambda r: f"{r['rows']:,}".replace(",", " "), justify="right"),
               Column("File", lambda r: escape(r["file"]))]
    print_table(rows, columns, title=f"Simulated data for {year} (scale {scale:g}, seed {seed})",
                caption=f"{len(manifest.profiles)} settlements · manifest: {escape(str(out / 'manifest.json'))}")
    console().print(f"Next: [bold]cityscore ingest {escape(str(out))}/*.parquet {escape(str(out))}/observations.csv "
                    f"{escape(str(out))}/additional.csv[/], then [bold]cityscore compute --year {year}[/] and "
                    f"[bold]cityscore score --year {year}[/].")
