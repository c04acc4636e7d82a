"""Live prices into the warehouse: incremental plan, restatement refetch and replace, and `jevons backfill`.

The daily flow calls `extract_live_prices` when no `--prices-from` is given and `load_live_prices` inside its
staged writer. Reading order:

1. `read_last_loaded`: per ticker, the last and first stored date and the date `overlap_days` rows back;
2. `transforms.incremental.plan_price_fetch`: each ticker from its overlap start, a new ticker from the
   history start, so a daily run costs the new days, not the history;
3. the source fetches (`YFinancePriceSource.fetch_plan`);
4. `read_stored_since` + `transforms.incremental.detect_restatements`: where the re-fetched overlap disagrees
   with what is stored, Yahoo has rescaled the adjusted history (dividend, split, correction), so that ticker's
   full history is fetched again;
5. `load_live_prices`: ordinary keyed upserts for the rest, and one `sync` (delete + upsert, one transaction,
   logged in ops.load_log with the reasons) replacing the restated tickers' rows.

A refetch that comes back shorter than what is stored is not allowed to delete history: it is upserted and a
`restatement_incomplete` warning says so.

`backfill` loads a date range for many tickers in chunks inside one staged publication; when Yahoo fails
mid-way the finished chunks are still published, the run is recorded as failed with the tickers left, and
the error is raised.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from flows.sources.base import SourceResult, SourceWarning
from flows.sources.yfinance_prices import ACTION_COLUMNS, STAGE, YFinanceConfig, YFinancePriceSource
from transforms.incremental import detect_restatements, plan_price_fetch
from warehouse import seeds
from warehouse.connection import connect_read_only, resolve_path, staged_writer
from warehouse.errors import JevonsError, JevonsInputError, JevonsSourceError
from warehouse.introspect import table_exists
from warehouse.load import LoadResult, record_run, record_warnings, sync, upsert
from warehouse.tables.core import PRICES_DAILY
from warehouse.tables.prices_live import CORPORATE_ACTIONS

BACKFILL_FLOW = "backfill"

log = logging.getLogger(__name__)

LAST_LOADED_SCHEMA = pl.Schema(
    {
        "ticker": pl.String(),
        "last_date": pl.Date(),
        "first_date": pl.Date(),
        "n_rows": pl.Int64(),
        "overlap_start": pl.Date(),
    }
)
STORED_PRICE_SCHEMA = pl.Schema(
    {
        "ticker": pl.String(),
        "date": pl.Date(),
        "close": pl.Float64(),
        "adj_close": pl.Float64(),
    }
)
STORED_ACTION_SCHEMA = pl.Schema(
    {
        "ticker": pl.String(),
        "date": pl.Date(),
        "kind": pl.String(),
        "value": pl.Float64(),
    }
)


def make_source(config: YFinanceConfig | None = None) -> YFinancePriceSource:
    """The live source the flows use; tests replace this factory to inject a replaying session."""
    return YFinancePriceSource(config=config)


@dataclass
class LivePriceResult(SourceResult):
    """A SourceResult plus the tickers whose stored history must be replaced, with the reason."""

    restated: dict[str, str] = field(default_factory=dict)


def read_last_loaded(con: duckdb.DuckDBPyConnection | None, tickers: Sequence[str], overlap_days: int) -> pl.DataFrame:
    """Per stored ticker: last and first date, row count, and the date `overlap_days` trading days before the last.

    One aggregate pass (no window over the history), so this stays fast on a 20-year, 3,000-ticker table.
    """
    if con is None or not tickers or not table_exists(con, "core.prices_daily"):
        return pl.DataFrame(schema=LAST_LOADED_SCHEMA)
    # One pass: max(date, k) keeps each ticker's k latest dates; overlap_start is the earliest of them inside
    # the window (the k-th latest, or the window's first date when the window holds fewer than k).
    frame = con.sql(
        """
        WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS ticker)
        SELECT p.ticker, max(p.date) AS last_date, min(p.date) AS first_date, count(*) AS n_rows,
               list_min(list_filter(max(p.date, ?::INTEGER), lambda d: d >= max(p.date) - to_days(?::INTEGER)))
                   AS overlap_start
        FROM core.prices_daily AS p SEMI JOIN wanted USING (ticker)
        GROUP BY p.ticker
        ORDER BY p.ticker
        """,
        params=[list(tickers), overlap_days + 1, 2 * overlap_days + 14],
    ).pl()
    return frame.cast(LAST_LOADED_SCHEMA)


def read_stored_since(con: duckdb.DuckDBPyConnection | None, plan: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stored (prices, corporate actions) of each planned ticker from its planned start: what the fetch overlaps."""
    empty = pl.DataFrame(schema=STORED_PRICE_SCHEMA), pl.DataFrame(schema=STORED_ACTION_SCHEMA)
    if con is None or plan.is_empty() or not table_exists(con, "core.prices_daily"):
        return empty
    view = f"_jevons_plan_{uuid.uuid4().hex}"
    con.register(view, plan.select("ticker", "start").to_arrow())
    try:
        prices = con.sql(
            f"SELECT p.ticker, p.date, p.close, p.adj_close FROM core.prices_daily AS p "
            f"JOIN {view} AS w ON p.ticker = w.ticker AND p.date >= w.start"
        ).pl()
        actions = empty[1]
        if table_exists(con, "core.corporate_actions"):
            actions = con.sql(
                f"SELECT a.ticker, a.date, a.kind, a.value FROM core.corporate_actions AS a "
                f"JOIN {view} AS w ON a.ticker = w.ticker AND a.date >= w.start"
            ).pl()
    finally:
        con.unregister(view)
    return prices.cast(STORED_PRICE_SCHEMA), actions.cast(STORED_ACTION_SCHEMA)


