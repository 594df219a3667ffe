#!/usr/bin/env python3
"""Benchmark: latency and throughput of the read-only HTTP API under 50 concurrent clients.

Starts ``cityscore serve`` as a subprocess on a free port of 127.0.0.1 (once per scenario, stopped at the end of it)
and drives it from this process — a separate process from the server — with ``--concurrency`` clients, each an
asyncio task with its own keep-alive HTTP/1.1 connection (a minimal client written on asyncio streams: it costs far
less CPU per request than httpx, so on a 2-core machine the numbers are the server's, not the client's). Every
client sends its next request as soon as the previous answer arrives (closed loop), asks for gzip like a browser or
httpx does, and never sends ``If-None-Match``: every answer is a full 200. Latency is from writing the request to
reading the last byte of the body.

Endpoints (one phase each, ``--requests`` requests or ``--max-seconds``, whichever comes first):

- ``score``   — ``GET /api/v1/settlements/{kato}/score``, a random settlement per request (target: p95 < 50 ms);
- ``rating``  — ``GET /api/v1/ratings/{category}``, a random one of the three categories (target: p95 < 50 ms);
- ``scores``  — ``GET /api/v1/scores`` (every settlement's result; for information);
- ``monitor`` — ``GET /api/v1/settlements/{kato}/monitor``, a random settlement (for information).

Scenarios:

- ``warm``     — the default server (1 worker, response cache on) after a warm-up that requested every URL once;
- ``cold``     — right after start (``/healthz`` answered): every settlement's score URL once, in random order;
  then the same URLs again (``score, again``), answered from the response cache: the floor, what any answer costs
  under the same clients, against which the first requests' cost shows;
- ``nocache``  — ``--no-cache``: every response recomputed (ETags stay), after the same warm-up — the repository's
  in-memory data (results, trends, monitors) stays warm, so this is the cost of routing, JSON and gzip per request;
- ``workers2`` — ``--workers 2`` with the cache, after a warm-up that requested every URL once on each worker
  (connections are mapped to worker processes with ``ss``).

For each phase: p50/p95/p99/max latency (ms), throughput (completed requests/s), errors (non-200 answers, broken
connections, time-outs, invalid JSON), and the CPU used by the server processes, by this client and by everything
else on the machine (% of one core over the phase; "other" is noise from other work). A connection the server
closed while idle (uvicorn's 5 s keep-alive timeout) is reopened and the request retried once, as HTTP clients do;
those are counted as ``reconnects``, not errors. Prints a markdown table and writes every number to
``bench/results/api.json``:

    python bench/api.py --db /tmp/demo3/cityscore.duckdb
    python bench/api.py --db /tmp/demo3/cityscore.duckdb --requests 5000 --scenarios warm,nocache

The warehouse needs published scores and daily values (``cityscore demo`` makes one). Traffic goes only to
127.0.0.1; a full run takes about two minutes. Run it on an otherwise idle machine (see "other CPU").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
API = "/api/v1"
CATEGORIES = ("republican", "oblast", "district")
ENDPOINTS = ("score", "rating", "scores", "monitor")
TARGETS_MS = {"score": 50.0, "rating": 50.0}  # p95 targets of the publishing issue
SCENARIOS: dict[str, dict[str, Any]] = {
    "warm": {"args": [], "warm_up": True, "label": "warm (1 worker, cache)"},
    "cold": {"args": [], "warm_up": False, "label": "cold (1 worker, cache empty)"},
    "nocache": {"args": ["--no-cache"], "warm_up": True, "label": "--no-cache (1 worker)"},
    "workers2": {"args": ["--workers", "2"], "warm_up": True, "label": "--workers 2 (cache)"},
}
RESULTS = Path(__file__).resolve().parent / "results" / "api.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- a minimal keep-alive HTTP/1.1 client -------------------------------------------------------------------------
class Connection:
    """One keep-alive connection; ``get`` sends a GET and reads the whole answer (Content-Length or chunked)."""

    def __init__(self, port: int, accept_gzip: bool) -> None:
        self.port = port
        self.head = (f"Host: {HOST}:{port}\r\nUser-Agent: cityscore-bench\r\nAccept: application/json\r\n"
                     + ("Accept-Encoding: gzip\r\n" if accept_gzip else "") + "\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0  # idle connections closed by the server, found closed when reused

    async def open(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    def local_port(self) -> int | None:
        return None if self.writer is None else int(self.writer.get_extra_info("sockname")[1])

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        reused = self.reader is not None and not self.reader.at_eof()
        if not reused:  # first use, or the server closed the idle connection (uvicorn's keep-alive timeout: 5 s)
            await self.open()
        try:
            return await self._exchange(path)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            # closed by the server as the request went out: retry once on a new connection, as HTTP clients do
            self.reconnects += 1
            await self.open()
            return await self._exchange(path)

    async def _exchange(self, path: str) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.head)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines:
            if line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:  # no length: the body ends with the connection
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent by uvicorn
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


def decode_json(headers: dict[str, str], body: bytes) -> Any:
    return json.loads(gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body)


# --- the server ---------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cityscore_command() -> list[str]:
    beside = Path(sys.executable).parent / "cityscore"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("cityscore")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from cityscore.cli import main; sys.exit(main())"]


def http_get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (uvicorn's worker processes), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (every core; /proc/stat), to see what else ran meanwhile."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / CLK_TCK  # all but idle and iowait
    return 0.0


class Server:
    """``cityscore serve`` in a subprocess on a free port; ``stop`` ends it (and its workers) by their ids."""

    def __init__(self, db: Path, extra: list[str], log_dir: Path, name: str) -> None:
        self.port = free_port()
        self.log_path = log_dir / f"server-{name}.log"
        self.command = [*cityscore_command(), "serve", "--db", str(db), "--host", HOST, "--port", str(self.port),
                        *extra]
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0
        self.exit_code: int | None = None

    def start(self, timeout: float = 120.0) -> None:
        t0 = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(self.port, "/healthz", timeout=5)[0] == 200:
                    self.startup_seconds = time.perf_counter() - t0
                    if "--workers" in self.command:
                        time.sleep(3)  # /healthz answered by one worker: let the others reach their accept loop
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu(self) -> float:
        """CPU seconds used so far by the server and its worker processes."""
        return cpu_seconds(descendants(self.proc.pid)) if self.proc is not None else 0.0

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_errors(self) -> int:
        return sum(1 for line in self.log_path.read_text(errors="replace").splitlines()
                   if "Traceback" in line or " ERROR" in line or line.startswith("ERROR"))

    def stop(self) -> None:
        if self.proc is None:
            return
        pids = descendants(self.proc.pid)
        self.exit_code = self.proc.poll()  # not None: the server ended before it was asked to
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (and stops its workers)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pid in pids[1:]:  # a worker left behind by a failed shutdown
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.proc = None

    def connections_by_worker(self, pool: list[Connection]) -> dict[int, list[Connection]]:
        """Which worker process holds each client connection (``ss -tnp``); one group if ``ss`` cannot tell."""
        ours = {c.local_port(): c for c in pool}
        groups: dict[int, list[Connection]] = {}
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{self.port} )"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
            for line in out.splitlines():
                m = re.search(r"\S+:\d+\s+\S+:(\d+)\s+users:\(\(\"[^\"]*\",pid=(\d+)", line)
                if m and int(m.group(1)) in ours:
                    groups.setdefault(int(m.group(2)), []).append(ours[int(m.group(1))])
        if sum(map(len, groups.values())) != len(pool):
            return {0: list(pool)}
        return groups


# --- load -----------------------------------------------------------------------------------------------------------
@dataclass
class Phase:
    scenario: str
    endpoint: str
    requests: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    throughput_rps: float = 0.0
    seconds: float = 0.0
    mean_body_kb: float = 0.0
    server_cpu_pct: float = 0.0
    client_cpu_pct: float = 0.0
    other_cpu_pct: float = 0.0  # every other process of the machine (noise)
    distinct_urls: int = 0
    target_p95_ms: float | None = None
    target_met: bool | None = None


async def drive(pool: list[Connection], paths: list[str], max_seconds: float, timeout: float,
                check_json: bool = True) -> tuple[list[float], Counter[str], int, float]:
    """Send ``paths`` through the connections of ``pool``, each connection one request at a time.
    Returns the latencies (s) of the 200s, the errors by kind, the body bytes and the wall time."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    body_bytes = 0
    checked = not check_json
    todo: Iterator[str] = iter(paths)
    deadline = time.perf_counter() + max_seconds

    async def client(conn: Connection) -> None:
        nonlocal body_bytes, checked
        for path in todo:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            try:
                status, headers, body = await asyncio.wait_for(conn.get(path), timeout)
            except TimeoutError:
                errors["timeout"] += 1
                conn.close()
                continue
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
                errors[type(exc).__name__] += 1
                conn.close()
                continue
            elapsed = time.perf_counter() - t0
            if status != 200:
                errors[f"HTTP {status}"] += 1
                continue
            if not checked:
                checked = True
                try:
                    decode_json(headers, body)
                except (ValueError, OSError):
                    errors["invalid JSON"] += 1
                    continue
            latencies.append(elapsed)
            body_bytes += len(body)

    t0 = time.perf_counter()
    await asyncio.gather(*(client(c) for c in pool))
    return latencies, errors, body_bytes, time.perf_counter() - t0


