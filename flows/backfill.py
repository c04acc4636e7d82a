"""`jevons backfill`: live Yahoo prices for a date range, chunk by chunk, into one staged publication.

When Yahoo fails mid-way the finished chunks are still published, the run is recorded as failed with the
tickers left, and the error is raised. Each chunk goes through the Yahoo source's incremental extract (with
restatement checks against what is stored) and the generic loader, as a daily run's prices do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from flows.sources.base import SourceWarning
from flows.sources.yahoo import source as yahoo
from flows.sources.yahoo.source import STAGE
from warehouse import seeds
from warehouse.connection import resolve_path, staged_writer
from warehouse.errors import JevonsError, JevonsInputError, JevonsSourceError
from warehouse.load import LoadResult, load_frames, record_run, record_warnings

BACKFILL_FLOW = "backfill"

log = logging.getLogger(__name__)


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
    source = yahoo.make_source()  # looked up on the module: tests replace the factory
    failure: JevonsError | None = None
    done = 0
    with staged_writer(path) as con:
        for k, chunk in enumerate(chunks, start=1):
            try:
                result = yahoo.extract_live_prices(source, con, chunk, start, end)
            except JevonsSourceError as exc:
                failure = exc
                summary.not_loaded = [t for c in chunks[k - 1 :] for t in c]
                summary.error = f"chunk {k} of {len(chunks)}: {exc}"
                summary.warnings.extend(
                    SourceWarning(STAGE, t, "backfill_not_loaded", f"{t}: backfill stopped at chunk {k}: {exc}")
                    for t in summary.not_loaded
                )
                break
            summary.loads.extend(
                load_frames(con, result.frames, run_id=run_id, source=result.source, replacements=result.replacements)
            )
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
