#!/usr/bin/env python3
"""Benchmark: score a national observations file (every settlement × every KPI) end to end.

Writes a CSV with one annual row per settlement and KPI (``--periods 1``) or one row per month (``--periods 12``),
then times reading and checking it (``read_observations``) and scoring and ranking every settlement
(``score_year``), best of ``--repeat`` runs. Prints one JSON object.

    python bench/score.py --periods 1 --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from cityscore.ingest import read_observations
from cityscore.scoring import ScoringPolicy, score_year
from cityscore.settlements import load_registry
from cityscore.standard import load_standard


def write_national_file(path: Path, periods: int, seed: int) -> int:
    std, registry = load_standard(), load_registry()
    rng = random.Random(seed)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["settlement", "kpi", "period_start", "period_end", "value", "numerator", "denominator",
                         "baseline", "component"])
        for settlement in registry.settlements:
            for kpi in std.kpis:
                for p in range(periods):
                    start = date(2026, 1, 1) if periods == 1 else date(2026, p + 1, 1)
                    end = date(2026, 12, 31) if periods == 1 else (
                        date(2026, p + 2, 1) - timedelta(days=1) if p < 11 else date(2026, 12, 31))
                    components = ["safety", "housing_utilities", "ecology", "education"] if kpi.id == "1.4" else [""]
                    for component in components:
                        value = numerator = denominator = baseline = ""
                        if kpi.unit == "percent":
                            denominator = str(rng.randint(100, 10_000))
                            numerator = str(rng.randint(0, int(denominator)))
                        elif kpi.unit in ("score_5", "score_10"):
                            value = f"{rng.uniform(0, 5 if kpi.unit == 'score_5' else 10):.2f}"
                        else:
                            value = f"{rng.uniform(0, 100):.3f}"
                        baseline = f"{rng.uniform(1, 100):.3f}" if kpi.id.startswith("1.") else ""
                        writer.writerow([settlement.kato, kpi.id, start, end, value, numerator, denominator,
                                         baseline, component])
                        rows += 1
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, choices=(1, 12), default=1, help="rows per settlement × KPI")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    std, registry, policy = load_standard(), load_registry(), ScoringPolicy()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "national.csv"
        rows = write_national_file(path, args.periods, args.seed)
        read_times, score_times = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            observations, report = read_observations(path, std, registry)
            t1 = time.perf_counter()
            run = score_year(std, policy, registry, observations=observations, year=2026)
            t2 = time.perf_counter()
            read_times.append(t1 - t0)
            score_times.append(t2 - t1)
        assert report.rejected == 0, report.errors[:3]
        assert len(run.results) == len(registry)
    result = {
        "rows": rows,
        "settlements": len(run.results),
        "kpis": len(std.kpis),
        "read_seconds": round(min(read_times), 4),
        "score_seconds": round(min(score_times), 4),
        "total_seconds": round(min(r + s for r, s in zip(read_times, score_times, strict=True)), 4),
        "repeat": args.repeat,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