def paths_of(endpoint: str, katos: list[str]) -> list[str]:
    """Every distinct URL of an endpoint."""
    if endpoint == "score":
        return [f"{API}/settlements/{k}/score" for k in katos]
    if endpoint == "monitor":
        return [f"{API}/settlements/{k}/monitor" for k in katos]
    if endpoint == "rating":
        return [f"{API}/ratings/{c}" for c in CATEGORIES]
    return [f"{API}/scores"]


async def measure(server: Server, scenario: str, endpoint: str, pool: list[Connection], paths: list[str],
                  max_seconds: float, timeout: float) -> Phase:
    server_cpu, client_cpu, busy = server.cpu(), time.process_time(), machine_busy_seconds()
    reconnects = sum(c.reconnects for c in pool)
    latencies, errors, body_bytes, wall = await drive(pool, paths, max_seconds, timeout)
    server_cpu, client_cpu = server.cpu() - server_cpu, time.process_time() - client_cpu
    other_cpu = max(0.0, machine_busy_seconds() - busy - server_cpu - client_cpu)
    phase = Phase(scenario, endpoint, requests=len(latencies), errors=sum(errors.values()),
                  reconnects=sum(c.reconnects for c in pool) - reconnects,
                  error_kinds=dict(errors), seconds=round(wall, 3), distinct_urls=len(set(paths)),
                  server_cpu_pct=round(100 * server_cpu / wall, 1), client_cpu_pct=round(100 * client_cpu / wall, 1),
                  other_cpu_pct=round(100 * other_cpu / wall, 1))
    if len(latencies) >= 2:
        q = statistics.quantiles([x * 1000 for x in latencies], n=100, method="inclusive")
        phase.p50_ms, phase.p95_ms, phase.p99_ms = round(q[49], 2), round(q[94], 2), round(q[98], 2)
        phase.max_ms = round(max(latencies) * 1000, 2)
        phase.mean_ms = round(statistics.fmean(latencies) * 1000, 2)
        phase.throughput_rps = round(len(latencies) / wall, 1)
        phase.mean_body_kb = round(body_bytes / len(latencies) / 1024, 1)
    if endpoint in TARGETS_MS:
        phase.target_p95_ms = TARGETS_MS[endpoint]
        phase.target_met = phase.errors == 0 and len(latencies) >= 2 and phase.p95_ms < TARGETS_MS[endpoint]
    return phase


