"""The README's main command, end to end at a small scale: simulate → ingest → compute → score → rate (→ serve)."""

from __future__ import annotations

import json

import pytest

from cityscore.api import server
from cityscore.store import Warehouse

from ..conftest import Cli, Demo


def test_demo_end_to_end(demo: Demo, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "213 settlements rated" in demo.output
    for band in ("Отличный", "Хороший", "Средний", "Ниже среднего", "Низкий"):
        assert band in demo.output
    assert f"cityscore serve --db {demo.db}" in demo.output  # --no-serve says how to serve
    with Warehouse(demo.db) as wh:
        assert wh.count("quarantine") == 0
        assert wh.scalar("SELECT count(DISTINCT settlement) FROM scores") == 213
        tables = {r[0] for r in wh.rows("SELECT table_name FROM batches")}
        assert {"contact_center_calls", "service_requests", "payments", "observations"} <= tables
        computed = {r[0] for r in wh.rows("SELECT DISTINCT kpi FROM kpi_values")}
        assert {"1.8", "1.9", "1.11", "1.13", "3.3", "4.2"} <= computed
        # the monitor's daily values: one per day of the year for a KPI of every settlement with calls
        days = wh.scalar("SELECT count(DISTINCT period_start) FROM kpi_values WHERE period_end = period_start "
                         "AND kpi = '1.8'")
        assert days == 365
        batches_before = wh.count("batches")
    # again, this time ending by serving (the server loop itself is replaced here; the browser tests run the real
    # one): the same simulated files, nothing ingested twice, the same ratings, and the dashboard's URL printed
    served: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(server, "run", lambda db, **kw: served.append((db, kw)))
    monkeypatch.setenv("CITYSCORE_HOME", str(demo.root / "home"))
    port = free_port()
    _, out = cli(*(a for a in demo.args if a != "--no-serve"), "--port", str(port))
    (db, options), = served
    assert db == demo.db and options["host"] == "127.0.0.1" and options["port"] == port
    assert out.rstrip().splitlines()[-1] == f"Dashboard: http://127.0.0.1:{port}/"
    with Warehouse(demo.db) as wh:
        assert wh.count("batches") == batches_before
        runs = wh.rows("SELECT run_id FROM score_runs ORDER BY run_id")
        first = wh.rows("SELECT settlement, cityscore, rank FROM scores WHERE run_id = ? ORDER BY 1", [runs[0][0]])
        second = wh.rows("SELECT settlement, cityscore, rank FROM scores WHERE run_id = ? ORDER BY 1", [runs[-1][0]])
    assert first == second
    # the stored result explains itself through `cityscore score`
    _, out = cli("score", "--year", "2026", "--settlement", "Астана", "--format", "json", "--db", str(demo.db))
    result = json.loads(out[out.index("{"):])["results"][0]
    assert result["settlement"] == "710000000" and result["kpis"]["1.8"]["input"]["method"] == "pooled"


def test_demo_picks_a_free_port_when_8000_is_taken() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not server.port_free("127.0.0.1", port)
        assert server.choose_port("127.0.0.1", port, search=20) > port
        with pytest.raises(server.ServerError, match=f"port {port} is in use"):
            server.choose_port("127.0.0.1", port)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
