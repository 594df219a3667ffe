#!/usr/bin/env python3
"""Benchmark: ``cityscore ingest`` of N contact-centre calls, as CSV (UTF-8 and Windows-1251) and Parquet, every
check on, against the engine's own floor on the same files.

Generates N rows (not timed) the way a city's telephony system exports them: ids, settlements as KATO codes or
Russian names, the time of the call in Kazakhstan civil time, answered/abandoned as ``true``/``да``, waiting times
with decimal commas, the caller's phone number in several spellings (pseudonymised), the channel, and one row in a
thousand broken (an unparseable number, a negative wait, ``NaN``, a phone number typed into ``channel``, an
unknown settlement) so that quarantine is exercised. Files:

- ``calls.csv``: ``;``-separated, UTF-8;
- ``calls-cp1251.csv``: the same rows in Windows-1251 (read through a streamed transcoding);
- ``calls.parquet``: the same rows with native types.

Each load runs in its own process (so its peak RSS is its own) into a new warehouse, through
``cityscore.ingest.ingest_file`` — reading, typing, range and window checks, settlements, personal data anywhere,
pseudonymisation, quarantine, commit. The floor is DuckDB loading the same file into a table of a database file
with no checks at all (``CREATE TABLE … AS SELECT * FROM read_csv(…)`` / ``read_parquet(…)``). Prints one JSON
object::

    python bench/ingest.py --rows 5000000 --json
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

BROKEN_EVERY = 1000


def generate(directory: Path, rows: int) -> dict[str, Path]:
    """Write the three files; return them."""
    import duckdb

    files = {"csv": directory / "calls.csv", "cp1251": directory / "calls-cp1251.csv",
             "parquet": directory / "calls.parquet"}
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    # the broken rows: every BROKEN_EVERY-th row gets one of five defects
    bad = f"(i % {BROKEN_EVERY} = 7)"
    kind = f"((i // {BROKEN_EVERY}) % 5)"
    con.execute(f"""CREATE VIEW calls AS SELECT
        'c' || i AS call_id,
        CASE WHEN {bad} AND {kind} = 4 THEN 'Атлантида'
             WHEN i % 4 = 0 THEN 'Алматы' WHEN i % 4 = 1 THEN '750000000' WHEN i % 4 = 2 THEN 'Шымкент'
             ELSE '351610000' END AS settlement,
        strftime(TIMESTAMP '2026-01-01' + INTERVAL (i * 6 % 31536000) SECOND, '%Y-%m-%d %H:%M:%S') AS received_at,
        CASE WHEN i % 7 = 0 THEN 'false' ELSE 'true' END AS answered,
        CASE WHEN i % 7 = 0 THEN NULL
             WHEN {bad} AND {kind} = 0 THEN 'двадцать'
             WHEN {bad} AND {kind} = 1 THEN '-5'
             WHEN {bad} AND {kind} = 2 THEN 'NaN'
             ELSE replace(printf('%.1f', (i % 900) / 10.0), '.', ',') END AS answer_seconds,
        CASE WHEN i % 7 = 0 THEN 'да' ELSE 'нет' END AS abandoned,
        CASE i % 3 WHEN 0 THEN '+7 701 ' || lpad(CAST(i % 1000003 AS VARCHAR), 7, '0')
                   WHEN 1 THEN '8 (705) ' || lpad(CAST(i % 999983 AS VARCHAR), 7, '0')
                   ELSE '7' || '77' || lpad(CAST(i % 999979 AS VARCHAR), 8, '0') END AS caller_phone,
        CASE WHEN {bad} AND {kind} = 3 THEN 'перезвонить +7 701 555 12 34'
             WHEN i % 3 = 0 THEN 'голос' WHEN i % 3 = 1 THEN 'чат' ELSE 'мессенджер' END AS channel,
        '1' AS weight
        FROM range({rows}) r(i)""")
    con.execute(f"COPY calls TO '{files['csv']}' (HEADER, DELIMITER ';')")
    with files["csv"].open("rb") as src, files["cp1251"].open("wb") as out:
        for chunk in iter(lambda: src.read(1 << 24), b""):
            while True:  # a chunk may end inside a character
                try:
                    text = chunk.decode("utf-8")
                    break
                except UnicodeDecodeError:
                    chunk += src.read(1)
            out.write(text.encode("cp1251"))
    con.execute(f"""COPY (SELECT call_id, settlement,
            timezone('UTC', timezone('Asia/Almaty', CAST(received_at AS TIMESTAMP))) AS received_at,
            answered = 'true' AS answered, TRY_CAST(replace(answer_seconds, ',', '.') AS DOUBLE) AS answer_seconds,
            abandoned = 'да' AS abandoned, caller_phone, channel, 1.0 AS weight FROM calls)
        TO '{files['parquet']}' (FORMAT parquet)""")
    return files


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ingest(path: str, warehouse: str, queue: Any) -> None:
    os.environ.setdefault("CITYSCORE_PSEUDONYM_KEY", "benchmark-key-0123456789")
    from cityscore.ingest.loader import ingest_file
    from cityscore.ingest.pseudonym import Pseudonymiser
    from cityscore.settlements import load_registry
    from cityscore.standard import load_standard

    std, registry = load_standard(), load_registry()
    pseudonymiser = Pseudonymiser(os.environ["CITYSCORE_PSEUDONYM_KEY"].encode())
    started = time.perf_counter()
    report = ingest_file(Path(warehouse), Path(path), std=std, registry=registry, pseudonymiser=pseudonymiser,
                         table="contact_center_calls")
    seconds = time.perf_counter() - started
    queue.put({"seconds": seconds, "rows": report.rows, "accepted": report.accepted, "rejected": report.rejected,
               "encoding": report.encoding, "rss": _rss()})


def run_floor(path: str, warehouse: str, queue: Any) -> None:
    import duckdb

    con = duckdb.connect(warehouse)
    source = (f"read_parquet('{path}')" if path.endswith(".parquet")
              else f"read_csv('{path}', delim = ';', header = true, decimal_separator = ',')")
    started = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {source}")
    con.close()
    seconds = time.perf_counter() - started
    queue.put({"seconds": seconds, "rss": _rss()})


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    queue: Any = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files (default: a temporary "
                                                               "directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        files = generate(work, args.rows)
        if not args.json:
            print(f"generated {args.rows} rows in {time.perf_counter() - started:.1f} s "
                  f"({files['csv'].stat().st_size / 1e6:.0f} MB CSV)", file=sys.stderr)
        runs: dict[str, dict[str, Any]] = {}
        for name, path in files.items():
            runs[name] = _in_child(run_ingest, str(path), str(work / f"{name}.duckdb"))
            if not args.json:
                print(f"{name}: {runs[name]}", file=sys.stderr)
        floors = {name: _in_child(run_floor, str(files[name]), str(work / f"floor-{name}.duckdb"))
                  for name in ("csv", "parquet")}
    broken = sum(1 for i in range(7, args.rows, BROKEN_EVERY) if i % 7 != 0 or (i // BROKEN_EVERY) % 5 >= 3)
    report = {
        "rows": args.rows,
        "csv_rows_per_s": round(args.rows / runs["csv"]["seconds"]),
        "cp1251_csv_rows_per_s": round(args.rows / runs["cp1251"]["seconds"]),
        "parquet_rows_per_s": round(args.rows / runs["parquet"]["seconds"]),
        "peak_rss_mb": round(max(r["rss"] for r in runs.values()), 1),
        "floor_csv_rows_per_s": round(args.rows / floors["csv"]["seconds"]),
        "floor_parquet_rows_per_s": round(args.rows / floors["parquet"]["seconds"]),
        "seconds": {name: round(r["seconds"], 2) for name, r in runs.items()},
        "floor_seconds": {name: round(r["seconds"], 2) for name, r in floors.items()},
        "peak_rss_mb_each": {name: round(r["rss"], 1) for name, r in runs.items()},
        "rejected": {name: r["rejected"] for name, r in runs.items()},
        "every_row_accounted": all(r["rows"] == args.rows and r["accepted"] + r["rejected"] == r["rows"]
                                   and r["rejected"] == broken for r in runs.values()),
        "broken_rows": broken,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": " ".join(["python", *sys.argv]),
    }
    print(json.dumps(report))
    return 0 if report["every_row_accounted"] else 1


if __name__ == "__main__":
    sys.exit(main())
