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

LINEAGE = (
    "ALTER TABLE raw_transit_stop_events ADD COLUMN IF NOT EXISTS cancelled BOOLEAN",
    "ALTER TABLE kpi_values ADD COLUMN IF NOT EXISTS baseline_numerator DOUBLE",
    "ALTER TABLE kpi_values ADD COLUMN IF NOT EXISTS baseline_denominator DOUBLE",
    # which batches each computed KPI value was computed from: per settlement, KPI, period and raw table
    """CREATE TABLE IF NOT EXISTS kpi_value_batches (
        settlement VARCHAR NOT NULL,
        kpi VARCHAR NOT NULL,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        source_table VARCHAR NOT NULL,
        batch_id BIGINT NOT NULL,
        rows_used BIGINT NOT NULL,
        role VARCHAR NOT NULL           -- value: the period itself; baseline: the same period a year earlier
    )""",
)

PUBLISHED = (
    # the trend of each scoring run: CityScore year to date after each month (scoring/trend.py, decisions.md D-65)
    """CREATE TABLE IF NOT EXISTS score_trend (
        run_id BIGINT NOT NULL,
        settlement VARCHAR NOT NULL,
        series VARCHAR NOT NULL,        -- run: the run's own policy; monitoring: KPIs without data left out
        month DATE NOT NULL,            -- the first day of the month; the score is year to date through its end
        cityscore DOUBLE NOT NULL,
        cityscore_exact DOUBLE NOT NULL,
        base DOUBLE NOT NULL,
        bonus DOUBLE NOT NULL,
        coverage DOUBLE NOT NULL,
        band VARCHAR NOT NULL,
        PRIMARY KEY (run_id, settlement, series, month)
    )""",
    # the daily monitor as stored by `cityscore score`, `demo` and `compute --grain day` (D-66)
    "CREATE SEQUENCE IF NOT EXISTS monitor_run_ids START 1",
    """CREATE TABLE IF NOT EXISTS monitor_runs (
        monitor_run_id BIGINT PRIMARY KEY,
        daily_computed_at TIMESTAMP,    -- max(computed_at) of the daily KPI values it was computed from
        overall_cap DOUBLE,
        standard_version VARCHAR NOT NULL,
        trigger VARCHAR NOT NULL,       -- what stored it: a scoring run, compute --grain day
        created_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS monitor_scores (
        monitor_run_id BIGINT NOT NULL,
        settlement VARCHAR NOT NULL,
        as_of DATE NOT NULL,            -- the last day with daily values of the settlement (the dashboard's default)
        policy_run_id BIGINT,           -- the scoring run whose policy chose the KPIs (NULL: the official defaults)
        overall_day DOUBLE,
        overall_week DOUBLE,
        overall_month DOUBLE,
        overall_quarter DOUBLE,
        result_json VARCHAR NOT NULL,
        PRIMARY KEY (monitor_run_id, settlement)
    )""",
)

PROVENANCE = (
    # batches written by the simulator (cityscore demo; cityscore ingest of the files of cityscore simulate), and
    # scoring runs with a result computed from them (store/provenance.py, decisions.md D-68)
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS simulated BOOLEAN DEFAULT false",
    "UPDATE batches SET simulated = false WHERE simulated IS NULL",
    "ALTER TABLE score_runs ADD COLUMN IF NOT EXISTS simulated BOOLEAN DEFAULT false",
    "UPDATE score_runs SET simulated = false WHERE simulated IS NULL",
    # earlier demo runs: their source is "demo <folder of the simulated files>", and the batches they loaded came
    # from that folder
    "UPDATE score_runs SET simulated = true WHERE source LIKE 'demo %'",
    "UPDATE batches SET simulated = true WHERE EXISTS (SELECT 1 FROM score_runs r WHERE r.source LIKE 'demo %' "
    "AND replace(batches.file_path, '\\', '/') LIKE '%' || replace(substr(r.source, 6), '\\', '/') || '/%')",
)

AUDIT_GENESIS = "0" * 64  # the prev_hash of the first entry of the audit log

