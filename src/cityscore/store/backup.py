"""Backup and restore of the warehouse: one file that holds a consistent snapshot of every table, and a restore that
checks it whole before it touches anything (decisions.md D-80).

The file is a tar archive (uncompressed: the tables are zstd-compressed Parquet already) of

- ``manifest.json`` (first): the format and its version, when and by which version of CityScore-KZ it was made,
  the backend it came from, the schema version and every migration applied, and per table its name, file, number
  of rows, columns (name and type), size and SHA-256; the last value of every sequence;
- ``tables/<name>.parquet``: every table of the warehouse, whatever tables exist (the raw records, batches,
  quarantine, scores, accounts, the hash-chained ``audit_log`` …), all read in one transaction.

The format knows nothing of DuckDB: tables as Parquet with their column names, sequences as numbers, the schema
as the numbered migrations that rebuild it. A backend (:class:`Backend`: DuckDB today in
:mod:`.backup_duckdb`; PostgreSQL behind the same commands later) writes the snapshot and restores one, atomically
by its own means. :func:`backup` writes the archive under a temporary name and renames it into place, so an
interrupted backup leaves no half file under the name asked for; :func:`restore` refuses a target that holds data
unless ``force``, verifies every file's size and SHA-256 against the manifest before it builds anything, builds the
new warehouse beside the target and swaps it in only when every table and sequence is in — a failure on the way
leaves the target as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from .. import __version__
from ..errors import CityScoreError

if TYPE_CHECKING:
    from .warehouse import Warehouse

FORMAT = "cityscore-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
SAFE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
MEMBER = re.compile(r"^tables/[A-Za-z0-9_.-]+\.parquet$")
CHUNK = 1024 * 1024
Finish = Callable[["Warehouse", "Manifest", str], None]  # the restored warehouse, the manifest, the file's SHA-256


class BackupError(RuntimeError, CityScoreError):
    """A backup cannot be made or restored: a damaged or foreign file, a target that holds data, a newer schema."""


class UnreadableTargetError(BackupError):
    """The restore's target exists but cannot be read as a warehouse (e.g. a damaged file): replaced only with
    ``force``."""


@dataclass(frozen=True)
class TableDump:
    """One table of a snapshot: its file in the archive, its rows, and its columns as (name, type)."""

    name: str
    file: str
    rows: int
    columns: tuple[tuple[str, str], ...]
    bytes: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class SequenceState:
    """A sequence's last value handed out (None: never used); the next value after a restore is the one after it."""

    name: str
    last_value: int | None


@dataclass(frozen=True)
class Snapshot:
    """What a backend read: the migrations applied, every table (written as Parquet) and every sequence."""

    migrations: tuple[int, ...]
    tables: tuple[TableDump, ...]
    sequences: tuple[SequenceState, ...]


@dataclass(frozen=True)
class Manifest:
    created_at: str
    backend: str
    source: str
    migrations: tuple[int, ...]
    tables: tuple[TableDump, ...]
    sequences: tuple[SequenceState, ...]
    program_version: str = __version__
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def schema_version(self) -> int:
        return max(self.migrations, default=0)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema_version"] = self.schema_version
        data["tables"] = [{**asdict(t), "columns": [list(c) for c in t.columns]} for t in self.tables]
        return data

    @classmethod
    def from_json(cls, data: Any, origin: str) -> Manifest:
        """The manifest of ``data`` (read from ``origin``), or a :class:`BackupError` that says what is wrong."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError(f"{origin} is not a CityScore-KZ backup (its manifest does not say format {FORMAT!r}).")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"{origin} is a backup of format version {data.get('format_version')}; this program "
                              f"reads version {FORMAT_VERSION}. Restore it with the CityScore-KZ that made it "
                              f"({data.get('program_version', 'unknown')}) or a newer one.")
        try:
            tables = tuple(TableDump(name=str(t["name"]), file=str(t["file"]), rows=int(t["rows"]),
                                     columns=tuple((str(n), str(ty)) for n, ty in t["columns"]),
                                     bytes=int(t["bytes"]), sha256=str(t["sha256"])) for t in data["tables"])
            sequences = tuple(SequenceState(str(s["name"]), None if s["last_value"] is None else int(s["last_value"]))
                              for s in data["sequences"])
            manifest = cls(created_at=str(data["created_at"]), backend=str(data["backend"]),
                           source=str(data["source"]), migrations=tuple(int(v) for v in data["migrations"]),
                           tables=tables, sequences=sequences, program_version=str(data["program_version"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"The manifest of {origin} is damaged ({type(exc).__name__}: {exc}); nothing was "
                              "restored. Use another backup.") from None
        files = [t.file for t in tables]
        bad = [f for f in files if not MEMBER.match(f)]
        if bad or len(set(files)) != len(files) or len({t.name for t in tables}) != len(tables):
            raise BackupError(f"The manifest of {origin} names files it may not ({', '.join(bad) or 'duplicates'}); "
                              "nothing was restored.")
        return manifest


class Backend(Protocol):
    """A warehouse backend's part of backup and restore; the archive, the manifest and the checks are shared."""

    name: str
    location: str  # what the messages call the warehouse (a file, a URL without its password)
    scratch: Path  # where the backup's files are unpacked before a restore (for DuckDB: beside the target)

    def snapshot(self, folder: Path) -> Snapshot:
        """Write every table to ``folder / TableDump.file`` as Parquet, all read in one consistent transaction."""
        ...

    def occupied(self) -> dict[str, int]:
        """The tables of the target that hold data, with their rows beyond those a freshly migrated warehouse holds
        (the record of migrations, the audit chain's head); empty when the target does not exist or holds none."""
        ...

    def restore(self, folder: Path, manifest: Manifest, finish: Callable[[Warehouse], None] | None = None, *,
                force: bool = False) -> tuple[int, ...]:
        """Replace the target by the snapshot whose verified files are in ``folder``, atomically: on any failure
        the target stays as it was; without ``force`` it must still hold no data when it is replaced. ``finish``
        runs on the restored warehouse before it replaces the target (the command line appends the restore to the
        audit log there). Returns the migrations applied after loading (a backup of an older schema)."""
        ...


