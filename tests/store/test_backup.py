"""Backup and restore (decisions.md D-80): the demo warehouse backed up and restored into an empty one gives every
table row for row and every sequence where it was; a damaged, truncated or altered backup is refused before
anything is written; a failure while loading leaves the target as it was."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import tarfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cityscore.store import LATEST, MIGRATIONS, Warehouse
from cityscore.store.backup import MANIFEST, BackupError, BackupResult, backup, read_manifest, restore
from cityscore.store.backup_duckdb import fresh_counts
from cityscore.store.warehouse import MIGRATIONS_TABLE

from ..conftest import REPO, Cli, Demo

EXAMPLES = REPO / "docs" / "examples"


@pytest.fixture(scope="module")
def made(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> BackupResult:
    return backup(demo.db, tmp_path_factory.mktemp("backups") / "demo.tar")


@pytest.fixture(scope="module")
def restored(made: BackupResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("restored") / "cityscore.duckdb"
    result = restore(made.path, target)
    assert result.migrated == () and result.replaced == {}
    return target


def tables_of(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                       "ORDER BY table_name, column_index", [db]).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, kind))
    return tables


def sequences_of(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, Any]:
    return dict(con.execute("SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = ?",
                            [db]).fetchall())


def differences(a: Path, b: Path) -> dict[str, Any]:
    """Every way the warehouses ``a`` and ``b`` differ: tables, columns and types, rows (as multisets: EXCEPT ALL
    both ways), sequences."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        found: dict[str, Any] = {}
        ta, tb = tables_of(con, "a"), tables_of(con, "b")
        if ta != tb:
            found["schema"] = {t: (ta.get(t), tb.get(t)) for t in set(ta) | set(tb) if ta.get(t) != tb.get(t)}
        for table in sorted(set(ta) & set(tb)):
            for x, y in (("a", "b"), ("b", "a")):
                n = con.execute(f'SELECT count(*) FROM (SELECT * FROM {x}."{table}" EXCEPT ALL '
                                f'SELECT * FROM {y}."{table}")').fetchone()[0]  # type: ignore[index]
                if n:
                    found[f"{table}: rows only in {x}"] = n
        if sequences_of(con, "a") != sequences_of(con, "b"):
            found["sequences"] = (sequences_of(con, "a"), sequences_of(con, "b"))
        return found
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_restore_into_an_empty_warehouse_gives_every_table_row_for_row(demo: Demo, made: BackupResult,
                                                                        restored: Path) -> None:
    assert differences(demo.db, restored) == {}
    names = {t.name for t in made.manifest.tables}
    assert {"batches", "quarantine", "scores", "kpi_values", "schema_migrations"} <= names
    assert any(t.rows for t in made.manifest.tables if t.name.startswith("raw_"))
    if "audit_log" in names:  # the audit chain travels like every other table
        assert next(t for t in made.manifest.tables if t.name == "audit_log").rows > 0


def test_the_manifest_describes_the_snapshot(demo: Demo, made: BackupResult) -> None:
    manifest = read_manifest(made.path)
    assert manifest == made.manifest
    assert manifest.schema_version == LATEST and manifest.migrations == tuple(m.version for m in MIGRATIONS)
    assert manifest.backend == "duckdb" and manifest.source == str(demo.db)
    with Warehouse(demo.db, read_only=True) as wh:
        for table in manifest.tables:
            assert wh.count(f'"{table.name}"') == table.rows, table.name
        last = dict(wh.rows("SELECT sequence_name, last_value FROM duckdb_sequences()"))
    assert {s.name: s.last_value for s in manifest.sequences} == last
    with tarfile.open(made.path) as tar:
        members = tar.getmembers()
    assert members[0].name == MANIFEST
    assert {m.name for m in members[1:]} == {t.file for t in manifest.tables}
    for table in manifest.tables:
        assert len(table.sha256) == 64 and table.bytes > 0


def test_the_backup_is_readable_by_its_owner_only(made: BackupResult) -> None:
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    assert made.sha256 == digest(made.path) and made.bytes == made.path.stat().st_size
    assert leftovers(made.path.parent) == []