async def run_scenario(name: str, server: Server, katos: list[str], args: argparse.Namespace,
                       rng: random.Random) -> dict[str, Any]:
    spec = SCENARIOS[name]
    pool = [Connection(server.port, not args.no_gzip) for _ in range(args.concurrency)]
    await asyncio.gather(*(c.open() for c in pool))
    groups = server.connections_by_worker(pool)
    report: dict[str, Any] = {"scenario": name, "label": spec["label"], "server_command": server.command,
                              "load_average_before": [round(x, 2) for x in os.getloadavg()],
                              "startup_seconds": round(server.startup_seconds, 2),
                              "connections_per_worker": sorted((len(g) for g in groups.values()), reverse=True)}
    phases: list[Phase] = []
    try:
        if name == "cold":
            urls = paths_of("score", katos)
            rng.shuffle(urls)
            phases.append(await measure(server, name, "score", pool, urls, max(args.max_seconds, 120), args.timeout))
            # the floor: the same URLs once more, every answer now in the response cache
            phases.append(await measure(server, name, "score, again", pool, urls, max(args.max_seconds, 120),
                                        args.timeout))
        else:
            if spec["warm_up"]:
                every = [p for e in ENDPOINTS for p in paths_of(e, katos)]
                t0 = time.perf_counter()
                orders = [rng.sample(every, len(every)) for _ in groups]
                warmed = await asyncio.gather(*(  # every URL once on each worker process, the workers in parallel
                    drive(group, urls, 600, args.timeout, check_json=False)
                    for group, urls in zip(groups.values(), orders, strict=True)))
                warm_up_errors = sum((w[1] for w in warmed), Counter())
                if warm_up_errors:
                    print(f"  warm-up errors: {dict(warm_up_errors)}", file=sys.stderr)
                report["warm_up_errors"] = dict(warm_up_errors)
                report["warm_up_requests"] = len(every) * len(groups)
                report["warm_up_seconds"] = round(time.perf_counter() - t0, 2)
            for endpoint in ENDPOINTS:
                distinct = paths_of(endpoint, katos)
                paths = [rng.choice(distinct) for _ in range(args.requests)]
                phase = await measure(server, name, endpoint, pool, paths, args.max_seconds, args.timeout)
                print(f"  {endpoint}: {phase.requests} requests, p95 {phase.p95_ms} ms, "
                      f"{phase.throughput_rps} req/s, {phase.errors} errors", file=sys.stderr)
                phases.append(phase)
    finally:
        for c in pool:
            c.close()
    report["phases"] = [asdict(p) for p in phases]
    return report


