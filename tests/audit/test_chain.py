"""The audit log: entries appended in the caller's transaction, a chain that verifies, and every kind of tampering —
an edited row, a deleted one, two swapped, a forged one appended — named with the first bad entry (D-71 … D-73)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from cityscore import audit
from cityscore.audit.chain import canonical_json
from cityscore.records.personal import personal_kind
from cityscore.store import Warehouse


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse(tmp_path / "wh.duckdb") as warehouse:
        yield warehouse


def fill(wh: Warehouse, n: int = 6) -> None:
    for i in range(1, n + 1):
        assert audit.record(wh, who="cli:tester", action="ingest", object=f"batch {i}",
                            summary={"batch_id": i, "rows": 10 * i, "sha256": hashlib.sha256(b"%d" % i).hexdigest(),
                                     "file": f"calls-{i}.csv"}) == i


def test_entries_chain_and_verify(wh: Warehouse) -> None:
    assert audit.verify(wh).ok and audit.verify(wh).entries == 0
    fill(wh)
    result = audit.verify(wh)
    assert (result.ok, result.entries, result.first_bad, result.reason) == (True, 6, None, "")
    assert result.to_json()["message"] == "6 entries verified: the chain is intact"
    rows = audit.entries(wh)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["prev_hash"] == audit.GENESIS and all(b["prev_hash"] == a["hash"] for a, b in pairwise(rows))
    assert result.head_seq == 6 and result.head_hash == rows[-1]["hash"]


def test_an_exported_entry_is_checked_with_the_rule_alone(wh: Warehouse) -> None:
    """The hash is SHA-256 of prev_hash + the canonical JSON of the hashed fields: recomputable from the JSON export."""
    fill(wh, 2)
    for row in audit.entries(wh):
        content = {k: row[k] for k in ("seq", "at", "who", "action", "object", "summary")}
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256((str(row["prev_hash"]) + text).encode()).hexdigest() == row["hash"]
    stored = wh.scalar("SELECT summary FROM audit_log WHERE seq = 1")
    assert stored == canonical_json(json.loads(stored)) and stored.startswith('{"batch_id":1,"file"')


def test_record_joins_the_callers_transaction(wh: Warehouse) -> None:
    fill(wh, 1)
    def failing_change() -> None:
        with wh.transaction():
            assert audit.record(wh, who="x.y", action="batch.delete", object="batch 1", summary={}) == 2
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        failing_change()
    assert wh.count("audit_log") == 1  # rolled back with the change it described
    with wh.transaction():
        seq = audit.record(wh, who="x.y", action="batch.delete", object="batch 1", summary={"rows": 3})
        assert wh.in_transaction
    assert seq == 2 and audit.verify(wh).ok  # no gap left by the rolled-back entry


def test_entries_filters(wh: Warehouse) -> None:
    fill(wh, 3)
    audit.record(wh, who="astana.akimat", action="ingest", object="batch 9", summary={})
    assert [e["seq"] for e in audit.entries(wh, who="astana.akimat")] == [4]
    assert [e["seq"] for e in audit.entries(wh, limit=2)] == [3, 4]
    assert audit.entries(wh, since=datetime.now() + timedelta(days=1)) == []
    assert len(audit.entries(wh, since=datetime(2000, 1, 1))) == 4


def test_cli_actor_names_the_os_user() -> None:
    assert audit.cli_actor().startswith("cli:") and len(audit.cli_actor()) > 4


def test_personal_data_never_enters_the_log(wh: Warehouse) -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    audit.record(wh, who="cli:tester", action="ingest", object="file of +7 701 123 45 67",
                 summary={"file": "calls 87011234567.csv", "note": ["ИИН 900101300265"], "sha256": digest,
                          "n": 87011234567})
    entry = audit.entries(wh)[0]
    texts = [str(entry["object"]), json.dumps(entry["summary"], ensure_ascii=False)]
    assert personal_kind("ИИН 900101300265") == "iin" and personal_kind("+7 701 123 45 67") == "phone"
    assert all(personal_kind(t) is None for t in texts), texts
    assert "[phone number]" in texts[0] and "[ИИН]" in texts[1]
    assert entry["summary"]["sha256"] == digest  # type: ignore[index]
    assert audit.verify(wh).ok


def test_bad_input_is_refused(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="dotted"):
        audit.record(wh, who="x", action="Batch Delete", object="batch 1", summary={})
    with pytest.raises(ValueError, match="who"):
        audit.record(wh, who=" ", action="ingest", object="batch 1", summary={})
    with pytest.raises(ValueError, match="JSON compliant"):
        audit.record(wh, who="x", action="ingest", object="batch 1", summary={"v": float("nan")})
    assert wh.count("audit_log") == 0


# --- tampering ---------------------------------------------------------------------------------------------------
def verdict(wh: Warehouse) -> tuple[bool, int | None, str]:
    result = audit.verify(wh)
    return result.ok, result.first_bad, result.reason


def test_an_edited_summary_is_altered(wh: Warehouse) -> None:
    fill(wh)
    wh.con.execute("""UPDATE audit_log SET summary = replace(summary, '"rows":30', '"rows":3') WHERE seq = 3""")
    assert verdict(wh) == (False, 3, "altered")
    assert audit.verify(wh).message == "entry 3 was altered"


def test_an_edited_and_rehashed_entry_is_altered(wh: Warehouse) -> None:
    """Whoever edits an entry and computes its hash again breaks the link of the next entry to it."""
    fill(wh)
    row = audit.entries(wh)[2]
    content = {k: row[k] for k in ("seq", "at", "who", "action", "object", "summary")}
    content["who"] = "someone.else"
    wh.con.execute("UPDATE audit_log SET who = 'someone.else', hash = ? WHERE seq = 3",
                   [audit.entry_hash(str(row["prev_hash"]), content)])
    assert verdict(wh) == (False, 3, "altered")


@pytest.mark.parametrize(("seq", "first_bad"), [(1, 1), (4, 4), (6, 6)])
def test_a_deleted_entry(wh: Warehouse, seq: int, first_bad: int) -> None:
    fill(wh)
    wh.con.execute("DELETE FROM audit_log WHERE seq = ?", [seq])
    assert verdict(wh) == (False, first_bad, "deleted")


def test_swapped_entries_are_reordered(wh: Warehouse) -> None:
    fill(wh)
    wh.con.execute("UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 5 ELSE 2 END WHERE seq IN (2, 5)")
    assert verdict(wh) == (False, 2, "reordered")


def test_a_forged_entry_appended_is_inserted(wh: Warehouse) -> None:
    """Even with a hash computed by the rule, an entry appended without going through the head is found."""
    fill(wh)
    last = audit.entries(wh)[-1]
    content = {"seq": 7, "at": "2026-05-01T00:00:00.000000Z", "who": "cli:tester", "action": "batch.delete",
               "object": "batch 1", "summary": {}}
    wh.con.execute("INSERT INTO audit_log VALUES (7, TIMESTAMP '2026-05-01 00:00:00', 'cli:tester', 'batch.delete', "
                   "'batch 1', '{}', ?, ?)", [last["hash"], audit.entry_hash(str(last["hash"]), content)])
    assert verdict(wh) == (False, 7, "inserted")


def test_a_forged_entry_through_a_moved_head_cannot_be_told(wh: Warehouse) -> None:
    """What the chain cannot prove (D-72): an entry forged with the rule *and* the head moved looks genuine; only
    a head kept outside the warehouse (`audit verify --format json`) shows it."""
    fill(wh, 2)
    before = audit.verify(wh).head_hash
    last = audit.entries(wh)[-1]
    content = {"seq": 3, "at": "2026-05-01T00:00:00.000000Z", "who": "cli:tester", "action": "ingest",
               "object": "batch 3", "summary": {}}
    digest = audit.entry_hash(str(last["hash"]), content)
    wh.con.execute("INSERT INTO audit_log VALUES (3, TIMESTAMP '2026-05-01 00:00:00', 'cli:tester', 'ingest', "
                   "'batch 3', '{}', ?, ?)", [last["hash"], digest])
    wh.con.execute("UPDATE audit_head SET seq = 3, hash = ?", [digest])
    assert audit.verify(wh).ok and audit.verify(wh).head_hash != before


def test_an_edited_head_is_found(wh: Warehouse) -> None:
    fill(wh, 3)
    wh.con.execute("UPDATE audit_head SET hash = ?", ["f" * 64])
    assert verdict(wh) == (False, 3, "altered")
