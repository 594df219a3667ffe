"""A real PostgreSQL server for the tests: Debian's binaries, a fresh cluster in a temporary directory, listening on
a free private port of 127.0.0.1 (and a socket in that directory), started by the test session and stopped by its
PID. ``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

START_SECONDS = 30.0


def binaries() -> Path:
    """The directory of Debian's PostgreSQL server programs (``initdb``, ``postgres``)."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed: run scripts/system-deps.sh (Debian's package postgresql)")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    log: BinaryIO
    user: str = "cityscore"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def database(self, name: str) -> str:
        """A new, empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    @property
    def pid(self) -> int | None:
        """The postmaster's PID (from ``postmaster.pid``; as root the process started is ``runuser``)."""
        try:
            return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop the server by its PID (fast shutdown), then remove its directory."""
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start(directory: Path | None = None) -> PostgresServer:
    """Create a cluster in ``directory`` (default: a new temporary directory outside pytest's, which the
    ``postgres`` user could not enter) and start its server; raise with the server's log when it does not come up."""
    import psycopg

    directory = directory or Path(tempfile.mkdtemp(prefix="cityscore-pg-"))
    bin_dir = binaries()
    data = directory / "data"
    as_root = os.geteuid() == 0
    run_as: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    directory.mkdir(parents=True, exist_ok=True)
    if as_root:
        shutil.chown(directory, "postgres", "postgres")
        directory.chmod(0o700)
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "cityscore", "-A", "trust", "-E",
                    "UTF8", "--locale=C.UTF-8", "--no-instructions"], check=True, capture_output=True)
    port = free_port()
    log = (directory / "server.log").open("wb")
    process = subprocess.Popen([*run_as, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h",
                                "127.0.0.1", "-k", str(directory), "-c", "fsync=off", "-c", "full_page_writes=off",
                                "-c", "synchronous_commit=off", "-c", "max_connections=60"],
                               stdout=log, stderr=subprocess.STDOUT)
    server = PostgresServer(directory, port, process, log)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with psycopg.connect(server.url, connect_timeout=2):
                return server
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                text = (directory / "server.log").read_text(errors="replace")
                server.stop()
                raise RuntimeError(f"PostgreSQL did not start:\n{text}") from None
            time.sleep(0.1)