def test_a_new_batch_after_restore_gets_the_next_id(demo: Demo, made: BackupResult, restored: Path, tmp_path: Path,
                                                    cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """(The pseudonymisation key is not in the backup — it is a secret kept apart from the data, D-80 — so the
    ingest uses the demo's home, where its key is.)"""
    last = {s.name: s.last_value for s in made.manifest.sequences}
    assert last["batch_ids"]
    first, second = tmp_path / "first.duckdb", tmp_path / "second.duckdb"
    shutil.copy(restored, first)
    shutil.copy(restored, second)
    with Warehouse(first) as wh:
        for name, value in last.items():
            assert wh.scalar(f"SELECT nextval('{name}')") == (1 if value is None else value + 1), name
    monkeypatch.setenv("CITYSCORE_HOME", str(demo.root / "home"))
    cli("ingest", str(EXAMPLES / "observations.csv"), "--db", str(second))
    with Warehouse(second, read_only=True) as wh:
        assert wh.scalar("SELECT max(batch_id) FROM batches") == last["batch_ids"] + 1


def test_restore_refuses_a_warehouse_that_holds_data(made: BackupResult, restored: Path, tmp_path: Path) -> None:
    target = tmp_path / "full.duckdb"
    shutil.copy(restored, target)
    before = digest(target)
    with pytest.raises(BackupError, match=r"is not empty .*--force"):
        restore(made.path, target)
    assert digest(target) == before
    result = restore(made.path, target, force=True)
    fresh = fresh_counts()  # rows the migrations insert themselves (the audit chain's head) are not data
    assert result.replaced == {t.name: t.rows - fresh.get(t.name, 0) for t in made.manifest.tables
                               if t.name != "schema_migrations" and t.rows > fresh.get(t.name, 0)}
    assert differences(restored, target) == {}
    assert leftovers(tmp_path) == [] and not Path(f"{target}.wal").exists()


def test_restore_into_a_new_empty_warehouse_is_allowed(made: BackupResult, tmp_path: Path) -> None:
    target = tmp_path / "empty.duckdb"
    Warehouse(target).close()  # migrated, but without data
    restore(made.path, target)
    assert Warehouse(target, read_only=True).count("batches") > 0


def _tamper(source: Path, target: Path, member: str, offset: int = 100) -> None:
    shutil.copy(source, target)
    with tarfile.open(source) as tar:
        start = tar.getmember(member).offset_data
    with target.open("r+b") as f:
        f.seek(start + offset)
        byte = f.read(1)
        f.seek(start + offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_a_corrupted_backup_is_refused_before_anything_is_written(made: BackupResult, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    _tamper(made.path, bad, "tables/batches.parquet")
    target = tmp_path / "target.duckdb"
    with pytest.raises(BackupError, match=r"damaged: tables/batches\.parquet \(table batches\).*Nothing was restored"):
        restore(bad, target)
    assert not target.exists() and leftovers(tmp_path) == []


def test_a_damaged_manifest_is_refused(made: BackupResult, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    _tamper(made.path, bad, MANIFEST, offset=5)
    with pytest.raises(BackupError, match="manifest"):
        restore(bad, tmp_path / "target.duckdb")


def test_a_truncated_or_foreign_file_is_refused(made: BackupResult, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(made.path.read_bytes()[: made.bytes // 2])
    with pytest.raises(BackupError, match=r"truncated|damaged|holds no"):
        restore(truncated, tmp_path / "a.duckdb")
    foreign = tmp_path / "foreign.tar"
    with tarfile.open(foreign, "w") as tar:
        data = b"hello"
        info = tarfile.TarInfo("notes.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError, match="not a CityScore-KZ backup"):
        restore(foreign, tmp_path / "b.duckdb")
    (tmp_path / "random.tar").write_bytes(b"\x00\x01not a tar at all" * 100)
    with pytest.raises(BackupError):
        restore(tmp_path / "random.tar", tmp_path / "c.duckdb")
    with pytest.raises(BackupError, match="No backup at"):
        restore(tmp_path / "missing.tar", tmp_path / "d.duckdb")
    assert not any((tmp_path / n).exists() for n in ("a.duckdb", "b.duckdb", "c.duckdb", "d.duckdb"))


def _rewrite(source: Path, target: Path, change: Any, extra: dict[str, bytes] | None = None) -> None:
    """A copy of the backup with its manifest changed by ``change`` (the files kept, so their hashes hold)."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old.getmembers():
            f = old.extractfile(member)
            assert f is not None
            data = f.read()
            if member.name == MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def test_a_failure_while_loading_leaves_the_target_as_it_was(made: BackupResult, restored: Path,
                                                             tmp_path: Path) -> None:
    def wrong_count(manifest: dict[str, Any]) -> None:
        next(t for t in manifest["tables"] if t["name"] == "scores")["rows"] += 1

    altered = tmp_path / "altered.tar"
    _rewrite(made.path, altered, wrong_count)
    target = tmp_path / "target.duckdb"
    shutil.copy(restored, target)
    before = digest(target)
    with pytest.raises(BackupError, match=r"Table scores: the backup holds [\d,]+ rows, its manifest says"):
        restore(altered, target, force=True)
    assert digest(target) == before and leftovers(tmp_path) == []


def test_files_the_manifest_does_not_list_are_refused(made: BackupResult, tmp_path: Path) -> None:
    altered = tmp_path / "extra.tar"
    _rewrite(made.path, altered, lambda m: None, extra={"tables/sneaky.parquet": b"PAR1"})
    with pytest.raises(BackupError, match="does not list"):
        restore(altered, tmp_path / "t.duckdb")

    def escape(manifest: dict[str, Any]) -> None:
        manifest["tables"][0]["file"] = "../../etc/passwd"

    _rewrite(made.path, tmp_path / "escape.tar", escape)
    with pytest.raises(BackupError, match="names files it may not"):
        restore(tmp_path / "escape.tar", tmp_path / "u.duckdb")


def test_a_backup_of_a_newer_schema_is_refused(made: BackupResult, tmp_path: Path) -> None:
    newer = tmp_path / "newer.tar"
    _rewrite(made.path, newer, lambda m: m["migrations"].append(LATEST + 100))
    with pytest.raises(BackupError, match="newer version"):
        restore(newer, tmp_path / "t.duckdb")
    assert not (tmp_path / "t.duckdb").exists()


def test_a_backup_of_an_older_schema_is_migrated_on_restore(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    first = [m for m in MIGRATIONS if m.version <= 3]
    con = duckdb.connect(str(old))
    con.execute(MIGRATIONS_TABLE)
    for migration in first:
        for statement in migration.statements:
            con.execute(statement)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                    [migration.version, migration.description])
    con.execute("INSERT INTO meta VALUES ('note', 'kept')")
    con.execute("SELECT nextval('batch_ids')")
    con.close()
    made = backup(old, tmp_path / "old.tar")
    assert made.manifest.schema_version == 3
    result = restore(made.path, tmp_path / "new.duckdb")
    assert result.migrated == tuple(m.version for m in MIGRATIONS if m.version > 3)
    with Warehouse(tmp_path / "new.duckdb") as wh:
        assert wh.version() == LATEST and wh.pending() == []
        assert wh.rows("SELECT * FROM meta") == [("note", "kept")]
        assert wh.scalar("SELECT nextval('batch_ids')") == 2


def test_backup_refuses_to_overwrite_and_names_a_file_in_a_directory(demo: Demo, made: BackupResult,
                                                                      tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"exists; .*--force"):
        backup(demo.db, made.path)
    result = backup(demo.db, tmp_path)
    assert result.path.parent == tmp_path and result.path.name.startswith("cityscore-backup-")
    assert result.path.suffix == ".tar" and leftovers(tmp_path) == []
    with pytest.raises(BackupError, match="No warehouse at"):
        backup(tmp_path / "missing.duckdb", tmp_path / "x.tar")


def test_the_commands(demo: Demo, tmp_path: Path, cli: Cli) -> None:
    archive = tmp_path / "b.tar"
    _, out = cli("backup", str(archive), "--db", str(demo.db), "--format", "json")
    made = json.loads(out)
    assert made["path"] == str(archive) and made["sha256"] == digest(archive)
    assert made["schema_version"] == LATEST and made["rows"] == sum(t["rows"] for t in made["tables"])
    target = tmp_path / "r.duckdb"
    _, out = cli("restore", str(archive), "--db", str(target), "--format", "json")
    done = json.loads(out)
    assert done["target"] == str(target) and done["rows"] == made["rows"] and done["replaced_rows"] == 0
    code, out = cli("restore", str(archive), "--db", str(target), ok=False)
    assert code == 1 and "not empty" in out and "--force" in out and "Traceback" not in out
    _tamper(archive, tmp_path / "bad.tar", "tables/scores.parquet")
    code, out = cli("restore", str(tmp_path / "bad.tar"), "--db", str(target), "--force", ok=False)
    assert code == 1 and "damaged" in out and "Traceback" not in out
    code, out = cli("backup", str(tmp_path), "--db", str(demo.db))
    assert "Backup of" in out and "SHA-256" in out


def test_the_restore_is_the_last_entry_of_the_restored_audit_chain(demo: Demo, tmp_path: Path, cli: Cli) -> None:
    audit = pytest.importorskip("cityscore.audit")
    archive = tmp_path / "b.tar"
    cli("backup", str(archive), "--db", str(demo.db))
    cli("restore", str(archive), "--db", str(tmp_path / "r.duckdb"))
    with Warehouse(tmp_path / "r.duckdb", read_only=True) as wh:
        last = audit.entries(wh, limit=1)
        assert last and last[0]["action"] == "warehouse.restore"
        assert last[0]["summary"]["sha256"] == digest(archive)
        assert audit.verify(wh).ok


def test_restore_waits_for_a_writer_and_gives_up_without_touching_the_target(
        made: BackupResult, restored: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process holding the target's write lock (an ingest in progress): the restore does not replace the
    file under it; after CITYSCORE_LOCK_WAIT seconds it stops with the busy error and the target is as it was."""
    import subprocess
    import sys

    from cityscore.store import WarehouseBusyError

    target = tmp_path / "busy.duckdb"
    shutil.copy(restored, target)
    before = digest(target)
    with subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                           "print('ready', flush=True); time.sleep(60)", str(target)], stdout=subprocess.PIPE,
                          text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            monkeypatch.setenv("CITYSCORE_LOCK_WAIT", "0.2")
            with pytest.raises(WarehouseBusyError, match="locked by another process"):
                restore(made.path, target, force=True)
        finally:
            holder.kill()
    assert digest(target) == before and leftovers(tmp_path) == []


def test_a_damaged_warehouse_is_replaced_only_with_force(made: BackupResult, restored: Path, tmp_path: Path) -> None:
    target = tmp_path / "damaged.duckdb"
    target.write_bytes(b"this was a warehouse once" * 1000)
    with pytest.raises(BackupError, match=r"cannot be read as a warehouse .*--force"):
        restore(made.path, target)
    assert target.read_bytes().startswith(b"this was a warehouse once")
    result = restore(made.path, target, force=True)
    assert result.unreadable and differences(restored, target) == {}
