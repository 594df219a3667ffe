"""The test PostgreSQL server is real: it starts, keeps data, speaks UTF-8 and stops by its PID."""

from __future__ import annotations

import os

import psycopg

from ..pgserver import PostgresServer, start


def test_the_server_stores_and_reads_back(postgres: PostgresServer) -> None:
    url = postgres.database("smoke")
    with psycopg.connect(url) as con:
        con.execute("CREATE TABLE t (kato text PRIMARY KEY, name text, at timestamptz)")
        con.execute("INSERT INTO t VALUES ('710000000', 'Астана', '2026-03-01 00:00+05')")
        row = con.execute("SELECT name, extract(epoch FROM at)::bigint FROM t").fetchone()
    assert row == ("Астана", 1772305200)
    assert postgres.url.startswith("postgresql://cityscore@127.0.0.1:")


def test_a_server_stops_by_its_pid() -> None:
    server = start()
    pid = server.pid
    assert pid is not None
    server.stop()
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive and not server.directory.exists()
