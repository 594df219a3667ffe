"""``cityscore settlements``: the registry of the 213 settlements the standard rates."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import NotFoundError
from ..settlements import Settlement, load_registry
from .common import FormatOption, LangOption, check_lang, domain_errors
from .output import Column, OutputFormat, print_csv, print_json, print_table


@domain_errors
def settlements(
    category: Annotated[
        str | None, typer.Option("--category", "-c", help="republican, oblast or district.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", "-r", help="2-digit KATO region code or region name.")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Part of a name (ru, kk or en) or KATO code.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = "ru",
) -> None:
    """List the settlements rated by the standard, with KATO codes, categories, population and coordinates."""
    check_lang(lang)
    registry = load_registry()
    if category is not None and category not in ("republican", "oblast", "district"):
        raise typer.BadParameter("use republican, oblast or district", param_hint="--category")
    rows = list(registry.settlements)
    if category:
        rows = [s for s in rows if s.category == category]
    if region:
        found = registry.find_region(region)
        if found is None:
            raise NotFoundError(f"No region '{region}'. Regions: " + ", ".join(
                f"{r.code} {r.name_ru}" for r in registry.regions))
        rows = [s for s in rows if s.region_code == found.code]
    if search:
        rows = [s for s in rows if s.matches(search)]
    if fmt is OutputFormat.json:
        print_json([s.to_json() for s in rows])
        return
    if fmt is OutputFormat.csv:
        print_csv(rows, [Column(name, lambda s, name=name: getattr(s, name)) for name in Settlement.model_fields])
        return
    columns = [
        Column("KATO", lambda s: s.kato, no_wrap=True),
        Column("Settlement", lambda s: s.name(lang), min_width=12),
        Column("Category", lambda s: s.category, no_wrap=True),
        Column("Kind", lambda s: s.kind.replace("_", " "), wide=True),
        Column("Region", lambda s: registry.region_name(s.region_code, lang), min_width=12),
        Column("Population", lambda s: f"{s.population:,}".replace(",", " ") if s.population else None,
               justify="right", no_wrap=True),
        Column("Source", lambda s: f"{s.population_source} {s.population_date or ''}".strip()
               if s.population_source else None, wide=True, no_wrap=True),
        Column("Lat, lon", lambda s: f"{s.latitude:.3f}, {s.longitude:.3f}" if s.latitude is not None
               and s.longitude is not None else None, wide=True, no_wrap=True),
    ]
    counts = {c: sum(1 for s in rows if s.category == c) for c in ("republican", "oblast", "district")}
    caption = (f"{len(rows)} settlements — republican {counts['republican']}, oblast {counts['oblast']}, "
               f"district {counts['district']} · {registry.attribution_short}")
    print_table(rows, columns, title="Settlements rated by the standard", caption=caption)
