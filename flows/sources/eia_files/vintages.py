"""Revisions and overlaps: one value per key when several files carry the same key.

EIA revises: recent EIA-930 hours for weeks, EIA-861M months from Preliminary to Final, and a later API export
holds the revised figures. So two files may carry the same key (overlapping six-month files, the 861M
spreadsheet and a later API export). The rule, applied per table:

* Identical values merge silently. "Identical" allows for publication rounding, per column: the 861M
  spreadsheet rounds revenue to thousand dollars and sales to about 1 MWh, the API publishes million kWh and
  million dollars with more digits, so 597,803 MWh and 597,802.7 MWh are the same value, not a revision.
* Differing values keep the LATER VINTAGE. A file's vintage is ordered by (1) how far its data reaches: the
  latest period it holds for that table (a file that reaches later was published later: EIA files are
  cumulative or rolling), then (2) the file's own date: its modification time (UTC), which is when a
  download was saved, then (3) its path, so the order is total and runs are deterministic.
* Every differing value is counted, per (from file, to file) pair, and returned as a SourceWarning with one
  example, so a run records how many values were revised and which file replaced which. Never a silent pick.

Vectorised: one concat, one group-by over the keys held by more than one file, one join per value column
against the winners; no loop over keys. Output order is deterministic (file order, then first appearance).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from flows.sources.base import SourceWarning

STAGE = "electricity"


@dataclass(frozen=True)
class Vintage:
    """One file's rows for one table, with what orders it among the other files."""

    file: str
    frame: pl.DataFrame
    reaches: date | datetime | None
    file_date: datetime


def file_date(path: Path | str) -> datetime:
    """A file's own date: its modification time, UTC (when the download was saved)."""
    return datetime.fromtimestamp(Path(path).stat().st_mtime, tz=UTC)


def vintage(path: Path | str, frame: pl.DataFrame, period_column: str) -> Vintage:
    """The Vintage of one file's rows: reaches = the latest `period_column` value in them."""
    reaches = frame[period_column].max() if frame.height else None
    return Vintage(str(path), frame, reaches, file_date(path))  # type: ignore[arg-type]


def _order(parts: list[Vintage]) -> list[Vintage]:
    """Oldest vintage first: by reach, then file date, then path (parts here all have rows, so a reach)."""
    return sorted(parts, key=lambda p: (str(p.reaches), p.file_date, p.file))


def _differs(column: str, tolerance: float) -> pl.Expr:
    """Both values present and apart by more than the publication rounding `tolerance`."""
    a, b = pl.col(column).cast(pl.Float64), pl.col(f"{column}_win").cast(pl.Float64)
    return ((a - b).abs() > tolerance).fill_null(False)


def _disjoint(ordered: list[Vintage], period: str | None) -> bool:
    """Whether the files' period ranges [first, last] do not overlap (so no key is in two files)."""
    if period is None:
        return False
    spans = sorted((p.frame[period].min(), p.frame[period].max()) for p in ordered)
    return all(prev[1] < nxt[0] for prev, nxt in itertools.pairwise(spans))  # type: ignore[operator]


def merge_vintages(
    table: str,
    parts: list[Vintage],
    key: list[str],
    tolerances: dict[str, float],
    period: str | None = None,
) -> tuple[pl.DataFrame, list[SourceWarning]]:
    """One row per key, each value from the latest vintage that has it; warnings count revised values.

    `period` (a key column), when given, lets files whose period ranges do not overlap skip the key search.
    `tolerances` names the value columns and, for each, the largest difference that is still publication
    rounding rather than a revision (see the module docstring). A blank (null) value in a later file never
    erases an earlier one: EIA leaves a cell blank when it was not reported, and an API export omits columns
    it was not asked for (the retail route's price), so only present values compete.
    """
    value_columns = list(tolerances)
    parts = [p for p in parts if p.frame.height]
    if not parts:
        return pl.DataFrame(), []
    if len(parts) == 1:
        return parts[0].frame, []
    ordered = _order(parts)
    files = [p.file for p in ordered]
    if _disjoint(ordered, period):
        # consecutive six-month files cannot share a key: skip the key-wide duplicate search (the cost of a
        # 23 M-row load), after checking each file is itself unique by its reader
        return pl.concat([p.frame for p in ordered], how="vertical_relaxed"), []
    stacked = pl.concat(
        [p.frame.with_columns(pl.lit(rank, dtype=pl.Int32).alias("_rank")) for rank, p in enumerate(ordered)],
        how="vertical_relaxed",
    )
    shared = stacked.select(pl.struct(key).is_duplicated()).to_series()
    single = stacked.filter(~shared).drop("_rank")
    overlap = stacked.filter(shared)
    if overlap.height == 0:
        return single, []
    winners = (
        overlap.sort("_rank")
        .group_by(key, maintain_order=True)
        .agg(
            *[pl.col(c).drop_nulls().last().alias(c) for c in value_columns],
            *[pl.col("_rank").filter(pl.col(c).is_not_null()).last().alias(f"_rank_{c}") for c in value_columns],
        )
    )
    warnings: list[SourceWarning] = []
    for column, tolerance in tolerances.items():  # a loop over a table's few value columns
        compared = overlap.select([*key, column, "_rank"]).join(
            winners.select([*key, pl.col(column).alias(f"{column}_win"), pl.col(f"_rank_{column}").alias("_rank_win")]),
            on=key,
            how="inner",
            nulls_equal=True,
        )
        revised = compared.filter((pl.col("_rank") != pl.col("_rank_win")) & _differs(column, tolerance))
        if revised.height == 0:
            continue
        pairs = (
            revised.group_by("_rank", "_rank_win").agg(pl.len().alias("n"), pl.all().first()).sort("_rank", "_rank_win")
        )
        for row in pairs.iter_rows(named=True):  # one row per file pair, not per value
            example = ", ".join(f"{k}={row[k]}" for k in key)
            warnings.append(
                SourceWarning(
                    stage=STAGE,
                    subject=table,
                    code="values_revised",
                    message=(
                        f"{row['n']} {column} value(s) of {table} in {files[row['_rank']]} were replaced by the "
                        f"later vintage {files[row['_rank_win']]} (e.g. {example}: {row[column]} -> "
                        f"{row[f'{column}_win']})"
                    ),
                )
            )
    merged = pl.concat(
        [
            single,
            winners.select([*key, *value_columns]).select([pl.col(c).cast(single.schema[c]) for c in single.columns]),
        ],
        how="vertical",
    )
    return merged, warnings


def revised_count(warnings: list[SourceWarning]) -> int:
    """Total values revised, summed over the warnings merge_vintages returned."""
    return sum(int(w.message.split(" ", 1)[0]) for w in warnings if w.code == "values_revised")