AUDIT = (
    # the append-only, hash-chained log of every change (cityscore.audit, decisions.md D-71 … D-73)
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY,         -- 1, 2, 3 … without gaps
        recorded_at TIMESTAMP NOT NULL, -- UTC ("at" in the JSON)
        who VARCHAR NOT NULL,           -- an account's login, or cli:<os user>
        action VARCHAR NOT NULL,        -- ingest, batch.delete, run.score, user.add, token.issue …
        object VARCHAR NOT NULL,        -- what it was done to: "batch 12", "run 3", "user astana.akimat"
        summary VARCHAR NOT NULL,       -- canonical JSON (sorted keys): ids, counts, SHA-256 of files; no personal data
        prev_hash VARCHAR NOT NULL,     -- the hash of entry seq - 1 (the genesis: 64 zeros)
        hash VARCHAR NOT NULL           -- SHA-256 of prev_hash and the canonical content of this entry
    )""",
    # the head of the chain: the last seq and hash, one row; updating it is the row lock that orders the writers
    "CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR NOT NULL)",
    f"INSERT INTO audit_head SELECT 1, 0, '{AUDIT_GENESIS}' WHERE NOT EXISTS (SELECT 1 FROM audit_head)",
)

ACCOUNTS = (
    # accounts of the ministry and of the cities (cityscore.accounts, decisions.md D-74 … D-76)
    """CREATE TABLE IF NOT EXISTS accounts (
        login VARCHAR PRIMARY KEY,
        role VARCHAR NOT NULL,          -- ministry, city
        password_hash VARCHAR,          -- argon2id, PHC string; NULL: no password (tokens only)
        disabled BOOLEAN NOT NULL DEFAULT false,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        password_set_at TIMESTAMP,
        disabled_at TIMESTAMP
    )""",
    # the settlements (KATO codes) a city account may write for
    """CREATE TABLE IF NOT EXISTS account_settlements (
        login VARCHAR NOT NULL,
        settlement VARCHAR NOT NULL,
        PRIMARY KEY (login, settlement)
    )""",
    "CREATE SEQUENCE IF NOT EXISTS api_token_ids START 1",
    # API tokens, stored only as the SHA-256 of the token (shown once, when issued)
    """CREATE TABLE IF NOT EXISTS api_tokens (
        token_id BIGINT PRIMARY KEY,
        login VARCHAR NOT NULL,
        token_sha256 VARCHAR NOT NULL UNIQUE,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        expires_at TIMESTAMP,           -- NULL: never
        revoked_at TIMESTAMP,
        last_used_at TIMESTAMP
    )""",
)

WRITES = (
    # who sent each batch through the service (NULL: the command line)
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS uploaded_by VARCHAR",
    # a retried write with the same Idempotency-Key answers what the first one answered, storing nothing new
    """CREATE TABLE IF NOT EXISTS api_idempotency (
        login VARCHAR NOT NULL,
        idempotency_key VARCHAR NOT NULL,
        endpoint VARCHAR NOT NULL,
        request_sha256 VARCHAR NOT NULL,
        status INTEGER NOT NULL,
        response_json VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (login, idempotency_key)
    )""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "batches, quarantine, observations, KPI values, scores", CORE),
    Migration(2, "raw record tables", tuple(raw_table_ddl(s) for s in SCHEMAS.values())),
    Migration(3, "quarantine fixes and dates, masked personal data; meta; data changes", (*CHANGES,
                                                                                          *_mask_existing())),
    Migration(4, "cancelled arrivals; pooled baselines; the batches of each computed KPI value", LINEAGE),
    Migration(5, "the stored monthly trend of each scoring run and the stored daily monitor", PUBLISHED),
    Migration(6, "simulated batches and scoring runs on them", PROVENANCE),
    Migration(7, "the hash-chained audit log", AUDIT),
    Migration(8, "accounts, their settlements, API tokens", ACCOUNTS),
    Migration(9, "who sent each batch; idempotency keys of the write API", WRITES),
)

LATEST = MIGRATIONS[-1].version