def _complete_refetch(refetched: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Restated tickers whose refetched history covers what is stored, so replacing it loses nothing.

    Covering means starting within a week of the stored first date and holding at least 90% as many rows.
    """
    got = refetched.group_by("ticker").agg(pl.col("date").min().alias("got_first"), pl.len().alias("got_rows"))
    return (
        stored.join(got, on="ticker", how="left")
        .filter(
            (pl.col("got_first") <= pl.col("first_date") + timedelta(days=7))
            & (pl.col("got_rows") >= 0.9 * pl.col("n_rows"))
        )
        .select("ticker")
    )


def extract_live_prices(
    source: YFinancePriceSource,
    con: duckdb.DuckDBPyConnection | None,
    tickers: Sequence[str],
    start: date | None = None,
    end: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> LivePriceResult:
    """Fetch `tickers` incrementally (or from `start` for every ticker when given), detecting restatements.

    `con` is a connection to the warehouse as it stands (read-only is enough), or None for an empty one.
    """
    cfg = source.config
    wanted = list(dict.fromkeys(t.upper() for t in tickers))
    last = read_last_loaded(con, wanted, cfg.overlap_days)
    today = end or source.now().astimezone(UTC).date()
    if start is not None:
        plan = pl.DataFrame({"ticker": wanted}, schema={"ticker": pl.String()}).with_columns(
            pl.lit(start).alias("start")
        )
    else:
        plan = plan_price_fetch(last, wanted, cfg.history_start, cfg.overlap_days, today).select("ticker", "start")
    stored_prices, stored_actions = read_stored_since(con, plan)
    fetched = source.fetch_plan(plan, end, progress=progress)
    prices = fetched.frames["core.prices_daily"]
    actions = fetched.frames.get("core.corporate_actions", pl.DataFrame(schema=ACTION_COLUMNS))
    restated = detect_restatements(
        stored_prices,
        prices,
        cfg.restatement_tolerance,
        stored_actions=stored_actions if con is not None and table_exists(con, "core.corporate_actions") else None,
        fetched_actions=actions,
    )
    # Without stored actions (first live run over CSV-loaded history) only price evidence counts.
    restated = restated.filter(pl.col("ticker").is_in(last["ticker"].implode()))
    result = LivePriceResult(
        source=fetched.source,
        frames=fetched.frames,
        warnings=list(fetched.warnings),
        failed_subjects=list(fetched.failed_subjects),
        rejected_rows=fetched.rejected_rows,
    )
    if restated.is_empty():
        return result

    reasons = dict(restated.iter_rows())
    stored = last.filter(pl.col("ticker").is_in(list(reasons)))
    refetch_plan = stored.select(
        "ticker", pl.min_horizontal(pl.col("first_date"), pl.lit(cfg.history_start)).alias("start")
    )
    full = source.fetch_plan(refetch_plan, end)
    full_prices = full.frames["core.prices_daily"]
    complete = set(_complete_refetch(full_prices, stored)["ticker"].to_list())
    for ticker in sorted(set(reasons) - complete):
        result.warnings.append(
            SourceWarning(
                STAGE,
                ticker,
                "restatement_incomplete",
                f"{ticker}: Yahoo restated the history ({reasons[ticker]}) but the refetch returned less than is "
                "stored, so nothing was deleted; the rows fetched were upserted. The next run retries.",
            )
        )
        del reasons[ticker]
    refetched = pl.col("ticker").is_in(list(complete))
    result.frames = {
        "core.prices_daily": pl.concat([prices.filter(~refetched), full_prices.filter(refetched)]),
        "core.corporate_actions": pl.concat(
            [actions.filter(~refetched), full.frames["core.corporate_actions"].filter(refetched)]
        ),
    }
    result.warnings.extend(full.warnings)
    result.failed_subjects.extend(s for s in full.failed_subjects if s not in result.failed_subjects)
    result.rejected_rows += full.rejected_rows
    result.restated = reasons
    return result


def load_live_prices(con: duckdb.DuckDBPyConnection, run_id: str, result: SourceResult) -> list[LoadResult]:
    """Upsert prices and corporate actions; replace restated tickers' histories in one logged transaction each."""
    restated = getattr(result, "restated", {}) or {}
    prices = result.frames["core.prices_daily"]
    actions = result.frames.get("core.corporate_actions", pl.DataFrame(schema=ACTION_COLUMNS))
    is_restated = pl.col("ticker").is_in(list(restated))
    loads = [
        upsert(con, PRICES_DAILY, prices.filter(~is_restated), run_id=run_id, source=result.source),
        upsert(con, CORPORATE_ACTIONS, actions.filter(~is_restated), run_id=run_id, source=result.source),
    ]
    if restated:
        message = "restatement, full history refetched and replaced: " + "; ".join(
            f"{t} ({why})" for t, why in sorted(restated.items())
        )
        scope = {"ticker": sorted(restated)}
        loads.append(
            sync(
                con,
                PRICES_DAILY,
                prices.filter(is_restated),
                run_id=run_id,
                source=result.source,
                scope=scope,
                message=message,
            )
        )
        loads.append(
            sync(
                con,
                CORPORATE_ACTIONS,
                actions.filter(is_restated),
                run_id=run_id,
                source=result.source,
                scope=scope,
                message=message,
            )
        )
    return loads


def extract_for_daily(
    warehouse: str | Path | None, tickers: list[str], start: date | None, end: date | None
) -> LivePriceResult:
    """The daily flow's live extract: reads the published warehouse read-only (if any), then fetches."""
    path = resolve_path(warehouse)
    con = connect_read_only(path) if path.exists() else None
    try:
        return extract_live_prices(make_source(), con, tickers, start, end)
    finally:
        if con is not None:
            con.close()


# --------------------------------------------------------------------------------------------------------------
# jevons backfill
# --------------------------------------------------------------------------------------------------------------


@dataclass
class BackfillSummary:
    """What a backfill did: loads, warnings, and the tickers it did not reach."""

    run_id: str
    warehouse: str
    status: str = "completed"
    chunks_done: int = 0
    chunks_total: int = 0
    loads: list[LoadResult] = field(default_factory=list)
    warnings: list[SourceWarning] = field(default_factory=list)
    rejected_rows: int = 0
    not_loaded: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "chunks_done": self.chunks_done,
            "chunks_total": self.chunks_total,
            "loads": [vars(lr) for lr in self.loads],
            "warnings": len(self.warnings),
            "rejected_rows": self.rejected_rows,
            "not_loaded": self.not_loaded,
            "error": self.error,
        }


