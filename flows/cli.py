"""The `jevons` command line: run the pipeline, query the warehouse, list its tables.

User mistakes (a bad seed row, a bad price file, a bad argument) print one clear message and exit with code 2;
source and warehouse failures exit with 1; neither prints a traceback (set JEVONS_DEBUG=1 to see one).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from flows.cli_shocks import confounded_windows, shocks
from flows.prefect_settings import apply_prefect_defaults
from flows.sources import registry
from warehouse.errors import JevonsError, JevonsInputError


def with_source_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command one `--<flag> PATH` option per registered source option (flows.sources.registry).

    The command takes them as `**sources`; the options are added to its signature, which typer reads, so a
    new file source's option appears in `jevons run` and `jevons serve` with no change here.
    """
    signature = inspect.signature(command, eval_str=True)  # the module's annotations are strings
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    added = []
    for option in registry.options():
        annotation = Annotated[Path | None, typer.Option(option.flag, help=option.help, metavar=option.metavar)]
        added.append(
            inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        )
        command.__annotations__[option.name] = annotation
    keyword_only = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    command.__signature__ = signature.replace(parameters=[*added, *keyword_only])  # type: ignore[attr-defined]
    return command


app = typer.Typer(
    name="jevons",
    help="Measure what AI-efficiency shocks do to energy markets: prices and EIA data in, impact tables out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

WarehouseOpt = Annotated[
    str | None,
    typer.Option("--warehouse", "-w", help="DuckDB file (default $JEVONS_WAREHOUSE or data/jevons.duckdb)"),
]


def parse_date(value: str | None, option: str) -> date | None:
    """An ISO date argument, or a JevonsInputError naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise JevonsInputError(f"{option}: {value!r} is not a date (use YYYY-MM-DD)") from None


def check_range(start: date | None, end: date | None, today: date | None = None) -> None:
    """Reject start after end and dates in the future."""
    today = today or date.today()
    for name, value in (("--start", start), ("--end", end)):
        if value is not None and value > today:
            raise JevonsInputError(f"{name}: {value} is in the future (today is {today})")
    if start is not None and end is not None and start > end:
        raise JevonsInputError(f"--start {start} is after --end {end}")


def _pct(value: Any) -> str:
    return "" if value is None else f"{value * 100:+.2f}%"


def print_summary(summary: Any) -> None:
    """Rows loaded per table, warnings, and the headline event's largest day-0 abnormal moves."""
    console.print(f"[bold]jevons run {summary.run_id}[/bold] → {summary.warehouse} ({summary.status})")
    loads = RichTable("table", "rows in", "inserted", "updated", "deleted", title="Loads")
    for lr in summary.loads:
        loads.add_row(lr.table, str(lr.rows_in), str(lr.inserted), str(lr.updated), str(lr.deleted))
    console.print(loads)
    if summary.rejected_rows:
        console.print(f"[yellow]{summary.rejected_rows} source rows rejected (see ops.warnings)[/yellow]")
    if summary.warnings:
        by_code: dict[str, list[str]] = {}
        for w in summary.warnings:
            by_code.setdefault(w.code, []).append(w.subject)
        console.print(
            f'[yellow]{len(summary.warnings)} warnings[/yellow] (details: jevons sql "SELECT * FROM ops.warnings"):'
        )
        for code, subjects in sorted(by_code.items()):
            shown = ", ".join(subjects[:8]) + (f" … (+{len(subjects) - 8})" if len(subjects) > 8 else "")
            console.print(f"  {code}: {shown}")
    if summary.headline_event:
        moves = RichTable(
            "ticker",
            "group",
            "raw return",
            "abnormal",
            "t",
            "p",
            title=f"Largest day-0 abnormal moves: {summary.headline_event} "
            f"(day 0 = {summary.headline_moves[0]['day0']})",
        )
        for m in summary.headline_moves:
            moves.add_row(
                m["ticker"],
                m["group"],
                _pct(m["raw_return"]),
                _pct(m["car"]),
                f"{m['car_t']:.2f}",
                f"{m['p_value']:.4f}",
            )
        console.print(moves)
    else:
        console.print("No event has day-0 results yet (see marts.event_skips).")
    if getattr(summary, "report", None):
        console.print(f"Impact report: {summary.report}", highlight=False, soft_wrap=True)
    if getattr(summary, "export", None):
        console.print(f"Parquet export: {summary.export}", highlight=False, soft_wrap=True)


@app.command()
@with_source_options
def run(
    warehouse: WarehouseOpt = None,
    start: Annotated[str | None, typer.Option(help="First price date to load (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, typer.Option(help="Last price date to load (YYYY-MM-DD)")] = None,
    events: Annotated[
        Path | None, typer.Option(help="Event catalog CSV (default warehouse/seeds/ai_events.csv)")
    ] = None,
    universe: Annotated[Path | None, typer.Option(help="Universe CSV (default warehouse/seeds/universe.csv)")] = None,
    require_electricity: Annotated[
        bool,
        typer.Option(
            "--require-electricity",
            help="Fail when there is no valid EIA key ($EIA_API_KEY or Prefect Secret 'eia-api-key') instead of "
            "skipping the electricity stage with a warning",
        ),
    ] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip the HTML impact report (tables and artifacts still update)")
    ] = False,
    export_to: Annotated[
        Path | None,
        typer.Option("--export-to", metavar="DIR", help="Also export core and marts as Parquet to DIR (jevons export)"),
    ] = None,
    require_weather: Annotated[
        bool,
        typer.Option(
            "--require-weather",
            help="Fail when NOAA cannot be reached (no --weather-from) instead of a warning and stored weather",
        ),
    ] = False,
    **sources: Path | None,
) -> None:
    """Run the daily pipeline once: load prices and seeds, compute the event study, publish the warehouse.

    Without a source option each kind of data comes from its live source (Yahoo Finance, the EIA API)."""
    start_d, end_d = parse_date(start, "--start"), parse_date(end, "--end")
    check_range(start_d, end_d)
    values = {name: str(value) if value is not None else None for name, value in sources.items()}
    for kind in registry.kinds():
        registry.select(kind, values)  # two sources of one kind given: an input error, before anything starts
    from flows.prefect_api import early_prefect_api
    from flows.signals import stop_on_signals

    with early_prefect_api() as api, stop_on_signals(api, warehouse, values):
        # Validate the seeds before the flow starts: a bad row fails in a second, naming file, line and field.
        from warehouse import seeds

        seeds.read_events(events or seeds.EVENTS_CSV)
        seeds.read_universe(universe or seeds.UNIVERSE_CSV)
        # Same for the source files (a cheap read): one clear message for a bad file, not a task traceback.
        registry.validate_options(values)
        from flows.daily import daily

        with api.use():
            summary = daily(
                **values,
                warehouse=warehouse,
                start=start_d,
                end=end_d,
                events_csv=str(events) if events else None,
                universe_csv=str(universe) if universe else None,
                require_electricity=require_electricity,
                require_weather=require_weather,
                report=not no_report,
                export_to=str(export_to.resolve()) if export_to else None,
            )
    print_summary(summary)


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First date to load (YYYY-MM-DD)")],
    end: Annotated[str | None, typer.Option(help="Last date to load (YYYY-MM-DD, default: today)")] = None,
    tickers: Annotated[
        list[str] | None, typer.Option(help="Tickers, repeated or comma-separated (default: the universe)")
    ] = None,
    warehouse: WarehouseOpt = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Tickers per chunk", min=1)] = 100,
) -> None:
    """Load live daily prices (Yahoo Finance) for a date range, chunk by chunk, with a progress bar."""
    start_d, end_d = parse_date(start, "--start") or date.min, parse_date(end, "--end")
    check_range(start_d, end_d)
    from flows.backfill import backfill_with_progress

    names = [t for item in tickers or [] for t in item.split(",") if t.strip()] or None
    backfill_with_progress(start_d, end_d, names, warehouse, chunk_size, console)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only SQL statement (SELECT, DESCRIBE, SHOW, ...)")],
    warehouse: WarehouseOpt = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format")] = OutputFormat.table,
    limit: Annotated[int, typer.Option(help="Rows shown in table format")] = 200,
) -> None:
    """Run ad hoc SQL against the published warehouse, read-only."""
    from warehouse.query import run_read_only_query

    frame = run_read_only_query(warehouse, query)
    if fmt is OutputFormat.csv:
        sys.stdout.write(frame.write_csv())
    elif fmt is OutputFormat.json:
        sys.stdout.write(frame.write_json() + "\n")
    else:
        out = RichTable(*frame.columns, title=f"{frame.height} rows")
        for row in frame.head(limit).iter_rows():
            out.add_row(*["" if v is None else str(v) for v in row])
        console.print(out)
        if frame.height > limit:
            console.print(f"({frame.height - limit} more rows; use --limit or --format csv)")


