"""`jevons export`: the warehouse's core and marts tables as Parquet with a manifest (warehouse/export.py).

Registered in flows/cli.py with `app.command()(export)`; imports nothing heavy until it runs, so `jevons --help`
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write (replaced atomically when it is an export)")],
    warehouse: Annotated[
        str | None,
        typer.Option("--warehouse", "-w", help="DuckDB file (default $JEVONS_WAREHOUSE or data/jevons.duckdb)"),
    ] = None,
    tables: Annotated[
        str | None, typer.Option("--tables", help="Schemas to export, comma-separated: core, marts, ops")
    ] = None,
) -> None:
    """Export every core and marts table as Parquet under OUT/<schema>/<table>/ with OUT/manifest.json."""
    from warehouse.connection import resolve_path
    from warehouse.export import export_warehouse, parse_schemas

    result = export_warehouse(resolve_path(warehouse), out, parse_schemas(tables))
    run = result.manifest["run"]
    typer.echo(
        f"exported {len(result.manifest['tables'])} tables ({result.rows} rows) to {result.out}"
        + (f" from run {run['run_id']}" if run else "")
    )
