"""The hash chain of the audit log: the canonical content of an entry and its hash (decisions.md D-72).

An entry's content is the JSON object ``{"action", "at", "object", "seq", "summary", "who"}`` written canonically:
keys sorted at every level, no spaces (``","`` and ``":"``), UTF-8 as is (Cyrillic not escaped), no NaN or infinity,
``at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds). Its hash is the SHA-256, in lowercase hex, of the
previous entry's hash followed by that text::

    hash = sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()

The first entry's ``prev_hash`` is :data:`GENESIS` (64 zeros). ``summary`` is stored as its canonical text, so an
entry exported by ``cityscore audit list --format json`` can be checked with nothing but this rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..store.migrations import AUDIT_GENESIS

GENESIS = AUDIT_GENESIS


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON (sorted keys, no spaces, UTF-8 as is); NaN and infinity are refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=_plain)


def _plain(value: Any) -> Any:
    """What a summary may hold besides JSON's own types: instants, days, sets and paths, as JSON."""
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "__fspath__"):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written into an audit summary")


def utc_naive(instant: datetime) -> datetime:
    """``instant`` as a naive UTC timestamp (how the warehouse stores instants); a naive one is taken as UTC."""
    return instant.astimezone(UTC).replace(tzinfo=None) if instant.tzinfo is not None else instant


def instant_text(instant: datetime) -> str:
    """The canonical text of an instant: ``2026-05-01T07:30:00.000000Z``."""
    return utc_naive(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Entry:
    """One row of ``audit_log`` as stored."""

    seq: int
    at: datetime
    who: str
    action: str
    object: str
    summary: str  # canonical JSON text
    prev_hash: str
    hash: str

    @classmethod
    def of_row(cls, row: tuple[Any, ...]) -> Entry:
        seq, at, who, action, obj, summary, prev_hash, digest = row
        return cls(int(seq), at, str(who), str(action), str(obj), str(summary), str(prev_hash), str(digest))

    def content(self) -> dict[str, Any]:
        """The hashed content (``summary`` parsed); raises ``ValueError`` when the stored summary is not JSON."""
        return {"seq": self.seq, "at": instant_text(self.at), "who": self.who, "action": self.action,
                "object": self.object, "summary": json.loads(self.summary)}

    def holds_up(self) -> bool:
        """Its summary is canonical JSON and its hash is the hash of its ``prev_hash`` and content."""
        try:
            content = self.content()
        except ValueError:
            return False
        return canonical_json(content["summary"]) == self.summary and entry_hash(self.prev_hash, content) == self.hash

    def to_json(self) -> dict[str, Any]:
        """The entry as ``cityscore audit list --format json`` and ``GET /api/v1/audit`` give it: exactly the hashed
        fields (``at`` in its canonical text), ``summary`` parsed, and the two hashes."""
        try:
            summary: Any = json.loads(self.summary)
        except ValueError:
            summary = self.summary
        return {"seq": self.seq, "at": instant_text(self.at), "who": self.who, "action": self.action,
                "object": self.object, "summary": summary, "prev_hash": self.prev_hash, "hash": self.hash}


def entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 (hex) of ``prev_hash`` followed by the canonical JSON of ``content``."""
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


COLUMNS = "seq, recorded_at, who, action, object, summary, prev_hash, hash"