@app.command()
def tables(
    warehouse: WarehouseOpt = None,
    columns: Annotated[bool, typer.Option("--columns", help="Also list every column with its comment")] = False,
) -> None:
    """List the warehouse's tables with their descriptions (from the DuckDB comments)."""
    from warehouse.query import describe_tables

    tbls, cols = describe_tables(warehouse)
    out = RichTable("table", "rows", "description", title="jevons warehouse")
    for r in tbls.iter_rows(named=True):
        out.add_row(r["table"], str(r["rows"]), r["description"] or "")
    console.print(out)
    if columns:
        col_table = RichTable("table", "column", "type", "description")
        for r in cols.iter_rows(named=True):
            col_table.add_row(r["table"], r["column"], r["type"], r["description"] or "")
        console.print(col_table)


@app.command()
def report(
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            "-e",
            help="Event id to report, repeatable (default: the 6 most recent efficiency events with results, "
            "plus deepseek_selloff)",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for impact_report.html and the PNG charts")] = Path(
        "reports"
    ),
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the impact report: one self-contained HTML file plus PNG charts, from the marts."""
    from flows.report import build_report

    ids = [e.strip() for item in event or [] for e in item.split(",") if e.strip()] or None
    result = build_report(warehouse, out, ids)
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
    console.print(
        f"report: {result.html_path} ({len(result.charts)} charts; events: {', '.join(result.event_ids) or 'none'})",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def impact(
    event: Annotated[str, typer.Option("--event", help="Catalog event id, e.g. deepseek_selloff")],
    tickers: Annotated[str, typer.Option("--tickers", help="Comma-separated tickers forming one portfolio")],
    model: Annotated[str, typer.Option(help="market, market_adjusted or constant_mean")] = "market",
    warehouse: WarehouseOpt = None,
) -> None:
    """Event study and every group test for a portfolio you name, on the published warehouse (read-only)."""
    from flows.portfolio import portfolio_impact

    per_ticker, groups = portfolio_impact(warehouse, event, tickers.split(","), model)
    table = RichTable("ticker", "window", "CAR", "t", "SCAR", "p (SCAR)", title=f"{event}: per ticker ({model} model)")
    for r in per_ticker.sort("ticker", "window_start", "window_end").iter_rows(named=True):
        table.add_row(
            r["ticker"],
            f"[{r['window_start']},{r['window_end']}]",
            _pct(r["car"]),
            "" if r["car_t"] is None else f"{r['car_t']:.2f}",
            "" if r["scar"] is None else f"{r['scar']:.2f}",
            "" if r["scar_p"] is None else f"{r['scar_p']:.4f}",
        )
    console.print(table)
    tests = RichTable(
        "window",
        "n",
        "CAAR",
        "median",
        "neg",
        "csect p",
        "Patell p",
        "BMP p",
        "KP-BMP p",
        "rank p",
        "sign p",
        title="Portfolio tests (KP-BMP adjusts BMP for the cross-correlation of a shared event date: trust it)",
    )

    def p(v: float | None) -> str:
        return "" if v is None else f"{v:.4f}"

    for r in groups.iter_rows(named=True):
        tests.add_row(
            f"[{r['window_start']},{r['window_end']}]",
            str(r["n"]),
            _pct(r["caar"]),
            _pct(r["median_car"]),
            f"{r['share_negative']:.0%}",
            p(r["csect_p"]),
            p(r["patell_p"]),
            p(r["bmp_p"]),
            p(r["kp_bmp_p"]),
            p(r["rank_p"]),
            p(r["gsign_p"]),
        )
    console.print(tests)
    if groups.height and bool(groups["n_below_min"].any()):  # docs/methods.md: 1 degree of freedom at N = 2
        console.print(
            f"[yellow]note:[/yellow] the portfolio has n={max(groups['n'].to_list())} ticker(s) with results: "
            "group tests with N < 3 are not evidence (docs/methods.md); the numbers above are shown, not a finding",
            highlight=False,
        )
    held = confounded_windows(warehouse, event)
    if held:  # such a window's CAR mixes the other event's reaction (marts.event_overlaps)
        console.print(f"[yellow]windows holding another catalogued event:[/yellow] {'; '.join(held)}", highlight=False)


@app.command()
@with_source_options
def serve(
    cron: Annotated[str | None, typer.Option(help="Cron schedule of the daily run (default: prefect.yaml's)")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone of the schedule (default: prefect.yaml's)")
    ] = None,
    warehouse: WarehouseOpt = None,
    **sources: Path | None,
) -> None:
    """Serve prefect.yaml's deployments (`daily` on its schedule, `backfill`) until stopped (Ctrl-C).

    A source option (e.g. --prices-from) makes the scheduled runs read that source instead of the live one."""
    from flows.deployments import serve_deployments, validate_schedule

    if cron is not None or timezone is not None:
        validate_schedule(cron or "30 6 * * *", timezone or "UTC")  # fail fast; the deployment fills the rest
    options = {name: str(value.resolve()) if value is not None else None for name, value in sources.items()}
    serve_deployments(cron, timezone, options, warehouse)


@app.command()
def status(
    warehouse: WarehouseOpt = None,
    max_stale_days: Annotated[
        int, typer.Option("--max-stale-days", help="Business days a source may lag before it is stale", min=0)
    ] = 5,
) -> None:
    """Freshness per source, the last run, row counts, open warnings; exit 1 when stale or failed."""
    from warehouse.status import read_status

    st = read_status(warehouse, max_stale_days=max_stale_days)
    console.print(f"[bold]jevons status[/bold] {st.warehouse} (expected data through {st.expected_session})")
    fresh = RichTable("source", "table", "last loaded", "stale", title="Freshness")
    for f in st.freshness:
        fresh.add_row(f.source, f.table_name, str(f.last), "[red]yes[/red]" if f.stale else "no")
    console.print(fresh)
    if st.last_run:
        r = st.last_run
        console.print(
            f"Last run {r['run_id']} ({r['flow']}): {r['status']}, started {r['started_at']}, "
            f"finished {r['finished_at']}" + (f" — {r['error']}" if r.get("error") else "")
        )
    counts = RichTable("table", "rows", title="Row counts")
    for name, n in st.row_counts.items():
        counts.add_row(name, str(n))
    console.print(counts)
    if st.open_warnings:
        console.print("Warnings of the last run: " + ", ".join(f"{c} ({n})" for c, n in st.open_warnings.items()))
    for problem in st.problems:
        err_console.print(f"[red]problem:[/red] {problem}", highlight=False, soft_wrap=True)
    if st.exit_code:
        raise typer.Exit(st.exit_code)
    console.print("[green]healthy[/green]")


from flows.cli_export import export  # noqa: E402 (the command module needs nothing above)

app.command()(export)
app.command()(shocks)  # `jevons shocks`: flows/cli_shocks.py


def is_click_exception(exc: BaseException) -> bool:
    """Whether `exc` is click's ClickException (usage errors) from whichever click typer uses: typer 0.29
    vendors click as `typer._click`, so an isinstance check against the `click` package never matches."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)


def run_cli(argv: list[str] | None = None) -> int:
    """Run the CLI on argv and return the exit code: friendly errors, 2 for user mistakes, no tracebacks."""
    apply_prefect_defaults()
    try:
        # with standalone_mode=False, click returns typer.Exit's code instead of raising it
        result = app(args=argv, standalone_mode=False)
    except JevonsError as exc:
        if os.environ.get("JEVONS_DEBUG"):
            raise
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        return 1
    except Exception as exc:
        if is_click_exception(exc):  # usage errors carry their own exit code (2)
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        raise
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point."""
    raise SystemExit(run_cli())


if __name__ == "__main__":
    main()
