"""``cityscore demo``: the main command — simulate a year of data, ingest it, compute the KPIs, score and rate,
then serve the dashboard on the result and print its URL.

Everything runs on the embedded default (one DuckDB file). Running it again reuses what is already there: the
simulation is deterministic, so its files are the same and their ingestion changes nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..api import server
from ..derived import store_published
from ..ingest.loader import ingest_file
from ..ingest.pseudonym import Pseudonymiser, load_key
from ..pipeline import compute_kpis, evidence_input, scoring_input, store_scores
from ..scoring import ScoringPolicy, score_year
from ..settings import check_for_serving, get_settings
from ..settlements import load_registry
from ..simulate import load_manifest, plan, simulate
from ..store import Warehouse
from ..store.provenance import mark_simulated
from .common import StandardOption, check_year, domain_errors, err_console, home, standard
from .output import console
from .score import _print_rating
from .serve import DEFAULT_HOST, DEFAULT_PORT, HostOption, announce

DEFAULT_SCALE = 0.02


@domain_errors
def demo(
    year: Annotated[int, typer.Option("--year", "-y", callback=check_year,
                                      help="The year to simulate and rate.")] = 2026,
    scale: Annotated[float, typer.Option(
        "--scale", help="Share of the real volume of records to simulate (each row then stands for 1/scale "
                        "records).")] = DEFAULT_SCALE,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    workdir: Annotated[Path, typer.Option("--dir", help="Where the simulated files go.")] = Path("demo-data"),
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file (default $CITYSCORE_DB or "
                                                         "./cityscore.duckdb).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="ru, kk or en.")] = "ru",
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="End by serving the dashboard (Ctrl+C "
                                                                    "stops it).")] = True,
    host: HostOption = DEFAULT_HOST,
    port: Annotated[int | None, typer.Option("--port", "-p", min=1, max=65535, help=(
        f"Port of the dashboard (default: {DEFAULT_PORT}, or the next free one)."), show_default=False)] = None,
    standard_ref: StandardOption = None,
) -> None:
    """Simulate → ingest → compute → score → rate on the embedded warehouse, show the ratings, and serve the
    dashboard on them."""
    if serve:
        check_for_serving(get_settings())  # production without a strong secret: say so now, not after the work
    std, registry = standard(standard_ref), load_registry()
    policy = ScoringPolicy()
    out = console()
    out.rule(f"[bold]CityScore-KZ demo · {std.id} · {year}")
    started = time.perf_counter()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    data_dir = workdir / f"{year}-scale{scale:g}-seed{seed}"
    with Progress(*columns, console=err_console) as progress:
        expected = sum(sum(per.values()) for per in plan(year, scale=scale, seed=seed).values())
        task = progress.add_task("Simulating raw records for 213 settlements", total=expected)
        manifest_file = data_dir / "manifest.json"
        if manifest_file.exists():
            manifest = load_manifest(manifest_file)
            progress.update(task, completed=expected, description="Simulated records found")
        else:
            manifest = simulate(year, data_dir, scale=scale, seed=seed,
                                progress=lambda _label, n: progress.advance(task, n))
            progress.update(task, completed=expected)
        pseudonymiser = Pseudonymiser(load_key(home()))
        with Warehouse(db) as wh:
            total_rows = sum(manifest.rows.values())
            task = progress.add_task("Ingesting into the warehouse", total=total_rows)
            for table, path in sorted(manifest.files.items()):
                report = ingest_file(wh, path, std=std, registry=registry, pseudonymiser=pseudonymiser,
                                     table=table, progress=lambda n: progress.advance(task, n))
                if report.batch_id is not None:  # the demo's data is simulated, and its results say so (D-68)
                    mark_simulated(wh, [report.batch_id])
                if report.duplicate_batch:
                    progress.advance(task, manifest.rows.get(table, 0))
                elif report.rejected:
                    err_console.print(f"[yellow]{path.name}: {report.rejected} rows rejected[/]")
            task = progress.add_task("Computing KPIs from raw records (months, days)", total=2)
            compute_kpis(wh, std, registry, policy, year=year)  # baselines: the same months a year earlier
            progress.advance(task)
            compute_kpis(wh, std, registry, policy, year=year, grain="day")  # the dashboard's monitor
            progress.advance(task)
            task = progress.add_task("Scoring and rating", total=1)
            observations, evidence = scoring_input(wh, (year,)), evidence_input(wh)
            run = score_year(std, policy, registry, observations=observations, evidence=evidence, year=year,
                             settlements=[s.kato for s in registry.settlements])
            run_id = store_scores(wh, std, registry, run, source=f"demo {data_dir}")
            progress.advance(task)
            task = progress.add_task("Storing the monthly trend and the daily monitor", total=1)
            store_published(wh, std, registry, run, run_id, observations=observations, evidence=evidence)
            progress.advance(task)
            wh_path = wh.path
    _print_rating(std, list(run.results), lang, policy)
    bands: dict[str, int] = {}
    for r in run.results:
        bands[r.band] = bands.get(r.band, 0) + 1
    summary = ", ".join(f"{b.name.in_lang(lang)} {bands.get(b.id, 0)}" for b in std.bands)
    out.print(f"\n{len(run.results)} settlements rated in {time.perf_counter() - started:.0f} s — {summary}.")
    out.print(f"Warehouse: {wh_path} (scoring run {run_id}); simulated files: {data_dir}.")
    out.print("Explain a settlement: [bold]cityscore score --year "
              f"{year} --settlement Астана[/]  ·  policy: [bold]cityscore policy[/]")
    if not serve:
        out.print(f"Serve the dashboard: [bold]cityscore serve --db {wh_path}[/]")
        return
    chosen = server.choose_port(host, port) if port is not None else server.choose_port(host, DEFAULT_PORT,
                                                                                         search=20)
    announce(host, chosen)
    server.run(wh_path, host=host, port=chosen, standard_ref=standard_ref)
