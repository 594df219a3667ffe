"""``cityscore score``, ``cityscore monitor`` and ``cityscore policy``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table as RichTable

from ..derived import compute_monitors, store_published
from ..errors import NotFoundError
from ..ingest import ReadReport, read_evidence, read_monitor_records, read_observations
from ..pipeline import check_standard_of_values, evidence_input, scoring_input, store_scores
from ..publishing.window import DAYS_TEXT, in_days
from ..scoring import WINDOWS, Evidence, Observation, ScoringPolicy, monitor, score_year
from ..scoring.engine import KpiOutcome, SettlementResult
from ..scoring.explain import improvements
from ..scoring.monitor import MONITOR_OVERALL_CAP, window_bounds
from ..scoring.views import result_json, run_json
from ..settlements import load_registry
from ..standard import CATEGORIES, Standard
from ..standard.views import target_label
from ..store import Warehouse
from ..store.changes import kpi_values_staleness
from ..store.provenance import simulated_settlements
from .common import (
    FormatOption,
    LangOption,
    StandardOption,
    check_lang,
    check_year,
    domain_errors,
    err_console,
    find_settlement,
    parse_day,
    standard,
)
from .output import Column, OutputFormat, console, print_csv, print_json, print_table
from .provenance import simulated_file

PolicyOption = Annotated[Path | None, typer.Option("--policy", help="YAML/JSON file of policy fields to change.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Change one policy field, e.g. --set cap=no_cap (repeatable; see `cityscore policy`)."),
]
ModeOption = Annotated[
    str, typer.Option("--mode", help="official (KPIs without data score 0) or monitoring (they are left out).")
]


def build_policy(mode: str, policy_file: Path | None, assignments: list[str] | None) -> ScoringPolicy:
    if mode not in ("official", "monitoring"):
        raise typer.BadParameter("use official or monitoring", param_hint="--mode")
    policy = ScoringPolicy.official() if mode == "official" else ScoringPolicy.monitoring()
    if policy_file is not None:
        policy = ScoringPolicy.from_file(policy_file, base=policy)
    if assignments:
        policy = policy.with_overrides(assignments)
    return policy


def report_input(report: ReadReport, label: str, limit: int = 15) -> None:
    """Rejected rows on stderr: the first ``limit`` errors and the counts."""
    for note in report.notes:
        err_console.print(f"[dim]{label}: {escape(report.file)}: {escape(note)}[/]")
    if not report.errors:
        return
    err_console.print(f"[yellow]{label}: {escape(report.file)}: {report.rejected} of {report.rows} row(s) rejected "
                      f"({len(report.errors)} problem(s)); the other rows are used.[/]")
    for error in report.errors[:limit]:
        err_console.print(f"  {escape(error.render())}")
    if len(report.errors) > limit:
        err_console.print(f"  … and {len(report.errors) - limit} more (all of them are in --format json)")


@domain_errors
def score(
    year: Annotated[int, typer.Option("--year", "-y", callback=check_year, help="The rating year.")],
    observations: Annotated[
        Path | None, typer.Option("--observations", "-o", help="KPI observations (CSV, Parquet, JSON). Without it "
                                                               "the warehouse is scored and the result stored.")
    ] = None,
    additional: Annotated[
        Path | None, typer.Option("--additional", "-a", help="Evidence on additional initiatives (bonus).")
    ] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category.")] = None,
    settlement: Annotated[
        str | None, typer.Option("--settlement", "-s", help="Explain this settlement (KATO code or name); the run "
                                                           "is not stored.")
    ] = None,
    all_settlements: Annotated[
        bool, typer.Option("--all-settlements", help="Rate every settlement of the registry, not only those in "
                                                      "the files (those without data score 0).")
    ] = False,
    policy_file: PolicyOption = None,
    assignments: SetOption = None,
    mode: ModeOption = "official",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any input row is rejected.")] = False,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file, when scoring the warehouse.")] = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = "ru",
    standard_ref: StandardOption = None,
) -> None:
    """Compute CityScore-Kazakhstan for a year: KPI scores, section indices, bonus, bands, ranks per category."""
    check_lang(lang)
    if category is not None and category not in CATEGORIES:
        raise typer.BadParameter("use republican, oblast or district", param_hint="--category")
    std = standard(standard_ref)
    registry = load_registry()
    policy = build_policy(mode, policy_file, assignments)
    chosen = [s.kato for s in registry.settlements] if all_settlements else None
    obs_report: ReadReport | None = None
    ev_report: ReadReport | None = None
    if observations is not None:
        rows, obs_report = read_observations(observations, std, registry)
        report_input(obs_report, "observations")
        evidence, ev_report = ([], None) if additional is None else read_evidence(additional, registry)
        if ev_report is not None:
            report_input(ev_report, "additional initiatives")
        simulated = _simulated_rows(observations, rows) | _simulated_rows(additional, evidence)
        run = score_year(std, policy, registry, observations=rows, evidence=evidence, year=year, settlements=chosen)
    else:
        with Warehouse(db) as wh:
            stale = kpi_values_staleness(wh, year)
            if stale.stale:
                err_console.print(f"[yellow]The KPI values of {year} are stale: since they were computed "
                                  f"({stale.since:%Y-%m-%d %H:%M} UTC) the data changed — {escape(stale.describe())}. "
                                  f"Run `cityscore compute --year {year}` first; scoring them as they are.[/]")
            check_standard_of_values(wh, std, year)
            rows = scoring_input(wh, (year - 1, year))
            if not rows:
                raise NotFoundError(f"The warehouse {wh.path} has no KPI values for {year}: ingest data and run "
                                    f"`cityscore compute --year {year}`, or give --observations FILE.")
            evidence = evidence_input(wh)
            simulated = simulated_settlements(wh, year)
            if additional is not None:
                extra, ev_report = read_evidence(additional, registry)
                report_input(ev_report, "additional initiatives")
                evidence += extra
                simulated |= _simulated_rows(additional, extra)
            run = score_year(std, policy, registry, observations=rows, evidence=evidence, year=year,
                             settlements=chosen)
            if settlement is not None:  # explaining one settlement publishes nothing
                err_console.print("[dim]Not stored: --settlement explains one settlement; `cityscore score --year "
                                  f"{year}` without it stores and publishes the run.[/]")
            else:
                run_id = store_scores(wh, std, registry, run, source=str(wh.path), simulated=simulated)
                monitored = store_published(wh, std, registry, run, run_id, observations=rows, evidence=evidence)
                err_console.print(f"[dim]Stored as scoring run {run_id} in {wh.path}, with its monthly trend"
                                  + (" and the daily monitor." if monitored is not None else " (no daily values "
                                     "to monitor: `cityscore compute --grain day`).") + "[/]")
    results = [r for r in run.results if category is None or r.category == category]
    if settlement is not None:
        found = find_settlement(registry, settlement)
        results = [r for r in results if r.settlement == found.kato]
        if not results:
            raise NotFoundError(f"{found.name_ru} ({found.kato}) has no observations for {year}.")
    rejected = (obs_report.rejected if obs_report else 0) + (ev_report.rejected if ev_report else 0)
    if fmt is OutputFormat.json:
        inputs: dict[str, object] = {"observations": obs_report.to_json() if obs_report else "warehouse"}
        if ev_report is not None:
            inputs["additional"] = ev_report.to_json()
        data = run_json(std, registry, run, simulated=simulated, input=inputs)
        data["results"] = [result_json(std, registry, r, simulated=r.settlement in simulated) for r in results]
        print_json(data)
    elif fmt is OutputFormat.csv:
        print_csv(results, _csv_columns(std, registry, run.policy))
    elif settlement is not None:
        _print_explanation(std, results[0], lang)
    else:
        _print_rating(std, results, lang, run.policy)
    if strict and rejected:
        raise typer.Exit(1)


def _simulated_rows(path: Path | None, rows: Sequence[Observation | Evidence]) -> frozenset[str]:
    """The settlements of ``rows`` when they were read from a file the simulator wrote (decisions.md D-68)."""
    if path is None or not simulated_file(path):
        return frozenset()
    return frozenset(r.settlement for r in rows)


def _csv_columns(std: Standard, registry: object, policy: ScoringPolicy) -> list[Column]:
    reg = load_registry()
    changed = ";".join(f"{k}={v}" for k, v in policy.differences().items())
    columns = [
        Column("settlement", lambda r: r.settlement),
        Column("name_ru", lambda r: reg.get(r.settlement).name_ru),  # type: ignore[union-attr]
        Column("category", lambda r: r.category), Column("rank", lambda r: r.rank),
        Column("movement", lambda r: r.movement), Column("cityscore", lambda r: r.cityscore),
        Column("cityscore_uncapped", lambda r: round(r.uncapped, 4)), Column("bonus", lambda r: r.bonus),
        Column("band", lambda r: next(b.name.ru for b in std.bands if b.id == r.band)),
        Column("coverage", lambda r: round(r.coverage, 1)),
    ]
    columns += [Column(f"section_{s.id}", lambda r, s=s.id: round(r.sections[s].index, 4)) for s in std.sections]
    columns += [Column("standard_version", lambda r: std.id), Column("policy", lambda r: policy.name),
                Column("policy_changes", lambda r: changed)]
    return columns


def _print_rating(std: Standard, results: list[SettlementResult], lang: str, policy: ScoringPolicy) -> None:
    registry = load_registry()
    bands = {b.id: b.name.in_lang(lang) for b in std.bands}
    for category in CATEGORIES:
        rows = [r for r in results if r.category == category]
        if not rows:
            continue
        columns = [
            Column("Rank", lambda r: r.rank, justify="right", no_wrap=True),
            Column("±", lambda r: "" if r.movement is None else ("=" if r.movement == 0 else f"{r.movement:+d}"),
                   no_wrap=True),
            Column("Settlement", lambda r: registry.get(r.settlement).name(lang), min_width=14),  # type: ignore[union-attr]
            Column("CityScore", lambda r: f"{r.cityscore:.1f}", justify="right", no_wrap=True),
            Column("Band", lambda r: bands[r.band], no_wrap=True),
            Column("Coverage", lambda r: f"{r.coverage:.0f}%", justify="right", no_wrap=True),
            Column("Bonus", lambda r: f"+{r.bonus:g}" if r.bonus else "", justify="right", no_wrap=True),
            Column("KATO", lambda r: r.settlement, wide=True, no_wrap=True),
        ]
        title = f"CityScore-Kazakhstan {rows[0].year} — {std.category(category).name.in_lang(lang)}"
        print_table(rows, columns, title=title)
    changed = policy.differences()
    note = "default policy" if not changed else "policy: " + ", ".join(f"{k}={v}" for k, v in changed.items())
    console().print(f"[dim]{std.id} · {note} · explain one settlement with --settlement KATO[/]")


def _target_cell(std: Standard, category: str, outcome: KpiOutcome) -> str:
    """The whole target of the settlement's category as the catalog gives it (``≥ 60–70``, ``−5–10 %``, the text of
    a compliance or stabilisation target), and the value applied when a range was resolved to one (``→ ≥ 60``)."""
    kpi = std.kpi(outcome.kpi)
    target = kpi.targets.target(category) if kpi is not None else None  # type: ignore[arg-type]
    if target is None:
        return _compact_target(outcome)
    label = target_label(target)
    if target.is_range and outcome.target is not None:
        label += f" → {target_label(target.model_copy(update={'value': outcome.target}))}"
    return escape(label)


def _compact_target(outcome: KpiOutcome) -> str:
    """A compact target: ``≥ 95``, ``−5 %``, or the printed text for compliance and stabilisation."""
    if outcome.target is None:
        if outcome.target_kind == "compliance":
            return "norms"
        return escape(outcome.target_text or "—")
    if outcome.target_kind == "reduction":
        return f"−{outcome.target:g} %"
    if outcome.target_kind == "growth":
        return f"+{outcome.target:g} %"
    if outcome.target_kind == "compliance":
        return "100 %"
    return f"{outcome.comparator or ''} {outcome.target:g}".strip()


def _actual_cell(outcome: KpiOutcome) -> str:
    if not outcome.has_data:
        return "[dim]—[/]"
    if outcome.actual is None and outcome.annual is not None and outcome.annual.components:
        return f"{len(outcome.annual.components)} parts"
    return _fmt(outcome.actual, 2)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _print_explanation(std: Standard, result: SettlementResult, lang: str) -> None:
    registry = load_registry()
    settlement = registry.get(result.settlement)
    assert settlement is not None
    out = console()
    band = next(b for b in std.bands if b.id == result.band)
    out.rule(f"[bold]{settlement.name(lang)} · CityScore {result.cityscore:.1f} · {band.name.in_lang(lang)}")
    out.print(f"{std.category(result.category).name.in_lang(lang)}, rank {result.rank}"
              + (f" (last year {result.previous_rank})" if result.previous_rank else "")
              + f" · base {result.base:.2f} + bonus {result.bonus:g} · coverage {result.coverage:.0f}% of the weight")
    sections = RichTable(title="Sections", header_style="bold")
    for header in ("Section", "Index", "Weight", "Share"):
        sections.add_column(header, justify="left" if header == "Section" else "right")
    for s in std.sections:
        detail = result.sections[s.id]
        weight = f"{detail.weight:.1f}" + (" (redistributed)" if detail.redistributed else "")
        share = "—" if detail.share is None else f"{100 * detail.share:.0f}%"
        sections.add_row(s.name.in_lang(lang), f"{detail.index:.2f}", weight, share)
    out.print(sections)
    rows = [o for o in result.kpis if o.counts]
    print_table(rows, [
        Column("KPI", lambda o: o.kpi, no_wrap=True),
        Column("Name", lambda o: std.kpi(o.kpi).name.in_lang(lang), min_width=16, fold=True),  # type: ignore[union-attr]
        Column("Actual", lambda o: _actual_cell(o), justify="right", no_wrap=True),
        Column("Target", lambda o: _target_cell(std, result.category, o), max_width=14),  # wraps, never cut
        Column("Score", lambda o: _fmt(o.score, 2), justify="right", no_wrap=True),
        Column("Weight", lambda o: _fmt(o.weight, 2), justify="right", no_wrap=True),
        Column("Stake", lambda o: _fmt(o.points_at_stake, 2), justify="right", no_wrap=True),
    ], title="KPIs that count (— no data; Stake = weight × (1 − score), the points a KPI can still add)")
    best = improvements(std, result, 5)
    if best:
        out.print("[bold]What would raise the score most:[/]")
        for item in best:
            action = "report its data" if not item.has_data else f"reach {item.target_text}"
            out.print(f"  +{item.points_at_stake:.2f}  {item.kpi} {item.name_ru if lang == 'ru' else item.name_en}"
                      f" — {action}")
    skipped = [o for o in result.kpis if not o.counts and o.reason]
    if skipped:
        out.print(f"[dim]{len(skipped)} KPIs do not count for this settlement this year (see --format json).[/]")


def _optional_year(year: int | None) -> int | None:
    return None if year is None else check_year(year)


@domain_errors
def monitor_cmd(
    records: Annotated[
        Path | None, typer.Option("--records", "-r", help="Metric records (CSV, Parquet, JSON). Without it the "
                                                          "daily KPI values of the warehouse are monitored.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Last day of the windows (YYYY-MM-DD); default: the latest date "
                                                 "in the records, or each settlement's last day with daily values.")
    ] = None,
    settlement: Annotated[str | None, typer.Option("--settlement", "-s", help="Only this settlement.")] = None,
    year: Annotated[
        int | None, typer.Option("--year", "-y", callback=_optional_year,
                                 help="Warehouse: the default --as-of is the last day with daily values of this "
                                      "year.")
    ] = None,
    overall_cap: Annotated[
        float, typer.Option("--overall-cap", min=1.0, help="In the overall of a window each metric counts at most "
                                                           "this much (decisions.md D-39; a large number gives "
                                                           "Boston's plain mean).")
    ] = MONITOR_OVERALL_CAP,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file, when monitoring the warehouse.")] = None,
    fmt: FormatOption = OutputFormat.table,
    standard_ref: StandardOption = None,
) -> None:
    """Boston-CityScore-style monitor: a score per metric for the day, week, month and quarter (1.0 = on target).

    Without --records, the warehouse's daily KPI values (`cityscore compute --grain day`) by the same rules as the
    API and the dashboard: only the KPIs that count for the settlement in that year, reductions and growth against
    their baseline, monthly amounts on their monthly scale, no day score for a KPI published monthly.
    """
    day = None if as_of is None else parse_day(as_of, "--as-of")
    std = standard(standard_ref)
    registry = load_registry()
    kato = None if settlement is None else find_settlement(registry, settlement).kato
    if records is None:
        _monitor_warehouse(std, db, kato=kato, day=day, year=year, overall_cap=overall_cap, fmt=fmt)
        return
    rows, report = read_monitor_records(records, std, registry)
    report_input(report, "records")
    if kato is not None:
        rows = [r for r in rows if r.settlement == kato]
    if not rows:
        raise NotFoundError(f"No usable records in {records}.")
    if day is None:
        dates = [r.date for r in rows if r.date is not None]
        if not dates:
            raise typer.BadParameter("the records have no dates; give --as-of", param_hint="--as-of")
        day = max(dates)
        if not in_days(day):
            raise typer.BadParameter(f"the latest date in the records, {day.isoformat()}, is outside {DAYS_TEXT}; "
                                     "give --as-of", param_hint="--as-of")
    results = monitor(rows, as_of=day, overall_cap=overall_cap)
    end = results[0].as_of
    windows_json = {w: {"start": window_bounds(end, w)[0].isoformat(), "end": end.isoformat(), "days": n}
                    for w, n in WINDOWS.items()}
    if fmt is OutputFormat.json:
        if len(results) == 1:
            one = results[0]
            print_json({"as_of": end.isoformat(), "windows": windows_json, "settlement": one.settlement,
                        "metrics": one.metrics, "overall": one.overall, "overall_cap": overall_cap,
                        "input": report.to_json()})
        else:
            print_json({"as_of": end.isoformat(), "windows": windows_json, "overall_cap": overall_cap,
                        "settlements": [r.to_json() for r in results], "input": report.to_json()})
        return
    _print_monitor(std, [(r.settlement, r.metrics, r.overall) for r in results], fmt,
                   title=f"CityScore monitor as of {end.isoformat()}",
                   caption=f"1.00 = on target; above 1 better than target; — no cases in the window; in the overall "
                           f"each metric counts at most {overall_cap:g}")


def _monitor_warehouse(std: Standard, db: Path | None, *, kato: str | None, day: date | None, year: int | None,
                       overall_cap: float, fmt: OutputFormat) -> None:
    """``cityscore monitor`` on the warehouse: :func:`cityscore.derived.compute_monitors`, as the API computes it."""
    if day is not None and year is not None and day.year != year:
        raise typer.BadParameter(f"--as-of {day.isoformat()} is not in --year {year}", param_hint="--as-of")
    registry = load_registry()
    with Warehouse(db, read_only=True) as wh:
        found = compute_monitors(wh, std, registry, settlement=kato, as_of=day, year=year, overall_cap=overall_cap)
        path = wh.path
    if not found:
        scope = (f" for {kato}" if kato else "") + (f" in {year}" if year else "")
        raise NotFoundError(f"The warehouse {path} has no daily KPI values{scope}: run "
                            f"`cityscore compute --year {year or 'YEAR'} --grain day`, or give --records FILE.")
    monitors = [m for _, m in found]
    if fmt is OutputFormat.json:
        if len(monitors) == 1:
            print_json({**monitors[0].to_json(), "input": {"warehouse": str(path)}})
        else:
            days = {m.as_of for m in monitors}
            shared = monitors[0] if len(days) == 1 else None
            print_json({"as_of": shared.as_of.isoformat() if shared else None,
                        "windows": shared.windows() if shared else None, "overall_cap": overall_cap,
                        "settlements": [m.to_json() for m in monitors], "input": {"warehouse": str(path)}})
        return
    ends = sorted({m.as_of for m in monitors})
    when = ends[0].isoformat() if len(ends) == 1 else f"{ends[0].isoformat()} … {ends[-1].isoformat()}"
    _print_monitor(std, [(m.settlement, m.metrics, m.overall) for m in monitors], fmt,
                   title=f"CityScore monitor as of {when} ({path.name})",
                   caption=f"1.00 = on target; — no data in the window, or no day score for a KPI published monthly; "
                           f"only the KPIs that count for the settlement this year; in the overall each KPI counts "
                           f"at most {overall_cap:g} (decisions.md D-39, D-63)")


def _print_monitor(std: Standard, results: list[tuple[str | None, dict[str, dict[str, float | None]],
                                                      dict[str, float | None]]],
                   fmt: OutputFormat, *, title: str, caption: str) -> None:
    """The monitor as CSV or as a table: one row per settlement and metric, and one for the overall."""
    registry = load_registry()
    flat = []
    for kato, metrics, overall in results:
        for metric, scores in metrics.items():
            flat.append({"settlement": kato, "metric": metric, **scores})
        flat.append({"settlement": kato, "metric": "overall", **overall})
    columns = [Column("settlement", lambda r: r["settlement"]), Column("metric", lambda r: r["metric"])]
    columns += [Column(w, lambda r, w=w: None if r[w] is None else round(r[w], 4), justify="right")
                for w in WINDOWS]
    if fmt is OutputFormat.csv:
        print_csv(flat, columns)
        return
    show = [Column("Settlement", lambda r: (registry.get(r["settlement"]).name_ru  # type: ignore[union-attr]
                                            if r["settlement"] else "—"), wide=True),
            Column("Metric", lambda r: "[bold]overall[/]" if r["metric"] == "overall" else _metric_name(std,
                                                                                                         r["metric"]))]
    show += [Column(w.capitalize(), lambda r, w=w: _score_cell(r[w]), justify="right", no_wrap=True)
             for w in WINDOWS]
    print_table(flat, show, title=title, caption=caption)


def _metric_name(std: Standard, metric: str) -> str:
    kpi = std.kpi(metric)
    return f"{metric} {kpi.name.ru}" if kpi else metric


def _score_cell(value: float | None) -> str:
    if value is None:
        return "—"
    colour = "green" if value >= 1 else "yellow" if value >= 0.9 else "red"
    return f"[{colour}]{value:.2f}[/]"


@domain_errors
def policy_cmd(
    policy_file: PolicyOption = None,
    assignments: SetOption = None,
    mode: ModeOption = "official",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or yaml.")] = "table",
) -> None:
    """The scoring policy: every unstated rule of Appendix 5, its value, default and alternatives."""
    policy = build_policy(mode, policy_file, assignments)
    rows = [{**row, "value": getattr(policy, str(row["field"]))} for row in ScoringPolicy.describe()]
    if fmt == "json":
        print_json({"policy": policy.model_dump(), "rules": rows})
    elif fmt == "yaml":
        typer.echo(yaml.safe_dump(policy.model_dump(), allow_unicode=True, sort_keys=False), nl=False)
    elif fmt == "table":
        print_table(rows, [
            Column("Field", lambda r: r["field"], no_wrap=True),
            Column("Value", lambda r: r["value"] if r["value"] == r["default"] else f"[bold yellow]{r['value']}[/]",
                   no_wrap=True),
            Column("Alternatives", lambda r: ", ".join(a for a in r["alternatives"] if a != r["value"])),
            Column("Decision", lambda r: r["decision"], no_wrap=True),
            Column("Rule", lambda r: r["description"], wide=True),
        ], title=f"Scoring policy '{policy.name}'", caption="docs/decisions.md argues every default")
    else:
        raise typer.BadParameter("use table, json or yaml", param_hint="--format")
