"""The warehouse schema, as numbered migrations applied in order and recorded in ``schema_migrations``.

Never edit a migration that has shipped: add a new one. A test checks that the raw tables of the warehouse match the
raw record schemas (``cityscore.ingest.schemas``), so a schema change without its migration fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..records import SCHEMAS, Schema

SQL_TYPES = {"text": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE",
             "timestamp": "TIMESTAMP"}


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


def raw_table_ddl(schema: Schema) -> str:
    """CREATE TABLE of a raw record table: provenance columns, then the schema's typed columns (timestamps UTC)."""
    columns = ["batch_id BIGINT NOT NULL", "row_number BIGINT NOT NULL"]
    columns += [f'"{c.name}" {SQL_TYPES[c.type]}' for c in schema.columns]
    return f"CREATE TABLE IF NOT EXISTS raw_{schema.table} ({', '.join(columns)})"


CORE = (
    "CREATE SEQUENCE IF NOT EXISTS batch_ids START 1",
    """CREATE TABLE IF NOT EXISTS batches (
        batch_id BIGINT PRIMARY KEY,
        table_name VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        file_path VARCHAR,
        content_sha256 VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        file_format VARCHAR,
        encoding VARCHAR,
        settlement_override VARCHAR,
        rows_total BIGINT NOT NULL,
        rows_accepted BIGINT NOT NULL,
        rows_rejected BIGINT NOT NULL,
        ingested_at TIMESTAMP NOT NULL,
        UNIQUE (content_sha256, table_name, source)
    )""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id BIGINT NOT NULL,
        file_name VARCHAR NOT NULL,
        row_number BIGINT NOT NULL,
        column_name VARCHAR,
        code VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        raw VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS observations (
        batch_id BIGINT NOT NULL,
        row_number BIGINT NOT NULL,
        settlement VARCHAR NOT NULL,
        kpi VARCHAR NOT NULL,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        value DOUBLE,
        numerator DOUBLE,
        denominator DOUBLE,
        baseline DOUBLE,
        component VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS additional_initiatives (
        batch_id BIGINT NOT NULL,
        row_number BIGINT NOT NULL,
        settlement VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        sphere VARCHAR,
        in_roadmap BOOLEAN,
        report_signed BOOLEAN,
        indicator_count BIGINT,
        started DATE,
        completed DATE
    )""",
    """CREATE TABLE IF NOT EXISTS kpi_values (
        settlement VARCHAR NOT NULL,
        kpi VARCHAR NOT NULL,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        value DOUBLE,
        numerator DOUBLE,
        denominator DOUBLE,
        baseline DOUBLE,
        component VARCHAR,
        measure VARCHAR NOT NULL,
        source_table VARCHAR NOT NULL,
        rows_used BIGINT,
        standard_version VARCHAR NOT NULL,
        computed_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS score_runs (
        run_id BIGINT PRIMARY KEY,
        year INTEGER NOT NULL,
        standard_version VARCHAR NOT NULL,
        policy_name VARCHAR NOT NULL,
        policy_json VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
    "CREATE SEQUENCE IF NOT EXISTS score_run_ids START 1",
    """CREATE TABLE IF NOT EXISTS scores (
        run_id BIGINT NOT NULL,
        year INTEGER NOT NULL,
        settlement VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        cityscore DOUBLE NOT NULL,
        cityscore_exact DOUBLE NOT NULL,
        cityscore_uncapped DOUBLE NOT NULL,
        base DOUBLE NOT NULL,
        bonus DOUBLE NOT NULL,
        band VARCHAR NOT NULL,
        rank INTEGER,
        previous_rank INTEGER,
        coverage DOUBLE NOT NULL,
        result_json VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS score_kpis (
        run_id BIGINT NOT NULL,
        settlement VARCHAR NOT NULL,
        kpi VARCHAR NOT NULL,
        section VARCHAR NOT NULL,
        counts BOOLEAN NOT NULL,
        reason VARCHAR,
        actual DOUBLE,
        target DOUBLE,
        score DOUBLE,
        weight DOUBLE NOT NULL,
        points_at_stake DOUBLE NOT NULL
    )""",
)

def _mask_existing() -> tuple[str, ...]:
    """Quarantined rows of earlier versions kept raw cells and messages unmasked: mask them now."""
    from ..records.personal import sql_mask

    return (f"UPDATE quarantine SET raw = {sql_mask('raw')}, message = {sql_mask('message')}",)


CHANGES = (
    "ALTER TABLE quarantine ADD COLUMN fix VARCHAR",
    "ALTER TABLE quarantine ADD COLUMN quarantined_at TIMESTAMP",
    "UPDATE quarantine SET quarantined_at = (SELECT b.ingested_at FROM batches b "
    "WHERE b.batch_id = quarantine.batch_id)",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS change_ids START 1",
    """CREATE TABLE IF NOT EXISTS data_changes (
        change_id BIGINT PRIMARY KEY,
        kind VARCHAR NOT NULL,          -- loaded, replaced, deleted
        table_name VARCHAR NOT NULL,
        batch_id BIGINT NOT NULL,       -- the batch loaded, or the batch whose rows were replaced or deleted
        by_batch BIGINT,                -- for replaced: the batch that replaced them
        settlement VARCHAR,
        first_at TIMESTAMP,             -- the span of time the change touches (NULL: unknown, every period)
        last_at TIMESTAMP,
        rows BIGINT NOT NULL,
        changed_at TIMESTAMP NOT NULL,
        note VARCHAR
    )""",
    "ALTER TABLE batches ADD COLUMN rows_replaced BIGINT DEFAULT 0",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "batches, quarantine, observations, KPI values, scores", CORE),
    Migration(2, "raw record tables", tuple(raw_table_ddl(s) for s in SCHEMAS.values())),
    Migration(3, "quarantine fixes and dates, masked personal data; meta; data changes", (*CHANGES,
                                                                                          *_mask_existing())),
)

LATEST = MIGRATIONS[-1].version
