"""Where a published number comes from: score → annual value → monthly values → batches → standard and policy.

``lineage`` answers ``GET /api/v1/settlements/{kato}/kpis/{id}/lineage?year=`` and ``cityscore explain KATO KPI``.
It reads only what was stored: the run's KPI outcome (``score_kpis`` and the result JSON), the KPI values of the
year (``kpi_values`` computed from raw records, or ``observations`` sent as values), the batches each computed value
came from (``kpi_value_batches``, written by ``cityscore compute``) and the batches themselves (file name,
SHA-256, rows, when ingested). A KPI value computed from raw records wins over a value sent for the same KPI and
year (decisions.md D-35), so the chain shows the values scoring used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError
from .finite import finite

if TYPE_CHECKING:
    from .repository import Repository


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def lineage(repo: Repository, kato: str, kpi_id: str, year: int | None = None) -> dict[str, Any]:
    """The chain behind one settlement's KPI in the published run of ``year`` (default: the latest)."""
    kpi = repo.std.kpi(kpi_id)
    if kpi is None:
        raise NotFoundError(f"No KPI '{kpi_id}'; see /api/v1/standard/kpis.")
    settlement = repo.settlement(kato)
    run = repo.run(year)
    result = repo.result(settlement.kato, run.year)
    outcome = result.get("kpis", {}).get(kpi_id)
    not_counted = result.get("not_counted", {}).get(kpi_id)
    computed, sent, lineage_rows = repo._read(
        ("SELECT period_start, period_end, value, numerator, denominator, baseline, baseline_numerator, "
         "baseline_denominator, measure, source_table, rows_used, standard_version, computed_at FROM kpi_values "
         "WHERE settlement = ? AND kpi = ? AND year(period_start) = ? AND period_end > period_start "
         "ORDER BY period_start", [settlement.kato, kpi_id, run.year]),
        ("SELECT o.period_start, o.period_end, o.value, o.numerator, o.denominator, o.baseline, o.component, "
         "o.batch_id, o.row_number FROM observations o WHERE o.settlement = ? AND o.kpi = ? "
         "AND year(o.period_start) = ? ORDER BY o.period_start, o.component", [settlement.kato, kpi_id, run.year]),
        ("SELECT l.period_start, l.source_table, l.batch_id, l.rows_used, l.role, b.file_name, b.content_sha256, "
         "b.source, b.ingested_at, b.rows_accepted FROM kpi_value_batches l LEFT JOIN batches b USING (batch_id) "
         "WHERE l.settlement = ? AND l.kpi = ? AND year(l.period_start) = ? AND l.period_end > l.period_start "
         "ORDER BY l.batch_id, l.period_start", [settlement.kato, kpi_id, run.year]))
    monthly: list[dict[str, Any]] = []
    batches: dict[int, dict[str, Any]] = {}
    if computed:
        source = "computed"
        for (start, end, value, num, den, base, b_num, b_den, measure, table, rows, version, at) in computed:
            monthly.append(finite({
                "period_start": _iso(start), "period_end": _iso(end), "value": value, "numerator": num,
                "denominator": den, "baseline": base, "baseline_numerator": b_num, "baseline_denominator": b_den,
                "measure": measure, "source_table": table, "rows_used": rows, "standard_version": version,
                "computed_at": _iso(at)}))
        for start, table, batch_id, rows, role, name, sha, origin, ingested, accepted in lineage_rows:
            entry = batches.setdefault(int(batch_id), {
                "batch_id": int(batch_id), "file_name": name, "sha256": sha, "source": origin,
                "ingested_at": _iso(ingested), "rows_in_batch": accepted, "table": table, "rows_used": 0,
                "periods": [], "roles": []})
            entry["rows_used"] += int(rows)
            entry["periods"].append(_iso(start))
            if role not in entry["roles"]:
                entry["roles"].append(role)
    elif sent:
        source = "sent"
        ids = sorted({int(r[7]) for r in sent})
        info = {int(r[0]): r for r in repo._read(
            (f"SELECT batch_id, file_name, content_sha256, source, ingested_at, rows_accepted, table_name "
             f"FROM batches WHERE batch_id IN ({', '.join('?' for _ in ids)})", ids))[0]}
        for start, end, value, num, den, base, component, batch_id, row_number in sent:
            monthly.append(finite({"period_start": _iso(start), "period_end": _iso(end), "value": value,
                                   "numerator": num, "denominator": den, "baseline": base, "component": component,
                                   "batch_id": int(batch_id), "row": int(row_number)}))
            b = info.get(int(batch_id))
            entry = batches.setdefault(int(batch_id), {
                "batch_id": int(batch_id), "file_name": b[1] if b else None, "sha256": b[2] if b else None,
                "source": b[3] if b else None, "ingested_at": _iso(b[4]) if b else None,
                "rows_in_batch": b[5] if b else None, "table": b[6] if b else "observations", "rows_used": 0,
                "periods": [], "roles": ["value"]})
            entry["rows_used"] += 1
            entry["periods"].append(_iso(start))
    else:
        source = "none"
    measure = kpi.measure.model_dump(exclude_none=True) if kpi.measure is not None else None
    return {
        "settlement": settlement.kato, "name_ru": settlement.name_ru, "name_en": settlement.name_en,
        "kpi": kpi_id, "name": kpi.name.model_dump(), "unit": kpi.unit, "year": run.year,
        "score": finite(outcome) if outcome else None,
        "counts": outcome is not None,
        "not_counted_reason": not_counted,
        "annual": finite(outcome.get("input")) if outcome else None,
        "source": source,
        "measure": measure,
        "monthly": monthly,
        "batches": sorted(batches.values(), key=lambda b: b["batch_id"]),
        "run": {**run.to_json(), "policy_name": run.policy.get("name")},
        "standard_version": run.standard_version,
        "stale": repo.staleness(run.year).to_json(),
    }
