"""Appending to the audit log and reading it (decisions.md D-71, D-72).

:func:`record` appends one entry in the caller's open transaction (so the entry and the change it describes are
committed or rolled back together), or in a transaction of its own. The chain's head (``audit_head``: the last seq
and hash, one row) is updated first: that row is what orders concurrent writers — on PostgreSQL a writer waits for
the row lock of the one before it, on DuckDB (one writer) a second writer in the same process fails at once with
:class:`~cityscore.store.WarehouseBusyError` and may retry.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from datetime import datetime
from typing import Any

from ..records.personal import mask
from ..store.changes import Reader
from ..store.warehouse import Warehouse, WarehouseBusyError, utcnow
from .chain import COLUMNS, Entry, canonical_json, entry_hash, instant_text, utc_naive

ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_TEXT = 500  # who, action, object


def cli_actor() -> str:
    """``cli:<os user>``: who did what the command line did."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name in the environment or the password database
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"


def scrub(value: Any) -> Any:
    """``value`` with every phone number and ИИН-like run of twelve digits masked in its texts (keys and values, at
    any depth; a SHA-256 digest is kept as it is): the last guard that keeps personal data out of the log."""
    if isinstance(value, str):
        return value if DIGEST.fullmatch(value) else mask(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        return value if mask(text) == text else mask(text)
    if isinstance(value, dict):
        return {scrub(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((scrub(v) for v in value), key=str)
    return value  # instants, days, paths: made JSON by canonical_json


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"audit.record: {name} must be a non-empty text")
    if len(value) > MAX_TEXT:
        raise ValueError(f"audit.record: {name} is longer than {MAX_TEXT} characters")
    return mask(value)


def record(wh: Warehouse, *, who: str, action: str, object: str, summary: dict[str, object]) -> int:
    """Append one entry to the audit log and return its sequence number.

    ``who``: an account's login or :func:`cli_actor`; ``action``: a dotted name (``ingest``, ``batch.delete``,
    ``run.score``, ``user.add`` …); ``object``: what it was done to (``"batch 12"``); ``summary``: ids, counts and
    SHA-256 digests of files — never personal data, a password or a token (phone numbers and ИИН are masked here
    all the same). Inside the caller's open :meth:`~cityscore.store.Warehouse.transaction` the entry is part of it;
    outside, it is committed on its own."""
    if not isinstance(summary, dict):
        raise ValueError("audit.record: summary must be a dict")
    if not ACTION.fullmatch(action or ""):
        raise ValueError(f"audit.record: action {action!r} is not a dotted lowercase name such as 'batch.delete'")
    who, target = _text("who", who), _text("object", object)
    summary_text = canonical_json(scrub(summary))
    with wh.transaction():
        try:
            head = wh.rows("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        except Exception as exc:  # DuckDB: another transaction of this process appended first
            if type(exc).__name__ == "TransactionException":
                raise WarehouseBusyError(f"Another write to {wh.path} is being committed; try again.") from None
            raise
        seq, prev_hash = int(head[0][0]), str(head[0][1])
        at = utcnow()
        content = {"seq": seq, "at": instant_text(at), "who": who, "action": action, "object": target,
                   "summary": json.loads(summary_text)}  # exactly what verify reads back
        digest = entry_hash(prev_hash, content)
        wh.con.execute(f"INSERT INTO audit_log ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [seq, at, who, action, target, summary_text, prev_hash, digest])
        wh.con.execute("UPDATE audit_head SET hash = ? WHERE id = 1", [digest])
    return seq


def has_log(reader: Reader) -> bool:
    """The warehouse has the audit tables (migration 7)."""
    return bool(reader.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_log'"))


def entries(reader: Reader, *, since: datetime | None = None, who: str | None = None,
            limit: int | None = None) -> list[dict[str, object]]:
    """The entries, oldest first, as JSON (:meth:`Entry.to_json`): at or after ``since`` (a naive instant is UTC),
    of ``who`` only (exact), and with ``limit`` the latest ``limit`` of them."""
    if not has_log(reader):
        return []
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(utc_naive(since))
    if who is not None:
        where.append("who = ?")
        params.append(who)
    sql = f"SELECT {COLUMNS} FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
    if limit is not None:
        if limit < 0:
            raise ValueError("limit must be 0 or more")
        sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT {int(limit)}) AS latest"
    rows = reader.rows(sql + " ORDER BY seq", list(params))
    return [Entry.of_row(r).to_json() for r in rows]
