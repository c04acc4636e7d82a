"""The `daily` Prefect flow: seeds and prices in, impact tables out, published atomically.

Reads top to bottom: validate the seeds (before anything is written) → extract each kind of data from the
source the registry selects (flows.sources.registry: prices, electricity, weather) → open a staging copy of the
warehouse → load seeds and every source frame into its core table (keyed upserts, one transaction each,
logged) → compute returns (from each ticker's history_from) and the event study in polars → sync the marts
(stock, shock candidates and event overlaps, then electricity and weather) → record warnings and the run →
publish (atomic rename). Any failure discards the staging copy, so the published warehouse stays exactly as it
was, and the failure is recorded in ops.runs by a separate small publication.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import electricity, weather
from flows.concurrency import warehouse_writer_slot
from flows.quality import record_and_enforce, run_checks
from flows.run_artifacts import publish_artifacts
from flows.shocks import StudyInputs, compute_shocks, study_inputs
from flows.sources import registry
from flows.sources.base import ExtractContext, SourceResult, SourceWarning
from flows.sources.registry import KIND_ELECTRICITY, KIND_WEATHER, SourceSpec
from transforms.event_study import MODEL_MARKET, MODELS, DenseStudy, EventStudyConfig, EventStudyResult, run_dense_study
from warehouse import seeds
from warehouse.connection import resolve_path, staged_writer
from warehouse.errors import JevonsError
from warehouse.load import LoadResult, load_frames, record_run, record_warnings, sync
from warehouse.tables.core import AI_EVENTS, UNIVERSE
from warehouse.tables.marts import ABNORMAL_RETURNS, EVENT_IMPACT, EVENT_SKIPS, GROUP_IMPACT

FLOW_NAME = "daily"


@dataclass
class RunSummary:
    """What a run did, printed by the CLI and stored (as JSON) in ops.runs.summary_json."""

    run_id: str
    warehouse: str
    status: str = "completed"
    loads: list[LoadResult] = field(default_factory=list)
    warnings: list[SourceWarning] = field(default_factory=list)
    rejected_rows: int = 0
    headline_event: str | None = None
    headline_moves: list[dict[str, Any]] = field(default_factory=list)
    report: str | None = None
    export: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "loads": [vars(lr) for lr in self.loads],
            "warnings": len(self.warnings),
            "rejected_rows": self.rejected_rows,
            "headline_event": self.headline_event,
            "headline_moves": self.headline_moves,
        }


def _no_retry_on_user_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only what the client did not: never a JevonsError (a bad file or argument, or a source that already
    spent its own retries or failed fast: flows.sources.retry is the one retry layer), only the unexpected."""
    try:
        state.result()
    except JevonsError:
        return False
    except Exception:
        return True
    return True


