"""ops.data_quality: the result of every data-quality check after every run's loads."""

from __future__ import annotations

from warehouse.registry import Column, Table, register

DATA_QUALITY = register(
    Table(
        schema="ops",
        name="data_quality",
        description=(
            "Data-quality checks run after each run's loads, before publication: duplicate keys, non-positive "
            "prices, gaps against the benchmark's trading calendar, jumps without a corporate action, missing "
            "electricity hours, stale sources. A check whose policy is 'fail' and that fails stops the run "
            "before anything is published."
        ),
        primary_key=("run_id", "check_name", "table_name"),
        introduced_in=5,
        columns=(
            Column("run_id", "VARCHAR", "Run that ran the check (ops.runs.run_id)"),
            Column("check_name", "VARCHAR", "Check name, e.g. duplicate_keys, price_jumps, stale_source"),
            Column("table_name", "VARCHAR", "Qualified table checked"),
            Column("status", "VARCHAR", "pass, warn or fail", nullable=False),
            Column("policy", "VARCHAR", "What a failure does: warn (recorded) or fail (run stops)", nullable=False),
            Column("detail", "VARCHAR", "What was found, with counts and the first offenders", nullable=False),
            Column("checked_at", "TIMESTAMPTZ", "When the check ran", nullable=False),
        ),
    )
)