# --- the report -----------------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    versions: dict[str, str | None] = {}
    for module in ("uvicorn", "fastapi", "starlette", "duckdb", "h11", "httptools", "uvloop"):
        try:
            versions[module] = __import__(module).__version__
        except (ImportError, AttributeError):
            versions[module] = None
    return {"arch": platform.machine(), "cores": os.cpu_count(), "cpu": model,
            "ram_gib": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
            "os": platform.platform(), "python": platform.python_version(), "packages": versions}


def markdown(scenarios: list[dict[str, Any]]) -> str:
    rows = ["| scenario | endpoint | requests | errors | p50 ms | p95 ms | p99 ms | max ms | req/s | "
            "server CPU | client CPU | other CPU | p95 < 50 ms |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in scenarios:
        for p in s["phases"]:
            target = "—" if p["target_met"] is None else ("met" if p["target_met"] else "**missed**")
            rows.append(f"| {s['label']} | {p['endpoint']} | {p['requests']} | {p['errors']} | {p['p50_ms']:.1f} | "
                        f"{p['p95_ms']:.1f} | {p['p99_ms']:.1f} | {p['max_ms']:.1f} | {p['throughput_rps']:.0f} | "
                        f"{p['server_cpu_pct']:.0f} % | {p['client_cpu_pct']:.0f} % | {p['other_cpu_pct']:.0f} % | "
                        f"{target} |")
    return "\n".join(rows)


def settlements(port: int) -> list[str]:
    status, body = http_get(port, f"{API}/settlements")
    if status != 200:
        raise RuntimeError(f"GET {API}/settlements answered {status}")
    return [s["kato"] for s in json.loads(body)]


def main() -> int:
    from cityscore.store import default_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=default_path(),
                        help="warehouse with published scores (default $CITYSCORE_DB or ./cityscore.duckdb)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per endpoint and scenario")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients (keep-alive connections)")
    parser.add_argument("--scenarios", default="warm,cold,nocache,workers2",
                        help=f"comma-separated, of: {', '.join(SCENARIOS)}")
    parser.add_argument("--max-seconds", type=float, default=15.0,
                        help="upper bound of one endpoint's phase (it stops early with fewer requests)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as an error")
    parser.add_argument("--no-gzip", action="store_true", help="do not send Accept-Encoding: gzip")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON file of results")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown or not chosen:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    if args.requests < 2 or args.concurrency < 1:
        parser.error("--requests must be ≥ 2 and --concurrency ≥ 1")
    if not args.db.exists():
        parser.error(f"no warehouse at {args.db}: run `cityscore demo` first")

    rng = random.Random(args.seed)
    started = time.perf_counter()
    katos: list[str] = []
    scenarios: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="cityscore-bench-api-") as tmp:
        if chosen[0] == "cold":  # the settlement list must not come from the server being measured cold
            probe = Server(args.db, [], Path(tmp), "probe")
            try:
                probe.start()
                katos = settlements(probe.port)
            finally:
                probe.stop()
        for name in chosen:
            print(f"scenario {name}", file=sys.stderr)
            server = Server(args.db, SCENARIOS[name]["args"], Path(tmp), name)
            try:
                server.start()
                if not katos:
                    katos = settlements(server.port)
                report = asyncio.run(run_scenario(name, server, katos, args, rng))
                report["server_log_errors"] = server.log_errors()
            finally:
                server.stop()
            report["server_ended_early_with"] = server.exit_code
            if server.exit_code is not None or report["server_log_errors"] or any(
                    p["errors"] for p in report["phases"]):
                print(f"  server exit code: {server.exit_code}; its log ends with:\n{server.log_tail()}",
                      file=sys.stderr)
            scenarios.append(report)

    result = {
        "date": date.today().isoformat(),
        "command": " ".join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "db": str(args.db),
        "settlements": len(katos),
        "concurrency": args.concurrency,
        "requests_per_endpoint": args.requests,
        "max_seconds_per_phase": args.max_seconds,
        "accept_gzip": not args.no_gzip,
        "client": "asyncio streams, one keep-alive HTTP/1.1 connection per concurrent client, closed loop",
        "machine": machine(),
        "total_seconds": round(time.perf_counter() - started, 1),
        "scenarios": scenarios,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(scenarios))
    print(f"\n{len(katos)} settlements, {args.concurrency} concurrent clients, {result['total_seconds']} s; "
          f"results in {args.output}")
    return 1 if any(p["errors"] for s in scenarios for p in s["phases"]) else 0


if __name__ == "__main__":
    sys.exit(main())