@task(name="read-seeds", cache_policy=NO_CACHE)
def read_seed_files(events_csv: Path, universe_csv: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate both seed files completely before the warehouse is touched."""
    return seeds.read_events(events_csv), seeds.read_universe(universe_csv)


@task(
    name="extract",
    retries=3,
    retry_delay_seconds=[2, 5, 15],
    retry_condition_fn=_no_retry_on_user_error,
    cache_policy=NO_CACHE,
)
def extract_source(source: SourceSpec, ctx: ExtractContext) -> SourceResult:
    """One registered source's extract (flows.sources.registry); it resumes incrementally on its own from the
    published warehouse, read-only. Frames for tables the entry does not declare are a programming error."""
    result = source.extract_fn()(ctx)
    undeclared = sorted(set(result.frames) - set(source.tables))
    if undeclared:
        raise JevonsError(f"source {source.name} returned frames for undeclared tables {undeclared}")
    return result


def extract_all(
    values: dict[str, Any], ctx: ExtractContext, required_kinds: set[str]
) -> list[tuple[SourceSpec, SourceResult]]:
    """For each kind in registry order, the selected source's result (`registry.select`: the one whose
    parameter is given, else the kind's live source), each in its own task `extract-<kind>` with the retries
    its entry declares."""
    logger = get_run_logger()
    extracted: list[tuple[SourceSpec, SourceResult]] = []
    for kind in registry.kinds():
        chosen = registry.select(kind, values)
        if chosen is None:
            continue
        source, option = chosen
        task_for = extract_source.with_options(
            name=f"extract-{kind}", retries=len(source.retries), retry_delay_seconds=list(source.retries)
        )
        result = task_for(source, replace(ctx, option=option, required=kind in required_kinds))
        for table, frame in result.frames.items():
            logger.info("%s: %d rows for %s from %s", kind, frame.height, table, result.source)
        logger.info("%s: %d warnings from %s", kind, len(result.warnings), result.source)
        extracted.append((source, result))
    return extracted


@task(name="load-core", cache_policy=NO_CACHE)
def load_core(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    events: pl.DataFrame,
    universe: pl.DataFrame,
    extracted: list[tuple[SourceSpec, SourceResult]],
) -> list[LoadResult]:
    """Keyed loads of the catalog (synced: a row deleted from a seed leaves the table), then every frame of
    every source result by its table name (`warehouse.load.load_frames`: upserts, replacements as syncs)."""
    loads = [
        sync(con, AI_EVENTS, events, run_id=run_id, source="seeds"),
        sync(con, UNIVERSE, universe, run_id=run_id, source="seeds"),
        electricity.load_datacentre_seed(con, run_id),
    ]
    for source, result in extracted:
        loads += load_frames(
            con,
            result.frames,
            run_id=run_id,
            source=result.source,
            replacements=result.replacements,
            chunk_rows=source.load_chunk_rows,
        )
    return loads


@task(name="electricity", cache_policy=NO_CACHE)
def electricity_marts(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[list[LoadResult], list[SourceWarning]]:
    """Recompute the electricity marts (after the event study: the Jevons check reads marts.event_impact), with
    the weather stage's adjusted columns (flows.weather: task `weather`) before they are written."""
    marts = electricity.compute_electricity_marts(con)
    adjusted = weather.weather_stage(con, run_id, marts)
    loads = electricity.write_electricity_marts(con, run_id, adjusted.electricity) + adjusted.loads
    return loads, marts.warnings + adjusted.warnings


@task(name="compute-event-study", cache_policy=NO_CACHE)
def compute_event_study(con: duckdb.DuckDBPyConnection, config: EventStudyConfig, inputs: StudyInputs) -> DenseStudy:
    """Every model's abnormal returns and CARs, and the group tests over every catalog event and universe ticker,
    on the dense engine (transforms.event_study: the reference pipeline's numbers, tested to 1e-9), from the
    returns of flows.shocks.study_inputs (history_from applied)."""
    return run_dense_study(inputs.returns, inputs.events, inputs.universe, config)


@task(name="write-marts", cache_policy=NO_CACHE)
def write_marts(
    con: duckdb.DuckDBPyConnection, run_id: str, result: EventStudyResult, groups: pl.DataFrame
) -> list[LoadResult]:
    """Make the marts equal the fresh computation, touching only rows that changed."""
    return [
        sync(con, GROUP_IMPACT, stable_floats(groups), run_id=run_id, source="transform"),
        sync(con, ABNORMAL_RETURNS, stable_floats(result.abnormal_returns), run_id=run_id, source="transform"),
        sync(con, EVENT_IMPACT, stable_floats(result.event_impact), run_id=run_id, source="transform"),
        sync(con, EVENT_SKIPS, result.skips, run_id=run_id, source="transform"),
    ]


def stable_floats(frame: pl.DataFrame, digits: int = 12) -> pl.DataFrame:
    """Round floats to 12 significant digits: multi-threaded sums differ in the last bits from run to run, and
    a re-run must leave the marts identical (and report 0 updated rows)."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    return frame.with_columns(pl.col(floats).round_sig_figs(digits))


@task(name="check-quality", cache_policy=NO_CACHE)
def check_quality(con: duckdb.DuckDBPyConnection, run_id: str) -> list[SourceWarning]:
    """Data-quality checks on the staged warehouse; a 'fail' policy stops the run before publication."""
    return record_and_enforce(con, run_id, run_checks(con, date.today()))


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def write_artifacts(path: Path, run_id: str) -> list[str]:
    """UI artifacts from the published warehouse; never fails the run (the data is already published)."""
    try:
        return publish_artifacts(path, run_id)
    except Exception as exc:
        get_run_logger().warning("artifacts not written: %s: %s", type(exc).__name__, exc)
        return []


@task(name="impact-report", cache_policy=NO_CACHE)
def write_impact_report(path: Path) -> str | None:
    """The impact report (HTML + PNG charts in <warehouse folder>/reports) and its `impact-report` artifact,
    from the published warehouse; never fails the run (the data is already published): a logged warning."""
    try:
        from flows.report import build_report, publish_report_artifact

        result = build_report(path, path.parent / "reports")
        publish_report_artifact(result)
        return str(result.html_path)
    except Exception as exc:
        get_run_logger().warning("impact report not written: %s: %s", type(exc).__name__, exc)
        return None


def headline(event_impact: pl.DataFrame, n: int = 5) -> tuple[str | None, list[dict[str, Any]]]:
    """The most recent event with day-0 results and its n largest absolute day-0 abnormal returns."""
    day0 = event_impact.filter(
        (pl.col("window_start") == 0)
        & (pl.col("window_end") == 0)
        & pl.col("car").is_not_null()
        & (pl.col("model") == MODEL_MARKET)
    )
    if day0.is_empty():
        return None, []
    latest = day0.sort(["day0", "event_id"]).row(-1, named=True)["event_id"]
    moves = (
        day0.filter(pl.col("event_id") == latest)
        .sort(pl.col("car").abs(), descending=True)
        .head(n)
        .select("event_id", "day0", "ticker", "group", "raw_return", "car", "car_t", "p_value")
    )
    return str(latest), moves.to_dicts()


def _run_id() -> str:
    current = flow_run.get_id()
    return str(current) if current else uuid.uuid4().hex


def _run_name() -> str:
    return f"{FLOW_NAME}-{datetime.now(UTC).date().isoformat()}"


def record_failure(
    path: Path, run_id: str, started: datetime, parameters: dict[str, Any], error: BaseException
) -> None:
    """Record a failed run in ops.runs with a separate small publication; never masks the original error."""
    try:
        with staged_writer(path, lock_wait_s=5) as con:
            record_run(
                con,
                run_id=run_id,
                flow=FLOW_NAME,
                started_at=started,
                status="failed",
                parameters=parameters,
                summary={"error": f"{type(error).__name__}: {error}"},
            )
    except Exception as exc:  # the original error matters more than the bookkeeping
        get_run_logger().warning("could not record the failed run in ops.runs: %s", exc)


@flow(name=FLOW_NAME, flow_run_name=_run_name, log_prints=False)
def daily(
    prices_from: str | None = None,
    electricity_from: str | None = None,
    warehouse: str | None = None,
    start: date | None = None,
    end: date | None = None,
    events_csv: str | None = None,
    universe_csv: str | None = None,
    require_electricity: bool = False,
    report: bool = True,
    export_to: str | None = None,
    weather_from: str | None = None,
    require_weather: bool = False,
) -> RunSummary:
    """Load seeds and prices, compute the event study, publish the warehouse; returns the run summary.

    `prices_from` is the CSV price source's registry option (flows.sources.registry): each registered
    option is a parameter here, so a new file source adds its keyword (and its entry in `parameters`).
    `report=False` skips the HTML impact report (about 5 s of charts) for runs that only need the tables.
    `export_to` (a folder) ends the run with a Parquet export of the published warehouse (flows.export_task)."""
    logger = get_run_logger()
    path = resolve_path(warehouse)
    run_id = _run_id()
    started = datetime.now(UTC)
    parameters = {
        "prices_from": prices_from,
        "electricity_from": electricity_from,
        "warehouse": str(path),
        "start": start,
        "end": end,
        "events_csv": events_csv,
        "universe_csv": universe_csv,
        "require_electricity": require_electricity,
        "export_to": export_to,
        "weather_from": weather_from,
        "require_weather": require_weather,
    }
    summary = RunSummary(run_id=run_id, warehouse=str(path))

    events, universe = read_seed_files(
        Path(events_csv) if events_csv else seeds.EVENTS_CSV,
        Path(universe_csv) if universe_csv else seeds.UNIVERSE_CSV,
    )
    values = {option.name: parameters[option.name] for option in registry.options()}
    ctx = ExtractContext(warehouse=path, tickers=universe["ticker"].to_list(), start=start, end=end)
    try:
        required = {KIND_ELECTRICITY} if require_electricity else set()
        extracted = extract_all(values, ctx, required | ({KIND_WEATHER} if require_weather else set()))
        for _, extract_result in extracted:
            summary.warnings.extend(extract_result.warnings)
            summary.rejected_rows += extract_result.rejected_rows
        with warehouse_writer_slot(), staged_writer(path) as con:  # one writer per warehouse across workers
            summary.loads.extend(load_core(con, run_id, events, universe, extracted))
            inputs = study_inputs(con)
            config = EventStudyConfig(models=MODELS)
            study = compute_event_study(con, config, inputs)
            result, groups = study.result, study.group_impact
            summary.loads.extend(write_marts(con, run_id, result, groups))
            summary.loads.extend(compute_shocks(con, run_id, inputs, config.car_windows))
            del inputs
            summary.warnings.extend(
                SourceWarning("event_study", f"{r['event_id']}/{r['ticker']}", r["reason_code"], r["reason"])
                # no_prices repeats the source's ticker_missing warning once per event: leave it to marts.event_skips
                for r in result.skips.filter(pl.col("reason_code") != "no_prices").iter_rows(named=True)
            )
            summary.warnings.extend(
                SourceWarning("event_study", r["subject"], r["code"], r["message"])
                for r in result.warnings.iter_rows(named=True)
            )
            electricity_loads, electricity_warnings = electricity_marts(con, run_id)
            summary.loads.extend(electricity_loads)
            summary.warnings.extend(electricity_warnings)
            summary.warnings.extend(check_quality(con, run_id))
            summary.headline_event, summary.headline_moves = headline(result.event_impact)
            summary.status = "completed_with_warnings" if summary.warnings else "completed"
            record_warnings(con, run_id, ((w.stage, w.subject, w.code, w.message) for w in summary.warnings))
            record_run(
                con,
                run_id=run_id,
                flow=FLOW_NAME,
                started_at=started,
                status=summary.status,
                parameters=parameters,
                summary=summary.to_json(),
            )
    except JevonsError as exc:
        record_failure(path, run_id, started, parameters, exc)
        raise
    for lr in summary.loads:
        logger.info(
            "%s: %d in, %d inserted, %d updated, %d deleted", lr.table, lr.rows_in, lr.inserted, lr.updated, lr.deleted
        )
    logger.info("published %s (%s, %d warnings)", path, summary.status, len(summary.warnings))
    write_artifacts(path, run_id)
    summary.report = write_impact_report(path) if report else None
    if export_to:  # after publication, read-only: a failed export fails the run but leaves the tables published
        from flows.export_task import export_task

        exported = export_task(path, export_to)
        summary.export = f"{exported['tables']} tables ({exported['rows']} rows) in {exported['out']}"
    return summary
