"""What every source returns: frames keyed by core table plus recorded warnings, and what it is handed.

A source talks to the network or to files and never writes to the warehouse. It returns a `SourceResult`;
warnings it raises (a ticker missing, an empty response) travel with the result and are written to
`ops.warnings` by the flow, so nothing partial happens silently. The flow loads every frame of the result
by its table name (`warehouse.load.load_frames`); a source that refetched part of a table in full (Yahoo's
restated histories) says so with a `Replacement`, which is data, not a branch in the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import polars as pl

from warehouse.load import Replacement
from warehouse.tables.core import PRICES_DAILY


@dataclass(frozen=True)
class SourceWarning:
    """A recorded, non-fatal problem: `subject` is the ticker, file or route it concerns."""

    stage: str
    subject: str
    code: str
    message: str


@dataclass
class SourceResult:
    """Rows for one or more core tables, keyed by qualified table name, plus warnings and failures.

    `replacements` name the (table, scope) slices the source fetched in full: the loader makes the stored rows
    within each scope equal the frame's rows within it (deleting the rest) instead of only upserting.
    """

    source: str
    frames: dict[str, pl.DataFrame]
    warnings: list[SourceWarning] = field(default_factory=list)
    failed_subjects: list[str] = field(default_factory=list)
    rejected_rows: int = 0
    replacements: list[Replacement] = field(default_factory=list)


@dataclass(frozen=True)
class ExtractContext:
    """What the flow hands a registered source's `extract`: the run's parameters, never a writable warehouse.

    `warehouse` is the published DuckDB file (it may not exist yet): a source that resumes incrementally opens
    it read-only and closes it before it sends a request. `option` is the value of the source's own
    parameter (`--prices-from DIR`), None for a live source. `required` is set when the user asked for this
    kind to be mandatory (`--require-electricity`): a source that would skip (no API key) must raise instead.
    """

    warehouse: Path
    tickers: list[str]
    start: date | None = None
    end: date | None = None
    option: str | None = None
    required: bool = False


class PriceSource(Protocol):
    """A daily price source: the CSV directory or Yahoo Finance.

    `fetch` returns `core.prices_daily` rows (all columns but `loaded_at`) for the tickers asked, between
    `start` and `end` inclusive where given; tickers it cannot provide become warnings, not errors.
    """

    name: str

    def fetch(self, tickers: list[str], start: date | None, end: date | None) -> SourceResult: ...


PRICE_COLUMNS: pl.Schema = PRICES_DAILY.polars_schema(exclude=("loaded_at",))
"""Column names and polars dtypes of a price source's output (core.prices_daily without loaded_at)."""
