"""Readers never wait for a parse: while ``cityscore ingest`` loads a large file into the warehouse the service
reads, every page and API call keeps answering.

The ingest runs as its own process, as in production (the command line next to a running server); the file is
read, typed and checked outside the warehouse's lock, which is held only for the commit, shorter than the two
seconds a read waits for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from cityscore.api.app import create_app
from cityscore.settlements import load_registry

from ..conftest import Demo

ROWS = 600_000


def test_pages_and_api_keep_answering_during_a_long_ingest(demo: Demo, tmp_path: Path) -> None:
    db = tmp_path / "cityscore.duckdb"
    shutil.copy(demo.db, db)
    calls = tmp_path / "calls.csv"
    duckdb.connect().execute(f"""COPY (SELECT 'bulk' || i AS call_id, '750000000' AS settlement,
        strftime(TIMESTAMP '2026-02-01' + INTERVAL (i % 2000000) SECOND, '%Y-%m-%d %H:%M:%S') AS received_at,
        'true' AS answered, replace(CAST((i % 90) / 2 AS VARCHAR), '.', ',') AS answer_seconds,
        '+7 701 ' || lpad(CAST(i % 9999999 AS VARCHAR), 7, '0') AS caller_phone, 'голос' AS channel
        FROM range({ROWS}) r(i)) TO '{calls}' (HEADER, DELIMITER ';')""")
    katos = [s.kato for s in load_registry().settlements]
    paths = [p for kato in katos for p in (f"/api/v1/settlements/{kato}/score", f"/settlements/{kato}?lang=kk")]
    env = {**os.environ, "CITYSCORE_HOME": str(demo.root / "home")}  # the demo's pseudonym key
    command = [str(Path(sys.executable).parent / "cityscore"), "ingest", str(calls), "--db", str(db),
               "--format", "json"]
    answers: list[tuple[float, int, float]] = []  # (when, status, seconds)
    with TestClient(create_app(db)) as client:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        i = 0
        while process.poll() is None:
            path = paths[i % len(paths)]
            i += 1
            at = time.monotonic()
            status = client.get(path).status_code
            answers.append((at - started, status, time.monotonic() - at))
        output, errors = process.communicate()
        ingest_seconds = time.monotonic() - started
        deadline = time.monotonic() + 5  # the repository looks at the file at most once a second
        while True:
            after = client.get(f"/api/v1/settlements/{katos[0]}/score")
            if after.json().get("stale", {}).get("stale") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert process.returncode == 0, errors
    report = json.loads(output)
    assert (report["rows"], report["accepted"]) == (ROWS, ROWS), report
    assert len(answers) >= 20, (len(answers), ingest_seconds)  # the server was read all along the ingest
    failed = [a for a in answers if a[1] != 200]
    assert not failed, failed[:5]
    slowest = max(seconds for _, _, seconds in answers)
    assert slowest < 2.5, (slowest, ingest_seconds)
    assert after.status_code == 200 and after.json()["stale"]["stale"] is True  # the new batch made the run stale
