#!/usr/bin/env python3
"""Benchmark: the core KPIs from N raw rows, end to end, against a straightforward pandas implementation.

Generates N simulated raw rows — half contact-centre calls, half service requests, over all 213 settlements and one
year — as Parquet files (not timed), then times the product's measures (``cityscore.measures.compute``: the Ibis
expressions on DuckDB) computing KPIs 1.8, 1.9, 1.10, 1.14, 1.15, 1.18 and 2.1 per settlement × civil month —
reading the Parquet files directly (``seconds``, the same input as pandas) and from warehouse tables loaded from
them beforehand (``warehouse_seconds``, what ``cityscore compute`` does). The same KPIs are computed with pandas
(read the files, convert to civil time, join the settlement parameters, group) on ``min(N, --pandas-rows)`` rows;
both results are compared on those rows. Each engine runs in its own process, so each peak RSS is its own.
Prints one JSON object:

    python bench/kpis.py --rows 100000000 --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

KPIS = ("1.8", "1.9", "1.10", "1.14", "1.15", "1.18", "2.1")
CATEGORIES = ("roads", "street_lighting", "waste", "housing", "other")
YEAR = 2026
CHUNK = 5_000_000


def generate(directory: Path, rows: int, seed: int) -> dict[str, Path]:
    """Write ``rows`` raw rows (half calls, half requests) as Parquet; return the files."""
    from cityscore.settlements import load_registry

    katos = np.array([s.kato for s in load_registry().settlements])
    population = np.array([float(s.population or 5000) for s in load_registry().settlements])
    share = population / population.sum()
    rng = np.random.default_rng(seed)
    start = np.datetime64(f"{YEAR}-01-01T00:00:00", "us").astype(np.int64) - 5 * 3600 * 1_000_000
    span = 365 * 24 * 3600 * 1_000_000
    files = {"contact_center_calls": directory / "calls.parquet", "service_requests": directory / "requests.parquet"}
    halves = {"contact_center_calls": rows // 2, "service_requests": rows - rows // 2}
    for table, total in halves.items():
        writer = None
        done = 0
        while done < total:
            n = min(CHUNK, total - done)
            settlement = pa.DictionaryArray.from_arrays(pa.array(rng.choice(len(katos), n, p=share), pa.int32()),
                                                        pa.array(katos))
            at = pa.array(start + rng.integers(0, span, n), pa.timestamp("us"))
            if table == "contact_center_calls":
                answered = rng.random(n) < 0.93
                seconds = np.where(answered, rng.gamma(2.0, 18.0, n), np.nan)
                batch = pa.table({"call_id": pa.array(np.arange(done, done + n)), "settlement": settlement,
                                  "received_at": at, "answered": pa.array(answered),
                                  "answer_seconds": pa.array(seconds, from_pandas=True)})
            else:
                due = start + rng.integers(0, span, n) + 3 * 24 * 3600 * 1_000_000
                closed = due + rng.normal(-12, 30, n).astype(np.int64) * 3600 * 1_000_000
                is_closed = rng.random(n) < 0.95
                rated = rng.random(n) < 0.4
                batch = pa.table({
                    "request_id": pa.array(np.arange(done, done + n)), "settlement": settlement, "opened_at": at,
                    "sla_due_at": pa.array(due, pa.timestamp("us")),
                    "closed_at": pa.array(np.where(is_closed, closed, 0), pa.timestamp("us"),
                                          mask=~is_closed),
                    "category": pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(CATEGORIES), n),
                                                                        pa.int32()), pa.array(CATEGORIES)),
                    "resolved_first_contact": pa.array(rng.random(n) < 0.8),
                    "satisfaction": pa.array(np.where(rated, rng.integers(1, 6, n), np.nan), from_pandas=True)})
            if writer is None:
                writer = pq.ParquetWriter(files[table], batch.schema)
            writer.write_table(batch, row_group_size=1_000_000)
            done += n
        assert writer is not None
        writer.close()
    return files


def run_product(files: dict[str, str], queue: Any, warehouse: str | None = None) -> None:
    """The product's measures over the Parquet files (``warehouse`` None) or over warehouse tables loaded from them
    beforehand (the ``cityscore compute`` path; the load is not timed)."""
    import duckdb
    import ibis

    from cityscore.measures import compute
    from cityscore.scoring import ScoringPolicy
    from cityscore.settlements import load_registry
    from cityscore.standard import load_standard

    std, registry = load_standard(), load_registry()
    con = duckdb.connect(warehouse or ":memory:")
    con.execute("SET TimeZone = 'UTC'")
    for table, path in files.items():
        kind = "TABLE" if warehouse else "VIEW"
        con.execute(f"CREATE {kind} raw_{table} AS SELECT 0 AS batch_id, 0 AS row_number, * "
                    f"FROM read_parquet('{path}')")
    started = time.perf_counter()
    values = compute(ibis.duckdb.from_connection(con), std, registry, ScoringPolicy(), year=YEAR, kpis=KPIS)
    seconds = time.perf_counter() - started
    result = {(v.settlement, v.kpi, v.period_start.isoformat()): (v.numerator, v.denominator) for v in values}
    queue.put({"seconds": seconds, "values": len(values), "rss": _rss(), "result": result})


def run_pandas(files: dict[str, str], queue: Any) -> None:
    import pandas as pd

    from cityscore.measures.compile import param_column, settlement_params, year_end_utc
    from cityscore.scoring import ScoringPolicy
    from cityscore.settlements import load_registry
    from cityscore.standard import load_standard

    params = settlement_params(load_standard(), load_registry(), ScoringPolicy()).to_pandas()
    started = time.perf_counter()
    switch = pd.Timestamp("2024-02-29 18:00:00")

    def civil_month(ts: pd.Series) -> pd.Series:
        local = ts + pd.to_timedelta(np.where(ts < switch, 6, 5), unit="h")
        return local.dt.to_period("M")

    calls = pd.read_parquet(files["contact_center_calls"])
    calls["settlement"] = calls["settlement"].astype(str)
    calls = calls.merge(params, left_on="settlement", right_on="p_kato")
    calls["month"] = civil_month(calls["received_at"])
    calls["hit"] = calls["answered"] & (calls["answer_seconds"] <= calls[param_column("1.8", "answer_within_seconds")])
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    grouped = calls.groupby(["settlement", "month"], observed=True).agg(num=("hit", "sum"), den=("hit", "size"))
    for (s, m), row in grouped.iterrows():
        out[(s, "1.8", m.start_time.date().isoformat())] = (float(row.num), float(row.den))
    del calls
    req = pd.read_parquet(files["service_requests"])
    req["settlement"] = req["settlement"].astype(str)
    req["category"] = req["category"].astype(str)
    req["month"] = civil_month(req["opened_at"])
    cutoff = pd.Timestamp(year_end_utc(YEAR))  # a request still open before its deadline is not yet late
    closed_by = req["closed_at"].notna() & (req["closed_at"] <= cutoff)
    due = req["sla_due_at"].isna() | (req["sla_due_at"] <= cutoff) | closed_by
    req["on_time"] = closed_by & (req["sla_due_at"].isna() | (req["closed_at"] <= req["sla_due_at"]))
    keys = ["settlement", "month"]
    for kpi, mask in (("1.9", due), ("1.14", due & (req["category"] == "roads")),
                      ("1.15", due & (req["category"] == "street_lighting")),
                      ("1.18", due & (req["category"] == "waste"))):
        g = req[mask].groupby(keys, observed=True).agg(num=("on_time", "sum"), den=("on_time", "size"))
        for (s, m), row in g.iterrows():
            out[(s, kpi, m.start_time.date().isoformat())] = (float(row.num), float(row.den))
    rated = req[req["satisfaction"].notna()].groupby(keys, observed=True).agg(
        num=("satisfaction", "sum"), den=("satisfaction", "size"))
    for (s, m), row in rated.iterrows():
        out[(s, "1.10", m.start_time.date().isoformat())] = (float(row.num), float(row.den))
    first = req.groupby(keys, observed=True).agg(num=("resolved_first_contact", "sum"),
                                                 den=("resolved_first_contact", "size"))
    for (s, m), row in first.iterrows():
        out[(s, "2.1", m.start_time.date().isoformat())] = (float(row.num), float(row.den))
    seconds = time.perf_counter() - started
    queue.put({"seconds": seconds, "values": len(out), "rss": _rss(), "result": out})


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(target: Any, files: dict[Path, Path] | dict[str, Path], *extra: Any) -> dict[str, Any]:
    queue: Any = mp.get_context("fork").Queue()
    process = mp.get_context("fork").Process(target=target, args=({k: str(v) for k, v in files.items()}, queue,
                                                                   *extra))
    process.start()
    result = queue.get()
    process.join()
    return result  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pandas-rows", type=int, default=10_000_000, help="rows for the pandas comparison")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the Parquet files (default: a "
                                                               "temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        (Path(tmp) / "n").mkdir()
        big = generate(Path(tmp) / "n", args.rows, args.seed)
        product = _in_child(run_product, big)
        stored = _in_child(run_product, big, str(Path(tmp) / "warehouse.duckdb"))
        k = min(args.rows, args.pandas_rows)
        if k == args.rows:
            small, product_small = big, product
        else:
            (Path(tmp) / "k").mkdir()
            small = generate(Path(tmp) / "k", k, args.seed)
            product_small = _in_child(run_product, small)
        pandas = _in_child(run_pandas, small)
    mismatches = [key for key, value in product_small["result"].items()
                  if key in pandas["result"] and not np.allclose(value, pandas["result"][key])]
    missing = set(pandas["result"]) ^ set(product_small["result"])
    rows_per_s = args.rows / product["seconds"]
    pandas_rows_per_s = k / pandas["seconds"]
    report = {
        "rows": args.rows,
        "seconds": round(product["seconds"], 3),
        "rows_per_s": round(rows_per_s),
        "pandas_rows": k,
        "pandas_seconds": round(pandas["seconds"], 3),
        "pandas_rows_per_s": round(pandas_rows_per_s),
        "ratio_vs_pandas": round(rows_per_s / pandas_rows_per_s, 2),
        "peak_rss_mb": round(product["rss"], 1),
        "warehouse_seconds": round(stored["seconds"], 3),
        "warehouse_rows_per_s": round(args.rows / stored["seconds"]),
        "pandas_peak_rss_mb": round(pandas["rss"], 1),
        "kpi_values": product["values"],
        "results_agree": not mismatches and not missing,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": " ".join(["python", *sys.argv]),
    }
    print(json.dumps(report))
    return 0 if report["results_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
