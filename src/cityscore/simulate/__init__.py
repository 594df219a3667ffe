"""Synthetic but realistic data for every settlement: raw record files and KPI values, ready for ``cityscore ingest``.

``simulate(year, out)`` writes one Parquet file per raw table (``<table>.parquet``, the columns of
``cityscore.records.SCHEMAS``), ``observations.csv`` (KPIs no measure computes), ``additional.csv`` (additional
initiatives for the bonus) and ``manifest.json``. ``plan(year)`` gives the expected rows per table and settlement
without generating anything. The same seed gives byte-identical files; generation is per settlement and table,
streamed to Parquet, so memory stays bounded at any scale.

How it is built (each module documents its rates and their sources):

- :mod:`.profiles` — a latent performance per settlement (stratified within each category, so ratings spread over
  all bands), the initiatives it has implemented (Appendix 2 stages × a probability rising with performance);
- :mod:`.volumes` — volumes per resident calibrated on Astana's 109 centre and national statistics, seasonality,
  sampling with weights at ``scale`` < 1;
- :mod:`.services`, :mod:`.city` — the raw tables; :mod:`.values` — observations and additional initiatives;
- :mod:`.planning` — which tables and years each settlement has, and the expected rows.

Scale: 1.0 writes every record (Astana: ≈ 1.8 M calls a year); a smaller scale samples the weighted tables
(``weight`` = records per row) and thins the unweighted ones (probes, air-quality days, stop-event hours,
validation rows), keeping a floor of rows per month wherever a KPI needs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CityScoreError
from ..records import SCHEMAS
from ..settlements import Registry, load_registry
from ..standard import Standard, load_standard
from .context import Context
from .planning import GENERATORS, expected, present, years
from .profiles import Profile, build_profiles
from .values import additional_rows, observation_rows, write_additional, write_observations
from .writer import TableWriter

Progress = Callable[[str, int], None]
OBSERVATIONS_FILE, ADDITIONAL_FILE, MANIFEST_FILE = "observations.csv", "additional.csv", "manifest.json"


class SimulationError(ValueError, CityScoreError):
    """The simulation cannot run as asked (bad scale, unknown settlement)."""


@dataclass(frozen=True)
class Manifest:
    """What :func:`simulate` wrote."""

    year: int
    scale: float
    seed: int
    files: dict[str, Path]  # table → file: raw tables with data, "observations", "additional_initiatives"
    rows: dict[str, int]  # table → rows written
    profiles: dict[str, dict[str, float]]  # KATO → {"performance": …, "digital": …, "initiative_N": 0/1, …}

    def to_json(self, *, relative: bool = False) -> dict[str, object]:
        return {"year": self.year, "scale": self.scale, "seed": self.seed,
                "files": {k: (v.name if relative else str(v)) for k, v in self.files.items()},
                "rows": dict(self.rows), "profiles": self.profiles}


def load_manifest(path: Path) -> Manifest:
    """The manifest of an earlier :func:`simulate` from its ``manifest.json`` (files relative to its folder)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
        return Manifest(int(data["year"]), float(data["scale"]), int(data["seed"]),
                        {k: path.parent / v for k, v in data["files"].items()},
                        {k: int(v) for k, v in data["rows"].items()},
                        {k: {n: float(x) for n, x in v.items()} for k, v in data["profiles"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SimulationError(f"{path} is not the manifest of a simulation ({exc}); run cityscore simulate "
                              "again.") from None


def _setup(year: int, scale: float, seed: int, settlements: Iterable[str] | None, std: Standard | None,
           registry: Registry | None) -> tuple[Context, list[Profile]]:
    if not 0 < scale <= 1:
        raise SimulationError(f"scale {scale:g} is out of range: use a number in (0, 1], e.g. 0.01 for a 1 % sample.")
    std = std or load_standard()
    registry = registry or load_registry()
    profiles = build_profiles(std, registry, year, seed)
    chosen = sorted(profiles)
    if settlements is not None:
        chosen = []
        for key in settlements:
            found = registry.resolve(key)
            if found is None:
                raise SimulationError(f"'{key}' is not a rated settlement; use its KATO code "
                                      "(cityscore settlements --search NAME).")
            chosen.append(found.kato)
        chosen = sorted(set(chosen))
    return Context(std, year, scale, seed), [profiles[k] for k in chosen]


def plan(year: int, *, scale: float = 1.0, seed: int = 0, settlements: Iterable[str] | None = None,
         std: Standard | None = None, registry: Registry | None = None) -> dict[str, dict[str, int]]:
    """Expected rows per raw table and KATO code (settlements without the table are left out), without generating.
    ``observations`` and ``additional_initiatives`` are not planned: they are small and computed by simulate."""
    ctx, profiles = _setup(year, scale, seed, settlements, std, registry)
    out: dict[str, dict[str, int]] = {}
    for table in SCHEMAS:
        counts = {p.kato: round(expected(ctx, p, table)) for p in profiles if present(table, p)}
        out[table] = {k: v for k, v in counts.items() if v > 0}
    return out


def simulate(year: int, out: Path, *, scale: float = 1.0, seed: int = 0, progress: Progress | None = None,
             settlements: Iterable[str] | None = None, std: Standard | None = None,
             registry: Registry | None = None) -> Manifest:
    """Write the simulated files for ``year`` into ``out`` (see the module docstring) and return the manifest."""
    ctx, profiles = _setup(year, scale, seed, settlements, std, registry)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    rows: dict[str, int] = {}
    for table, generate in GENERATORS.items():
        stale = out / f"{table}.parquet"
        stale.unlink(missing_ok=True)
        writer = TableWriter(out, table)
        try:
            for p in profiles:
                if not present(table, p):
                    continue
                for y in years(table, year):
                    for chunk in generate(ctx, p, y):
                        written = writer.write(chunk)
                        if progress and written:
                            progress(table, written)
        finally:
            writer.close()
        if writer.rows:
            files[table], rows[table] = writer.path, writer.rows
    files["observations"] = out / OBSERVATIONS_FILE
    rows["observations"] = write_observations(files["observations"],
                                              (row for p in profiles for row in observation_rows(ctx, p)))
    if progress:
        progress("observations", rows["observations"])
    files["additional_initiatives"] = out / ADDITIONAL_FILE
    rows["additional_initiatives"] = write_additional(files["additional_initiatives"],
                                                      [row for p in profiles for row in additional_rows(ctx, p)])
    if progress:
        progress("additional_initiatives", rows["additional_initiatives"])
    manifest = Manifest(year, ctx.scale, seed, files, rows, {p.kato: p.to_json() for p in profiles})
    (out / MANIFEST_FILE).write_text(json.dumps(manifest.to_json(relative=True), ensure_ascii=False, indent=2)
                                     + "\n", "utf-8")
    return manifest


__all__ = ["Manifest", "SimulationError", "load_manifest", "plan", "simulate"]
