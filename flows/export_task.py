"""The export as a Prefect task: the optional last step of the `daily` flow (`--export-to DIR`).

It runs after the warehouse is published and opens it read-only, so a failed export leaves the run's
tables published; the flow decides whether that fails the run (the lead wires `export_to` into daily).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from warehouse.export import DEFAULT_SCHEMAS, export_warehouse


@task(name="export-parquet", cache_policy=NO_CACHE, retries=0)
def export_task(warehouse: str | Path, out: str | Path, schemas: tuple[str, ...] = DEFAULT_SCHEMAS) -> dict[str, Any]:
    """Export the published warehouse to Parquet under `out`; returns a small summary for the run."""
    result = export_warehouse(warehouse, out, schemas)
    return {"out": str(result.out), "tables": len(result.manifest["tables"]), "rows": result.rows}