def backfill(
    start: date,
    end: date | None = None,
    tickers: list[str] | None = None,
    warehouse: str | None = None,
    chunk_size: int = 100,
    universe_csv: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BackfillSummary:
    """Load [start, end] for `tickers` (default: the universe) chunk by chunk into one staged publication.

    A plain function rather than a Prefect flow: it is run by hand, and the progress callback it reports
    through could not travel as a flow parameter. It is recorded in ops.runs with flow = 'backfill'.

    Each chunk is fetched (with restatement checks against what is stored) and loaded in its own
    transactions. If Yahoo fails mid-way, the finished chunks are published, the run is recorded as failed
    naming the tickers not loaded, and the JevonsSourceError is raised. `progress(done, total)` counts tickers.
    """
    if chunk_size < 1:
        raise JevonsInputError(f"--chunk-size must be at least 1, got {chunk_size}")
    if end is not None and start > end:
        raise JevonsInputError(f"--start {start} is after --end {end}")
    names = (
        tickers or seeds.read_universe(Path(universe_csv) if universe_csv else seeds.UNIVERSE_CSV)["ticker"].to_list()
    )
    names = list(dict.fromkeys(t.strip().upper() for t in names if t.strip()))
    if not names:
        raise JevonsInputError("--tickers: no ticker given")
    path = resolve_path(warehouse)
    run_id = uuid.uuid4().hex
    started = datetime.now(UTC)
    parameters = {"start": start, "end": end, "tickers": names, "warehouse": str(path), "chunk_size": chunk_size}
    chunks = [names[i : i + chunk_size] for i in range(0, len(names), chunk_size)]
    summary = BackfillSummary(run_id=run_id, warehouse=str(path), chunks_total=len(chunks))
    source = make_source()
    failure: JevonsError | None = None
    done = 0
    with staged_writer(path) as con:
        for k, chunk in enumerate(chunks, start=1):
            try:
                result = extract_live_prices(source, con, chunk, start, end)
            except JevonsSourceError as exc:
                failure = exc
                summary.not_loaded = [t for c in chunks[k - 1 :] for t in c]
                summary.error = f"chunk {k} of {len(chunks)}: {exc}"
                summary.warnings.extend(
                    SourceWarning(STAGE, t, "backfill_not_loaded", f"{t}: backfill stopped at chunk {k}: {exc}")
                    for t in summary.not_loaded
                )
                break
            summary.loads.extend(load_live_prices(con, run_id, result))
            summary.warnings.extend(result.warnings)
            summary.rejected_rows += result.rejected_rows
            summary.chunks_done = k
            done += len(chunk)
            if progress is not None:
                progress(done, len(names))
            log.info("backfill chunk %d/%d: %d tickers", k, len(chunks), len(chunk))
        summary.status = "failed" if failure else ("completed_with_warnings" if summary.warnings else "completed")
        record_warnings(con, run_id, ((w.stage, w.subject, w.code, w.message) for w in summary.warnings))
        record_run(
            con,
            run_id=run_id,
            flow=BACKFILL_FLOW,
            started_at=started,
            status=summary.status,
            parameters=parameters,
            summary=summary.to_json(),
        )
    if failure is not None:
        loaded = len(names) - len(summary.not_loaded)
        raise JevonsSourceError(
            f"backfill stopped at {summary.error}. The {summary.chunks_done} finished chunks ({loaded} tickers) are "
            f"published; re-run with --tickers {','.join(summary.not_loaded[:20])}"
            f"{' …' if len(summary.not_loaded) > 20 else ''} to finish."
        ) from failure
    return summary


def backfill_with_progress(
    start: date,
    end: date | None,
    tickers: list[str] | None,
    warehouse: str | None,
    chunk_size: int,
    console: Console,
) -> BackfillSummary:
    """`jevons backfill`: run `backfill` under a rich progress bar, then print what was loaded and warned."""
    with Progress(
        TextColumn("backfill {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tickers"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task_id = bar.add_task(f"{start} → {end or 'today'}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task_id, completed=done, total=total)

        summary = backfill(start, end, tickers, warehouse, chunk_size=chunk_size, progress=advance)
    loads = RichTable("table", "rows in", "inserted", "updated", "deleted", title=f"Backfill {summary.run_id}")
    totals: dict[str, list[int]] = {}
    for lr in summary.loads:
        row = totals.setdefault(lr.table, [0, 0, 0, 0])
        for i, v in enumerate((lr.rows_in, lr.inserted, lr.updated, lr.deleted)):
            row[i] += v
    for table, (rows_in, ins, upd, dele) in totals.items():
        loads.add_row(table, str(rows_in), str(ins), str(upd), str(dele))
    console.print(loads)
    if summary.warnings:
        console.print(
            f"[yellow]{len(summary.warnings)} warnings[/yellow]: "
            + ", ".join(sorted({f"{w.subject} ({w.code})" for w in summary.warnings})[:20])
        )
    console.print(f"{summary.warehouse}: {summary.status}")
    return summary
