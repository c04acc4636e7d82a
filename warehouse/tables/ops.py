"""ops.*: bookkeeping the pipeline keeps about itself (schema version, runs, loads, warnings)."""

from __future__ import annotations

from warehouse.registry import Column, Table, register

SCHEMA_VERSION = register(
    Table(
        schema="ops",
        name="schema_version",
        description="One row per applied migration; the highest version is the warehouse's schema version.",
        primary_key=("version",),
        columns=(
            Column("version", "INTEGER", "Migration number, applied in increasing order"),
            Column("description", "VARCHAR", "What the migration changed", nullable=False),
            Column("applied_at", "TIMESTAMPTZ", "When it was applied", nullable=False),
        ),
    )
)

RUNS = register(
    Table(
        schema="ops",
        name="runs",
        description="One row per pipeline run that reached the warehouse: parameters, outcome and timing.",
        primary_key=("run_id",),
        columns=(
            Column("run_id", "VARCHAR", "Unique run identifier (the Prefect flow run id when run as a flow)"),
            Column("flow", "VARCHAR", "Which flow ran, e.g. daily", nullable=False),
            Column("started_at", "TIMESTAMPTZ", "Run start", nullable=False),
            Column("finished_at", "TIMESTAMPTZ", "Run end"),
            Column("status", "VARCHAR", "completed, completed_with_warnings or failed", nullable=False),
            Column("parameters_json", "VARCHAR", "The run's parameters as JSON (no secrets)"),
            Column("summary_json", "VARCHAR", "Rows per source, warnings count and headline figures as JSON"),
        ),
    )
)

LOAD_LOG = register(
    Table(
        schema="ops",
        name="load_log",
        description=(
            "One row per keyed upsert into a table: how many rows were inserted, updated or deleted, "
            "in one transaction."
        ),
        primary_key=("load_id",),
        columns=(
            Column("load_id", "VARCHAR", "Unique load identifier"),
            Column("run_id", "VARCHAR", "Run that performed the load (ops.runs.run_id)", nullable=False),
            Column("source", "VARCHAR", "Source of the rows, e.g. csv, yfinance, seeds, transform", nullable=False),
            Column("table_name", "VARCHAR", "Qualified target table, e.g. core.prices_daily", nullable=False),
            Column("rows_in", "BIGINT", "Rows offered to the load", unit="rows", nullable=False),
            Column("rows_inserted", "BIGINT", "Rows whose key was new", unit="rows", nullable=False),
            Column(
                "rows_updated", "BIGINT", "Rows whose key existed and whose values changed", unit="rows", nullable=False
            ),
            Column(
                "rows_deleted",
                "BIGINT",
                "Rows removed (full replacements of derived tables)",
                unit="rows",
                nullable=False,
            ),
            Column("started_at", "TIMESTAMPTZ", "Load start", nullable=False),
            Column("finished_at", "TIMESTAMPTZ", "Load end", nullable=False),
            Column("status", "VARCHAR", "ok or failed", nullable=False),
            Column("message", "VARCHAR", "Detail, e.g. the restatement reason or the error"),
        ),
    )
)

WARNINGS = register(
    Table(
        schema="ops",
        name="warnings",
        description=(
            "Recorded warnings: a ticker missing from a price source, a skipped event-ticker pair, an empty "
            "API response. Nothing partial happens silently."
        ),
        primary_key=("run_id", "stage", "subject", "code"),
        columns=(
            Column("run_id", "VARCHAR", "Run that raised the warning"),
            Column("stage", "VARCHAR", "Pipeline stage: seeds, prices, returns, event_study, electricity, ..."),
            Column("subject", "VARCHAR", "What it is about: a ticker, an event id, a file, a route"),
            Column("code", "VARCHAR", "Stable machine-readable kind, e.g. ticker_missing, too_few_estimation_days"),
            Column("message", "VARCHAR", "Human-readable explanation", nullable=False),
            Column("recorded_at", "TIMESTAMPTZ", "When it was recorded", nullable=False),
        ),
    )
)
