"""What every source returns: frames in the core tables' shape plus recorded warnings.

A source talks to the network or to files and never to the warehouse. It returns a `SourceResult`;
warnings it raises (a ticker missing, an empty response) travel with the result and are written to
`ops.warnings` by the flow, so nothing partial happens silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import polars as pl


@dataclass(frozen=True)
class SourceWarning:
    """A recorded, non-fatal problem: `subject` is the ticker, file or route it concerns."""

    stage: str
    subject: str
    code: str
    message: str


@dataclass
class SourceResult:
    """Rows for one or more core tables, keyed by qualified table name, plus warnings and failures."""

    source: str
    frames: dict[str, pl.DataFrame]
    warnings: list[SourceWarning] = field(default_factory=list)
    failed_subjects: list[str] = field(default_factory=list)
    rejected_rows: int = 0


class PriceSource(Protocol):
    """A daily price source: the CSV directory or Yahoo Finance.

    `fetch` returns `core.prices_daily` rows (all columns but `loaded_at`) for the tickers asked, between
    `start` and `end` inclusive where given; tickers it cannot provide become warnings, not errors.
    """

    name: str

    def fetch(self, tickers: list[str], start: date | None, end: date | None) -> SourceResult: ...


PRICE_COLUMNS: dict[str, pl.DataType] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "adj_close": pl.Float64(),
    "volume": pl.Int64(),
    "source": pl.String(),
}
"""Column names and polars dtypes of a price source's output (core.prices_daily without loaded_at)."""