def backend_for(db: str | Path) -> Backend:
    """The backend of a ``--db`` value: a DuckDB file, or (later) a PostgreSQL URL."""
    text = str(db)
    if text.startswith(("postgresql://", "postgres://")):
        raise BackupError("Backup and restore of a PostgreSQL warehouse are not built yet; use pg_dump meanwhile. "
                          "The DuckDB warehouse (a file) is supported.")
    from .backup_duckdb import DuckDBBackend

    return DuckDBBackend(Path(text))


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    sha256: str
    manifest: Manifest

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "bytes": self.bytes, "sha256": self.sha256, **summary(self.manifest)}


@dataclass(frozen=True)
class RestoreResult:
    target: str
    backup: Path
    sha256: str
    manifest: Manifest
    replaced: dict[str, int] = field(default_factory=dict)  # what the target held before (with force)
    migrated: tuple[int, ...] = ()
    unreadable: str = ""  # why the target replaced (with force) could not be read, when it could not

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "backup": str(self.backup), "sha256": self.sha256, **summary(self.manifest),
                "replaced_rows": sum(self.replaced.values()), "replaced_unreadable": self.unreadable or None,
                "migrated": list(self.migrated)}


def summary(manifest: Manifest) -> dict[str, Any]:
    return {"created_at": manifest.created_at, "backend": manifest.backend, "program_version":
            manifest.program_version, "schema_version": manifest.schema_version, "rows": manifest.rows,
            "tables": [{"name": t.name, "rows": t.rows} for t in manifest.tables],
            "sequences": {s.name: s.last_value for s in manifest.sequences}}


