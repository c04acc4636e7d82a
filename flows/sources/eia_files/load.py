"""Load a directory of electricity files into one SourceResult (`jevons run --electricity-from DIR`).

`load_files(DIR)` walks DIR (recursively, sorted), detects each file's layout by its header (an unrecognised
file fails the whole load, naming it and the accepted layouts), reads each with its layout's reader, merges
overlapping keys across files with the vintage rule (flows.sources.eia_files.vintages) and returns the core
tables' rows by qualified table name, with warnings for revisions, hidden files skipped, values EIA left
blank and files that held no rows. It never touches the warehouse: the flow loads the frames with the same
keyed upsert as the API path, so a re-run inserts and updates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.sources.base import SourceResult, SourceWarning
from flows.sources.eia.parse import ParseStats
from flows.sources.eia_files.api_export import HOURLY_TABLE, MONTHLY_TABLE, read_api_export
from flows.sources.eia_files.detect import EIA861M, EIA930_BALANCE, EIA930_SUBREGION, DetectedFile, walk
from flows.sources.eia_files.eia861m import read_sales_revenue
from flows.sources.eia_files.eia930_bulk import read_bulk
from flows.sources.eia_files.vintages import STAGE, Vintage, merge_vintages, vintage

SOURCE_NAME = "eia_files"
KEYS: dict[str, list[str]] = {
    HOURLY_TABLE: ["respondent", "subba", "period_utc", "type"],
    MONTHLY_TABLE: ["state", "sector", "month"],
}
TOLERANCES: dict[str, dict[str, float]] = {
    # the largest difference that is publication rounding, not a revision (vintages module docstring)
    HOURLY_TABLE: {"value_mwh": 0.5},  # EIA-930 publishes whole MW
    MONTHLY_TABLE: {"sales_mwh": 1.0, "price_cents_per_kwh": 0.005, "revenue_usd": 1_000.0, "customers": 0.5},
}
PERIODS = {HOURLY_TABLE: "period_utc", MONTHLY_TABLE: "month"}


@dataclass
class FileLoad:
    """What one directory gave: the SourceResult to load, and per-file bookkeeping for the run log.

    `files` lists (path, layout, table, rows) in read order; `data_status` holds EIA-861M's Preliminary/Final
    per (state, month) for the spreadsheets read (empty when none), the vintage information the retail
    table itself does not store.
    """

    result: SourceResult
    files: list[tuple[str, str, str, int]] = field(default_factory=list)
    data_status: pl.DataFrame = field(default_factory=pl.DataFrame)


def _read(detected: DetectedFile) -> tuple[str, pl.DataFrame, pl.DataFrame | None, ParseStats]:
    """(table, rows, 861M data status or None, parse counts) of one recognised file."""
    if detected.layout in (EIA930_BALANCE, EIA930_SUBREGION):
        frame, stats = read_bulk(detected)
        return HOURLY_TABLE, frame, None, stats
    if detected.layout == EIA861M:
        sheet = read_sales_revenue(detected)
        status = sheet.status.with_columns(pl.lit(str(detected.path)).alias("file"))
        return MONTHLY_TABLE, sheet.frame, status, sheet.stats
    rows = read_api_export(detected)
    return rows.table, rows.frame, None, rows.stats


def load_files(directory: Path | str) -> FileLoad:
    """Every recognised file under `directory`, merged per table by vintage, as one SourceResult."""
    detected, hidden = walk(directory)
    warnings = [
        SourceWarning(STAGE, str(p), "hidden_file_skipped", "hidden file or folder (name starts with '.'), not read")
        for p in hidden
    ]
    parts: dict[str, list[Vintage]] = {HOURLY_TABLE: [], MONTHLY_TABLE: []}
    statuses: list[pl.DataFrame] = []
    files: list[tuple[str, str, str, int]] = []
    for item in detected:  # a loop over files, each read vectorised
        table, frame, status, stats = _read(item)
        files.append((str(item.path), item.layout, table, frame.height))
        if stats.duplicates:
            warnings.append(
                SourceWarning(
                    STAGE,
                    str(item.path),
                    "duplicate_rows",
                    f"{stats.duplicates} row(s) repeat a key of an earlier row in the same file; the last one is kept",
                )
            )
        if status is not None:
            statuses.append(status)
        if frame.height == 0:
            warnings.append(SourceWarning(STAGE, str(item.path), "empty_file", f"{item.layout} file with no data rows"))
            continue
        parts[table].append(vintage(item.path, frame, PERIODS[table]))
    frames: dict[str, pl.DataFrame] = {}
    for table, table_parts in parts.items():
        if not table_parts:
            continue
        merged, revised = merge_vintages(table, table_parts, KEYS[table], TOLERANCES[table], PERIODS[table])
        frames[table] = merged
        warnings.extend(revised)
    if HOURLY_TABLE in frames:
        nulls = frames[HOURLY_TABLE]["value_mwh"].null_count()
        if nulls:
            warnings.append(
                SourceWarning(
                    STAGE, HOURLY_TABLE, "null_values", f"{nulls} hourly value(s) are blank in the files (EIA nulls)"
                )
            )
    status = pl.concat(statuses) if statuses else pl.DataFrame()
    return FileLoad(SourceResult(SOURCE_NAME, frames, warnings), files, status)
