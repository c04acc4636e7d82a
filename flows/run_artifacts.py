"""Prefect artifacts with stable keys, so the UI's Artifacts page shows the latest of each after every run.

`event-impact` (table): the largest day-0 abnormal moves of the latest events. `group-impact` (table): group
CAARs, with the recommended test's p-value when marts.group_impact is present. `electricity-impact` (table):
the Jevons check, when electricity data is present. A group test of fewer than MIN_GROUP_TICKERS tickers is
not evidence (docs/methods.md): its `evidence` cell says so and its test statistics (p, standard error) are left
empty; the CAAR is kept, as in the report. `shock-candidates` (table): the newest days a group moved
abnormally with no catalogued event (flows.shocks). `run-summary` (markdown): rows per table, warnings,
data-quality results, freshness, the warehouse path and example SQL. All read the published warehouse. Every
window figure carries `confounded_by` (marts.event_overlaps): the other catalogued events inside its window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.shocks import ARTIFACT_KEY as SHOCKS_KEY
from flows.shocks import confounded_sql, shock_artifact_rows
from transforms.event_study.contract import MIN_GROUP_TICKERS
from warehouse.introspect import table_exists

LATEST_EVENTS = 3
MOVES_PER_EVENT = 8


def _round(frame: pl.DataFrame, digits: int = 4) -> list[dict[str, Any]]:
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    return frame.with_columns(pl.col(floats).round(digits)).with_columns(pl.col(pl.Date).cast(pl.String)).to_dicts()


def _confounded(con: duckdb.DuckDBPyConnection, alias: str) -> tuple[str, str]:
    """`, confounded_by` and its join (flows.shocks.confounded_sql), or nothing before marts.event_overlaps."""
    if not table_exists(con, "marts.event_overlaps"):
        return "", ""
    select, join = confounded_sql(alias)
    return f", {select}", join


def event_impact_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Largest absolute day-0 abnormal returns of the latest events with results."""
    conf_sel, conf_join = _confounded(con, "r")
    return _round(
        con.sql(
            f"""
            WITH latest AS (
                SELECT event_id FROM marts.event_impact WHERE window_start = 0 AND window_end = 0 AND car IS NOT NULL
                GROUP BY event_id ORDER BY max(day0) DESC LIMIT {LATEST_EVENTS}
            ), ranked AS (
                SELECT i.*, row_number() OVER (PARTITION BY i.event_id ORDER BY abs(i.car) DESC) AS rank
                FROM marts.event_impact i JOIN latest USING (event_id)
                WHERE i.model = 'market' AND i.window_start = 0 AND i.window_end = 0 AND i.car IS NOT NULL
            )
            SELECT r.event_id, r.day0, r.ticker, r."group", r.raw_return, r.car AS abnormal_return, r.car_t,
                   r.p_value{conf_sel}
            FROM ranked r {conf_join} WHERE r.rank <= {MOVES_PER_EVENT} ORDER BY r.day0 DESC, abs(r.car) DESC
            """
        ).pl()
    )


def _evidence(below: str, n: str = "g.n") -> str:
    """The `evidence` column: 'yes', or 'no: n=1 < 3' for a group test below MIN_GROUP_TICKERS tickers."""
    return f"CASE WHEN {below} THEN 'no: n=' || {n} || ' < {MIN_GROUP_TICKERS}' ELSE 'yes' END AS evidence"


def group_impact_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Group CAARs of the latest events: from marts.group_impact when present, else the mean CAR per group."""
    if table_exists(con, "marts.group_impact"):
        columns = {
            r[0]
            for r in con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 'group_impact'").fetchall()
        }
        p_col = next((c for c in ("kp_bmp_p", "bmp_kp_p", "kolari_pynnonen_p") if c in columns), None)
        below = "g.n_below_min" if "n_below_min" in columns else f"g.n < {MIN_GROUP_TICKERS}"
        p_sel = f", CASE WHEN {below} THEN NULL ELSE {p_col} END AS recommended_p" if p_col else ""
        conf_sel, conf_join = _confounded(con, "g")
        query = f"""
            SELECT g.event_id, g."group", g.window_start, g.window_end, g.n, {_evidence(below)}, g.caar,
                   g.median_car{p_sel}{conf_sel}
            FROM marts.group_impact g
            JOIN (SELECT DISTINCT event_id, day0 FROM marts.event_impact) d ON d.event_id = g.event_id {conf_join}
            WHERE g.model = 'market' AND d.day0 >= (SELECT max(day0) FROM marts.event_impact) - INTERVAL 400 DAY
            ORDER BY d.day0 DESC, g."group", g.window_start, g.window_end
        """
    else:
        query = f"""
            SELECT event_id, "group", window_start, window_end, count(*) AS n,
                   {_evidence(f"count(*) < {MIN_GROUP_TICKERS}", "count(*)")}, avg(car) AS caar,
                   CASE WHEN count(*) < {MIN_GROUP_TICKERS} THEN NULL
                        ELSE stddev_samp(car) / sqrt(count(*)) END AS caar_se
            FROM marts.event_impact
            WHERE model = 'market' AND car IS NOT NULL
              AND day0 >= (SELECT max(day0) FROM marts.event_impact) - INTERVAL 400 DAY
            GROUP BY ALL ORDER BY min(day0) DESC, "group", window_start, window_end
        """
    return _round(con.sql(query).pl().head(200))


def electricity_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The Jevons check, when it has rows."""
    if not table_exists(con, "marts.jevons_check"):
        return []
    if not table_exists(con, "marts.event_overlaps"):
        return _round(con.sql("SELECT * FROM marts.jevons_check ORDER BY event_date DESC").pl())
    # its two stock figures are windows [0,0] and [0,+5]: each with the catalogued events inside it
    return _round(
        con.sql(
            """
            SELECT j.*, o0.confounded_by AS day0_confounded_by, o5.confounded_by AS caar_0_5_confounded_by
            FROM marts.jevons_check j
            LEFT JOIN marts.event_overlaps o0 ON o0.event_id = j.event_id AND o0.window_start = 0 AND o0.window_end = 0
            LEFT JOIN marts.event_overlaps o5 ON o5.event_id = j.event_id AND o5.window_start = 0 AND o5.window_end = 5
            ORDER BY j.event_date DESC
            """
        ).pl()
    )


