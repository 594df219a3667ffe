"""``cityscore demo``: the main command. Shows the standard and the settlements it rates."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from ..settlements import load_registry
from ..standard.views import legibility
from .common import StandardOption, domain_errors, standard
from .output import console


@domain_errors
def demo(standard_ref: StandardOption = None) -> None:
    """Show the catalog of the standard and the settlement registry it rates."""
    std = standard(standard_ref)
    registry = load_registry()
    out = console()
    out.rule(f"[bold]CityScore-KZ · {std.id}")
    out.print(f"{std.title.ru}\nOrder No. {std.order.number} of {std.order.date}, in force from {std.order.in_force}.")

    sections = Table(title="Scoring sections (Appendix 5)", header_style="bold")
    sections.add_column("Section")
    sections.add_column("Weight", justify="right")
    sections.add_column("KPIs", justify="right")
    per_section = Counter(k.section for k in std.kpis)
    for s in std.sections:
        sections.add_row(s.name.ru, f"{s.weight:g}", str(per_section[s.id]))
    out.print(sections)

    initiatives = Table(title="Base initiatives and the legibility of their KPI tables", header_style="bold")
    for header in ("№", "Initiative", "Р", "О", "Рц", "KPIs legible", "provisional", "table"):
        initiatives.add_column(header)
    counts = {c.initiative: c for c in legibility(std)}
    for i in std.initiatives:
        stages = [f"{st.stage}" if (st := i.categories[c]) else "—" for c in ("republican", "oblast", "district")]
        c = counts[i.number]
        initiatives.add_row(str(i.number), i.name.ru, *stages, str(c.legible), str(c.provisional), c.status)
    out.print(initiatives)

    regions = Table(title="Settlements rated, by region", header_style="bold")
    for header in ("Region", "republican", "oblast", "district"):
        regions.add_column(header, justify="left" if header == "Region" else "right")
    for region in registry.regions:
        members = [s for s in registry.settlements if s.region_code == region.code]
        regions.add_row(region.name_ru, *[str(sum(s.category == c for s in members))
                                          for c in ("republican", "oblast", "district")])
    regions.add_row("[bold]Total", *[f"[bold]{len(registry.of_category(c))}"
                                     for c in ("republican", "oblast", "district")])
    out.print(regions)
    out.print("Next: [bold]cityscore standard kpis[/], [bold]cityscore standard kpi 1.8[/], "
              "[bold]cityscore settlements --category oblast[/].")
