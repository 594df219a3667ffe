"""Removing a batch: every row a file brought, its quarantined rows and the batch itself, in one transaction, with
a data change (what was computed from it is stale) and an audit entry. Used by ``cityscore batches --delete`` and
``DELETE /api/v1/batches/{id}``."""

from __future__ import annotations

from typing import Any

from ..errors import NotFoundError
from ..store.warehouse import Warehouse
from .commit import record_deleted
from .loader import VALUE_TABLES


def delete_batch(wh: Warehouse, batch_id: int, *, actor: str) -> dict[str, Any]:
    """Remove batch ``batch_id`` with its rows; return ``{"table", "file", "rows"}``."""
    from .. import audit

    found = wh.rows("SELECT table_name, file_name, content_sha256, rows_accepted FROM batches WHERE batch_id = ?",
                    [batch_id])
    if not found:
        raise NotFoundError(f"No batch {batch_id}; list them with `cityscore batches`.")
    target, file_name, digest, rows = found[0]
    table = target if target in VALUE_TABLES else f"raw_{target}"
    with wh.transaction():
        record_deleted(wh, target, batch_id)
        for name in (table, "quarantine", "batches"):
            wh.con.execute(f"DELETE FROM {name} WHERE batch_id = ?", [batch_id])
        audit.record(wh, who=actor, action="batch.delete", object=f"batch {batch_id}",
                     summary={"table": target, "file": file_name, "sha256": digest, "rows": int(rows or 0)})
    return {"table": table, "file": file_name, "rows": int(rows or 0)}
