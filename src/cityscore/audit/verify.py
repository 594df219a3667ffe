"""Checking the audit chain: the first entry that was altered, deleted, reordered or inserted (decisions.md D-73).

The entries are read in ``seq`` order and each is checked against the one before it and against the chain's head
(``audit_head``, the last seq and hash recorded by :func:`~cityscore.audit.record`):

- **inserted** — an entry beyond the head's seq (appended without :func:`record`), or with a seq below 1;
- **deleted** — a seq missing (``5`` follows ``3``: entry 4 was deleted), or the head naming more entries than there
  are (the last ones were deleted);
- **reordered** — an entry not chained to the one before it while another entry is (seqs were swapped);
- **altered** — an entry whose hash is not the hash of its content (its summary, who, when … was edited), or whose
  successor was chained to another hash than its own (it was edited and its hash computed again), or the head's
  hash is not the last entry's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..store.changes import Reader
from .chain import COLUMNS, GENESIS, Entry
from .log import has_log

Reason = Literal["", "altered", "deleted", "reordered", "inserted"]


@dataclass(frozen=True)
class Verification:
    """The verdict on the chain: ``ok``, how many ``entries`` there are, and when not ok the seq of the first bad
    entry (``first_bad``) and why (``reason``; ``detail`` says it in a sentence)."""

    ok: bool
    entries: int
    first_bad: int | None = None
    reason: Reason = ""
    detail: str = ""
    head_seq: int | None = None
    head_hash: str | None = None

    @property
    def message(self) -> str:
        if self.ok:
            return f"{self.entries} entr{'y' if self.entries == 1 else 'ies'} verified: the chain is intact"
        if self.first_bad is None:
            return f"the audit log was {self.reason}: {self.detail}"
        return f"entry {self.first_bad} was {self.reason}"

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "entries": self.entries, "first_bad": self.first_bad, "reason": self.reason or None,
                "message": self.message, "detail": self.detail or None,
                "head": {"seq": self.head_seq, "hash": self.head_hash}}


def verify(reader: Reader) -> Verification:
    """Check every entry of the audit log (see the module's rules); a warehouse without the log verifies empty."""
    if not has_log(reader):
        return Verification(True, 0)
    rows = [Entry.of_row(r) for r in reader.rows(f"SELECT {COLUMNS} FROM audit_log ORDER BY seq")]
    head = reader.rows("SELECT seq, hash FROM audit_head WHERE id = 1")
    head_seq, head_hash = (int(head[0][0]), str(head[0][1])) if head else (None, None)
    count = len(rows)

    def bad(seq: int | None, reason: Reason, detail: str) -> Verification:
        return Verification(False, count, seq, reason, detail, head_seq, head_hash)

    if head_seq is None and rows:
        return bad(None, "deleted", "the head of the chain (audit_head) is missing")
    chained_to: dict[str, list[int]] = {}
    for entry in rows:
        chained_to.setdefault(entry.prev_hash, []).append(entry.seq)
    prev, expected = GENESIS, 1
    for entry in rows:
        seq = entry.seq
        if (head_seq is not None and seq > head_seq) or seq < expected:
            return bad(seq, "inserted", f"entry {seq} was not appended through the log (the head is at "
                                        f"{head_seq})")
        if seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}–{seq - 1}"
            return bad(expected, "deleted", f"entry {missing} is missing: {seq} follows {expected - 1}")
        if entry.prev_hash != prev:
            others = [s for s in chained_to.get(prev, []) if s != seq]
            if others:
                return bad(seq, "reordered", f"entry {others[0]} is the one chained to entry {seq - 1}")
            if entry.holds_up() and seq > 1:
                return bad(seq - 1, "altered", f"entry {seq} was chained to another hash than entry {seq - 1}'s "
                                               "(it was edited and its hash computed again)")
            return bad(seq, "altered", f"entry {seq} is not chained to entry {seq - 1}")
        if not entry.holds_up():
            return bad(seq, "altered", f"the content of entry {seq} does not match its hash")
        prev, expected = entry.hash, expected + 1
    last = expected - 1
    if head_seq is not None and head_seq > last:
        first = last + 1
        missing = f"{first}" if head_seq == first else f"{first}–{head_seq}"
        return bad(first, "deleted", f"entry {missing} is missing: the head names {head_seq} entries")
    if head_hash is not None and head_hash != prev:
        return bad(last or None, "altered", "the last entry's hash is not the one the head recorded")
    return Verification(True, count, head_seq=head_seq, head_hash=head_hash)
