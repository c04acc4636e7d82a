"""`jevons status`: is the warehouse fresh, did the last run succeed, what is open? Usable from cron/monitoring.

Reads the published warehouse read-only. Exit code 0 when healthy; 1 when a source is stale beyond the
threshold, the last run failed, or the last run's data-quality checks failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from transforms.quality import expected_last_session, stale_source
from warehouse.query import open_for_query


@dataclass
class Freshness:
    """One source's last loaded day against the expected one."""

    source: str
    table_name: str
    last: date | None
    stale: bool
    detail: str


@dataclass
class Status:
    """Everything `jevons status` prints, and whether it is healthy."""

    warehouse: str
    expected_session: date
    freshness: list[Freshness] = field(default_factory=list)
    last_run: dict[str, object] | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    open_warnings: dict[str, int] = field(default_factory=dict)
    quality_failures: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        out = [f"stale: {f.detail}" for f in self.freshness if f.stale]
        if self.last_run is None:
            out.append("no run recorded")
        elif self.last_run["status"] == "failed":
            out.append(f"last run {self.last_run['run_id']} failed: {self.last_run.get('error', '')}")
        out += [f"data quality: {q}" for q in self.quality_failures]
        return out

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0


def _has(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
        ).fetchall()[0][0]
    )


def read_status(warehouse: str | Path | None, today: date | None = None, max_stale_days: int = 5) -> Status:
    """Freshness per source, the last run, row counts, the last run's warnings and failed checks."""
    today = today or date.today()
    con = open_for_query(warehouse)
    try:
        path = con.sql("SELECT path FROM duckdb_databases() WHERE NOT internal LIMIT 1").fetchall()[0][0]
        status = Status(warehouse=str(path), expected_session=expected_last_session(today))
        sources = [("prices", "core.prices_daily", "SELECT max(date) FROM core.prices_daily")]
        if _has(con, "core", "electricity_demand_hourly"):
            sources.append(
                (
                    "electricity hourly (EIA)",
                    "core.electricity_demand_hourly",
                    "SELECT max(period_utc)::DATE FROM core.electricity_demand_hourly",
                )
            )
        for name, table_name, sql in sources:
            last = con.sql(sql).fetchall()[0][0]
            if last is None and table_name != "core.prices_daily":
                continue  # an optional source never configured is not stale
            check = stale_source(name, table_name, last, today, max_stale_days)
            status.freshness.append(Freshness(name, table_name, last, not check.passed, check.detail))
        runs = con.sql(
            "SELECT run_id, flow, status, started_at, finished_at, json_extract_string(summary_json, '$.error') "
            "FROM ops.runs ORDER BY started_at DESC LIMIT 1"
        ).fetchall()
        if runs:
            run_id, flow, run_status, started, finished, error = runs[0]
            status.last_run = {
                "run_id": run_id,
                "flow": flow,
                "status": run_status,
                "started_at": started,
                "finished_at": finished,
                "error": error,
            }
            status.open_warnings = dict(
                con.execute(
                    "SELECT code, count(*) FROM ops.warnings WHERE run_id = ? GROUP BY code ORDER BY code", [run_id]
                ).fetchall()
            )
            if _has(con, "ops", "data_quality"):
                status.quality_failures = [
                    f"{c} on {t}: {d}"
                    for c, t, d in con.execute(
                        "SELECT check_name, table_name, detail FROM ops.data_quality "
                        "WHERE run_id = ? AND status = 'fail'",
                        [run_id],
                    ).fetchall()
                ]
        for schema, name in con.sql(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('core', 'marts', 'ops') ORDER BY 1, 2"
        ).fetchall():
            status.row_counts[f"{schema}.{name}"] = int(
                con.sql(f'SELECT count(*) FROM "{schema}"."{name}"').fetchall()[0][0]
            )
        return status
    finally:
        con.close()
