"""`jevons shocks`: the days a group moved abnormally with no catalogued event, and the catalog row to add.

Reads marts.shock_candidates from the published warehouse, read-only (the daily flow computes it: flows.shocks),
and prints each candidate with the line a user would add to warehouse/seeds/ai_events.csv
(transforms.shocks.seed_row: event_id and date filled, `<TO FILL: …>` markers for what only the news of that day
can say). Registered on the `jevons` app by flows.cli; kept here so the command is one module of one job.
"""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from typing import Annotated

import duckdb
import polars as pl
import typer
from rich.console import Console
from rich.table import Table as RichTable

from transforms.shocks import DEFAULT_SHOCK_CONFIG, seed_row
from warehouse.errors import JevonsInputError
from warehouse.introspect import table_exists
from warehouse.tables.shocks import SHOCK_CANDIDATES

console = Console()


class ShocksFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _groups(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The groups the detector tests: core.universe's, the benchmarks' own group excepted."""
    rows = con.execute('SELECT DISTINCT "group" FROM core.universe WHERE ticker <> benchmark ORDER BY 1').fetchall()
    excluded = set(DEFAULT_SHOCK_CONFIG.exclude_groups)
    return [r[0] for r in rows if r[0] not in excluded]


def parse_since(value: str | None) -> date | None:
    """--since as an ISO date, or a JevonsInputError naming the value and the form expected."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise JevonsInputError(f"--since: {value!r} is not a date (use YYYY-MM-DD, e.g. 2024-01-01)") from None


def read_candidates(con: duckdb.DuckDBPyConnection, group: str | None, since: date | None) -> pl.DataFrame:
    """marts.shock_candidates (newest first, then by |z|) for one group and from a date on, with `seed_row`.

    An unknown group is a JevonsInputError listing the groups the detector tests."""
    if not table_exists(con, SHOCK_CANDIDATES.qualified_name) or not table_exists(con, "core.universe"):
        raise JevonsInputError(
            "the warehouse has no marts.shock_candidates yet: run `jevons run --prices-from DIR` first"
        )
    if group is not None:
        groups = _groups(con)
        if group not in groups:
            raise JevonsInputError(f"--group: unknown group {group!r}; groups: {', '.join(groups)}")
    frame = con.sql(
        f"""
        SELECT * FROM {SHOCK_CANDIDATES.qualified_name}
        WHERE (? IS NULL OR "group" = ?) AND (CAST(? AS DATE) IS NULL OR "date" >= CAST(? AS DATE))
        ORDER BY "date" DESC, abs(z) DESC, "group"
        """,
        params=[group, group, since, since],
    ).pl()
    return frame.with_columns(
        pl.Series("seed_row", [seed_row(r) for r in frame.iter_rows(named=True)], dtype=pl.String)
    )


def shocks(
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Only this universe group, e.g. independent_power")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only candidates on or after this date (YYYY-MM-DD)")
    ] = None,
    warehouse: Annotated[
        str | None,
        typer.Option("--warehouse", "-w", help="DuckDB file (default $JEVONS_WAREHOUSE or data/jevons.duckdb)"),
    ] = None,
    fmt: Annotated[ShocksFormat, typer.Option("--format", "-f", help="Output format")] = ShocksFormat.table,
) -> None:
    """Days a group moved abnormally (|z| >= 4) with no catalogued event, and the ai_events.csv row to add for each."""
    from warehouse.query import open_for_query

    since_d = parse_since(since)
    con = open_for_query(warehouse)
    try:
        frame = read_candidates(con, group, since_d)
    finally:
        con.close()
    if fmt is ShocksFormat.csv:
        sys.stdout.write(frame.write_csv())
        return
    if fmt is ShocksFormat.json:
        sys.stdout.write(frame.write_json() + "\n")
        return
    out = RichTable(
        title=f"{frame.height} shock candidate{'' if frame.height == 1 else 's'} (no catalogued event on day 0 or +1)"
    )
    for name in ("date", "group", "z", "abnormal"):  # never wrapped: the columns a reader scans
        out.add_column(name, no_wrap=True)
    for name in ("n", "largest movers", "previous event", "next event"):
        out.add_column(name)
    for r in frame.iter_rows(named=True):
        out.add_row(
            str(r["date"]),
            r["group"],
            f"{r['z']:+.1f}",
            f"{r['ar'] * 100:+.2f}%",
            str(r["n"]),
            r["top_movers"] or "",
            f"{r['prev_event_id']} ({r['prev_event_date']})" if r["prev_event_id"] else "",
            f"{r['next_event_id']} ({r['next_event_date']})" if r["next_event_id"] else "",
        )
    console.print(out)
    if frame.height:
        console.print(
            "Rows to add to warehouse/seeds/ai_events.csv (replace each <TO FILL: …> from the news of that day; the "
            "seed loader refuses a row still holding one):",
            highlight=False,
            soft_wrap=True,
        )
        for line in frame["seed_row"].to_list():
            console.print(line, markup=False, highlight=False, soft_wrap=True)


def confounded_windows(warehouse: str | None, event_id: str) -> list[str]:
    """'[0,+1] holds deepseek_selloff' for each of the event's windows that holds another catalogued event's day 0
    (marts.event_overlaps), so `jevons impact` never prints a confounded window as clean; [] without the table."""
    from warehouse.query import open_for_query

    con = open_for_query(warehouse)
    try:
        if not table_exists(con, "marts.event_overlaps"):
            return []
        rows = con.sql(
            "SELECT window_start, window_end, confounded_by FROM marts.event_overlaps "
            "WHERE event_id = ? AND confounded_by IS NOT NULL ORDER BY window_start, window_end",
            params=[event_id],
        ).fetchall()
    finally:
        con.close()
    return [f"[{a},{b:+d}] holds {held}" for a, b, held in rows]