def utc_stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup(db: str | Path, path: Path, *, force: bool = False, now: datetime | None = None) -> BackupResult:
    """Write a backup of the warehouse ``db`` to ``path`` (a directory: a file named after the time in it).
    An existing file is replaced only with ``force``; the new one appears under its name only when complete."""
    backend = backend_for(db)
    moment = now or datetime.now(UTC)
    if path.is_dir():
        path = path / f"cityscore-backup-{utc_stamp(moment)}.tar"
    if path.exists() and not force:
        raise BackupError(f"{path} exists; choose another name, or pass --force to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".cityscore-backup-", dir=path.parent) as work:
        folder = Path(work)
        (folder / "tables").mkdir()
        snap = backend.snapshot(folder)
        tables = tuple(_with_hash(t, folder / t.file) for t in snap.tables)
        manifest = Manifest(created_at=moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                            backend=backend.name, source=backend.location, migrations=snap.migrations,
                            tables=tables, sequences=snap.sequences)
        size, digest = _write_archive(path, manifest, folder, moment)
    return BackupResult(path, size, digest, manifest)


def _with_hash(table: TableDump, file: Path) -> TableDump:
    size, digest = file_digest(file)
    return TableDump(table.name, table.file, table.rows, table.columns, size, digest)


def file_digest(file: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with file.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def _member(name: str, size: int, moment: datetime) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(moment.timestamp())
    return info


def _write_archive(path: Path, manifest: Manifest, folder: Path, moment: datetime) -> tuple[int, str]:
    """The archive under a temporary name beside ``path`` (readable by its owner only: it holds every table),
    flushed to disk, then renamed into place."""
    partial = path.parent / f".{path.name}.{secrets.token_hex(4)}.partial"
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                text = json.dumps(manifest.to_json(), ensure_ascii=False, indent=2).encode("utf-8")
                tar.addfile(_member(MANIFEST, len(text), moment), io.BytesIO(text))
                for table in manifest.tables:
                    with (folder / table.file).open("rb") as f:
                        tar.addfile(_member(table.file, table.bytes, moment), f)
            raw.flush()
            os.fsync(raw.fileno())
        size, digest = file_digest(partial)
        os.replace(partial, path)
        sync_dir(path.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return size, digest


def sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_manifest(path: Path) -> Manifest:
    """The manifest of the backup ``path`` (nothing else is read or checked)."""
    with _open_archive(path) as tar:
        return _manifest_of(tar, path)


@contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    try:
        with tarfile.open(path, "r:") as tar:
            yield tar
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{path} is not a readable backup (damaged or truncated: {exc}); nothing was restored. "
                          "Use another backup.") from None


def _manifest_of(tar: tarfile.TarFile, path: Path) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError(f"{path} is not a CityScore-KZ backup: it holds no {MANIFEST}.") from None
    if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
        raise BackupError(f"The {MANIFEST} of {path} is not a plain file of a sensible size; nothing was restored.")
    f = tar.extractfile(member)
    assert f is not None
    try:
        data = json.loads(f.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"The manifest of {path} is damaged ({exc}); nothing was restored. Use another "
                          "backup.") from None
    return Manifest.from_json(data, str(path))


def unpack(path: Path, folder: Path) -> Manifest:
    """Check the backup ``path`` whole and extract its tables into ``folder``: exactly the files the manifest lists,
    each of its size and SHA-256. Raises :class:`BackupError` naming the first file that differs."""
    with _open_archive(path) as tar:
        manifest = _manifest_of(tar, path)
        members = tar.getmembers()
        names = [m.name for m in members]
        if len(set(names)) != len(names):
            raise BackupError(f"{path} holds a file twice; nothing was restored. Use another backup.")
        listed = {t.file for t in manifest.tables}
        extra = sorted(set(names) - listed - {MANIFEST})
        missing = sorted(listed - set(names))
        if extra or missing:
            what = (f"files the manifest does not list ({', '.join(extra)})" if extra
                    else f"no {', '.join(missing)}")
            raise BackupError(f"{path} holds {what}; it is damaged or was altered, and nothing was restored.")
        by_name = {m.name: m for m in members}
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        for table in manifest.tables:
            member = by_name[table.file]
            if not member.isfile():
                raise BackupError(f"{table.file} in {path} is not a plain file; nothing was restored.")
            source = tar.extractfile(member)
            assert source is not None
            size, digest = _copy_hashing(source, folder / table.file)
            if size != table.bytes or digest != table.sha256:
                raise BackupError(f"The backup {path} is damaged: {table.file} (table {table.name}) has "
                                  f"{size} bytes and SHA-256 {digest[:16]}…, the manifest says {table.bytes} bytes "
                                  f"and {table.sha256[:16]}…. Nothing was restored; use another backup.")
    return manifest


def _copy_hashing(source: IO[bytes], target: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with target.open("xb") as out:
        while chunk := source.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, h.hexdigest()


def restore(path: Path, db: str | Path, *, force: bool = False, finish: Finish | None = None) -> RestoreResult:
    """Restore the backup ``path`` into the warehouse ``db``: refused when ``db`` holds data unless ``force``;
    the archive is verified whole first; the target is replaced atomically, or left as it was. ``finish`` runs on
    the restored warehouse just before it replaces the target."""
    if not str(db).startswith(("postgresql://", "postgres://")) and Path(db).is_dir():
        raise BackupError(f"{db} is a folder: give the warehouse file to restore into, e.g. "
                          f"{Path(db) / 'cityscore.duckdb'}.")
    backend = backend_for(db)
    unreadable = ""
    try:
        occupied = backend.occupied()
    except UnreadableTargetError as exc:  # a damaged warehouse is what a restore is for, but only when asked
        if not force:
            raise BackupError(f"{exc} Pass --force to replace it with the backup.") from None
        occupied, unreadable = {}, str(exc)
    if occupied and not force:
        held = ", ".join(f"{name} {rows:,}" for name, rows in sorted(occupied.items(), key=lambda kv: -kv[1])[:5])
        raise BackupError(f"The warehouse {backend.location} is not empty ({sum(occupied.values()):,} rows: "
                          f"{held}{', …' if len(occupied) > 5 else ''}); restore into a new one with --db, or pass "
                          "--force to replace what it holds.")
    backend.scratch.mkdir(parents=True, exist_ok=True)
    digest = file_digest(path)[1] if path.is_file() else ""
    work = Path(tempfile.mkdtemp(prefix=".cityscore-restore-", dir=backend.scratch))
    try:
        manifest = unpack(path, work)
        then = (lambda wh: finish(wh, manifest, digest)) if finish else None
        migrated = backend.restore(work, manifest, then, force=force)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreResult(backend.location, path, digest, manifest, occupied, migrated, unreadable)
