"""Scheduled runs: the `daily` deployment with a cron schedule and a parameterised `backfill` deployment.

`jevons serve` serves both from this process (Prefect's `serve`: no work pool needed; runs until stopped).
`prefect.yaml` declares the same deployments for `prefect deploy` onto a process work pool, the path to running
workers on other machines. Overlapping runs never both write: the warehouse run lock makes the second stop with
"another jevons run (pid N) is writing" (and runs are idempotent, so a late or repeated run is harmless).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import flow, serve
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment

from flows.daily import daily
from warehouse.errors import JevonsInputError

DEFAULT_CRON = "30 6 * * *"
DEFAULT_TIMEZONE = "UTC"


def validate_schedule(cron: str, timezone: str) -> CronSchedule:
    """A CronSchedule, or a JevonsInputError naming the bad cron string or time zone (exit code 2)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise JevonsInputError(
            f"--timezone: {timezone!r} is not an IANA time zone (e.g. UTC, America/New_York)"
        ) from None
    try:
        return CronSchedule(cron=cron, timezone=timezone)
    except ValueError:
        raise JevonsInputError(
            f"--cron: {cron!r} is not a valid cron string (five fields: minute hour day month weekday, "
            "e.g. '30 6 * * *')"
        ) from None


@flow(name="backfill", flow_run_name="backfill-{start}")
def backfill_flow(
    start: date,
    end: date | None = None,
    tickers: list[str] | None = None,
    warehouse: str | None = None,
    chunk_size: int = 100,
) -> dict[str, object]:
    """Live Yahoo prices for [start, end], chunk by chunk (see `jevons backfill`); returns the summary."""
    from flows.live_prices import backfill

    return backfill(start, end, tickers, warehouse, chunk_size).to_json()


def build_deployments(
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    prices_from: str | None = None,
    warehouse: str | None = None,
) -> list[RunnerDeployment]:
    """The `daily` deployment on its schedule and the unscheduled `backfill` deployment."""
    schedule = validate_schedule(cron, timezone)
    parameters: dict[str, object] = {}
    if prices_from:
        parameters["prices_from"] = prices_from
    if warehouse:
        parameters["warehouse"] = warehouse
    daily_deployment = daily.to_deployment(
        name="daily",
        schedules=[schedule],
        parameters=parameters,
        description="Daily jevons run: prices, electricity, event study, impact tables (idempotent).",
        tags=["jevons"],
    )
    backfill_deployment = backfill_flow.to_deployment(
        name="backfill",
        parameters={"warehouse": warehouse} if warehouse else {},
        description="Load live prices for a date range: give start (and end, tickers) when triggering.",
        tags=["jevons"],
    )
    # to_deployment is sync-compatible: called from sync code it returns the deployment, not a coroutine
    assert isinstance(daily_deployment, RunnerDeployment) and isinstance(backfill_deployment, RunnerDeployment)
    return [daily_deployment, backfill_deployment]


def serve_deployments(
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    prices_from: str | None = None,
    warehouse: str | None = None,
) -> None:
    """Serve both deployments until interrupted."""
    serve(*build_deployments(cron, timezone, prices_from, warehouse))


if __name__ == "__main__":
    serve_deployments()