def run_summary_markdown(con: duckdb.DuckDBPyConnection, path: Path, run_id: str) -> str:
    """Markdown for the run-summary artifact."""
    run = con.execute("SELECT status, started_at, finished_at FROM ops.runs WHERE run_id = ?", [run_id]).fetchall()
    loads = con.execute(
        "SELECT table_name, rows_in, rows_inserted, rows_updated, rows_deleted FROM ops.load_log WHERE run_id = ? "
        "ORDER BY started_at",
        [run_id],
    ).fetchall()
    warnings = con.execute(
        "SELECT stage, code, count(*), string_agg(subject, ', ' ORDER BY subject) FROM ops.warnings WHERE run_id = ? "
        "GROUP BY ALL ORDER BY 1, 2",
        [run_id],
    ).fetchall()
    quality = (
        con.execute(
            "SELECT check_name, table_name, status, detail FROM ops.data_quality WHERE run_id = ? ORDER BY 1, 2",
            [run_id],
        ).fetchall()
        if table_exists(con, "ops.data_quality")
        else []
    )
    fresh = con.sql("SELECT max(date) FROM core.prices_daily").fetchall()[0][0]
    lines = [f"# jevons run `{run_id}`", ""]
    if run:
        lines.append(f"**{run[0][0]}** · started {run[0][1]} · finished {run[0][2]} · warehouse `{path}`")
    lines += [
        "",
        f"Prices through **{fresh}**.",
        "",
        "## Loads",
        "",
        "| table | in | inserted | updated | deleted |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t} | {a} | {b} | {c} | {d} |" for t, a, b, c, d in loads]
    lines += ["", f"## Warnings ({sum(w[2] for w in warnings)})", ""]
    for stage, code, n, subjects in warnings:
        shown = subjects if len(subjects) < 300 else subjects[:300] + " …"
        lines.append(f"- **{stage} / {code}** ({n}): {shown}")
    if quality:
        lines += ["", "## Data quality", "", "| check | table | status | detail |", "|---|---|---|---|"]
        lines += [f"| {c} | {t} | {s} | {d.replace('|', '/')} |" for c, t, s, d in quality]
    lines += [
        "",
        "## Query it",
        "",
        "```",
        f'jevons sql --warehouse {path} "SELECT ticker, round(100*car, 2) AS ar_pct, round(car_t, 1) AS t FROM '
        "marts.event_impact WHERE event_id = 'deepseek_selloff' AND window_start = 0 AND window_end = 0 ORDER BY car\"",
        f"duckdb -readonly {path}",
        "```",
    ]
    return "\n".join(lines)


def publish_artifacts(path: Path, run_id: str) -> list[str]:
    """Create/update every artifact from the published warehouse; returns the keys written."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        keys = []
        create_table_artifact(
            event_impact_rows(con), key="event-impact", description="Largest day-0 abnormal moves of the latest events"
        )
        keys.append("event-impact")
        create_table_artifact(group_impact_rows(con), key="group-impact", description="Group CAARs of recent events")
        keys.append("group-impact")
        # written on every run, empty included, so the UI never shows an earlier run's list as current
        create_table_artifact(
            shock_artifact_rows(con),
            key=SHOCKS_KEY,
            description="Newest days a group moved abnormally with no catalogued event (marts.shock_candidates)",
        )
        keys.append(SHOCKS_KEY)
        rows = electricity_rows(con)
        if rows:
            create_table_artifact(
                rows, key="electricity-impact", description="Jevons check: stock reaction vs demand growth"
            )
            keys.append("electricity-impact")
        create_markdown_artifact(
            run_summary_markdown(con, path, run_id), key="run-summary", description="What the latest run did"
        )
        keys.append("run-summary")
        return keys
    finally:
        con.close()
